"""Precision (fp32 / bf16 autocast) and memory layout (NCHW / channels_last), chosen by measurement.

On a small CPU, bf16 autocast and channels_last can double or triple a CNN's training speed, or slow it
down, depending on the CPU and the model. ``auto`` times a few real training steps of each candidate on
a throw-away copy of the model and picks the fastest; bf16 is only chosen when it beats the best fp32
layout by a clear margin, because it costs precision. RNG states are restored afterwards, so measuring
never changes a seeded run.

Only precisions the hardware runs natively are probed: on a CPU, bf16 is a candidate only with native bf16
instructions (AVX-512 BF16 or AMX on x86, the BF16 extension on ARM); elsewhere it is emulated and runs
several times slower than fp32 (about 8× on an AVX2-only CPU), so timing it only costs set-up time.
``CNNLAB_CPU_BF16=0``/``1`` overrides the detection. The probe spends at most ``PROBE_BUDGET`` seconds
(warm-up included). Its outcome is cached per model architecture, input, batch size, device and machine
(CPU model, kernel capability, threads, torch version, host): in the process, and on disk in
``$CNNLAB_CACHE/autotune.json`` (default ``~/.cache/cnnlab``; ``CNNLAB_CACHE=off`` keeps it in memory
only), so a second ``fit`` of the same model, in this process or a later one, starts at once.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import hashlib
import importlib
import json
import os
import platform
import time
from pathlib import Path
from typing import Callable, Dict, Optional, Tuple

import torch
import torch.nn as nn

from cnnlab.errors import ConfigError
from cnnlab.io import atomic_write

BF16_MARGIN = 0.9  # bf16 must take < 90% of the best fp32 step time to be worth its lower precision
BF16_ENV = "CNNLAB_CPU_BF16"

PROBE_BUDGET = 0.5  # seconds a probe may spend, warm-up steps included (at least one timed round runs)
CACHE_ENV = "CNNLAB_CACHE"
CACHE_FILE = "autotune.json"
CACHE_ENTRIES = 256  # the disk cache keeps the most recent decisions

_CACHE: Dict[str, Tuple[str, str, Dict[str, float]]] = {}  # probe key -> (precision, layout, timings)


def autocast(precision: str, device: torch.device):
    """The autocast context of ``precision`` ("bf16" -> bfloat16 autocast; "fp32" -> nothing)."""
    if precision == "bf16":
        return torch.autocast(device_type=device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


def memory_format(layout: str) -> torch.memory_format:
    return torch.channels_last if layout == "channels_last" else torch.contiguous_format


def bf16_supported(device: torch.device) -> bool:
    """Whether bf16 autocast runs at all on ``device`` (natively or emulated): an explicit choice is allowed."""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    return device.type == "cpu"


@functools.lru_cache(maxsize=1)
def _cpuinfo() -> Dict[str, str]:
    """The first value of each key in Linux's /proc/cpuinfo ({} where that file cannot be read)."""
    info: Dict[str, str] = {}
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                key, sep, value = line.partition(":")
                if sep:
                    info.setdefault(key.strip(), value.strip())
    except OSError:
        pass
    return info


def _cpu_flags() -> Optional[set]:
    """The CPU flags Linux reports (x86 ``flags``, ARM ``Features``), or None where they cannot be read."""
    info = _cpuinfo()
    line = info.get("flags", info.get("Features"))
    return set(line.split()) if line is not None else None


@functools.lru_cache(maxsize=1)
def _detect_cpu_bf16() -> bool:
    # older torch builds expose the x86 checks directly; 2.13 does not, so fall back to the CPU flags
    for name in ("_is_avx512_bf16_supported", "_is_amx_tile_supported"):
        check = getattr(getattr(torch._C, "_cpu", None), name, None)
        try:
            if check is not None and check():
                return True
        except Exception:  # noqa: BLE001  (a probe must never break training)
            pass
    try:
        onednn = bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())  # bf16 kernels usable (maybe emulated)
    except Exception:  # noqa: BLE001
        onednn = False
    if not onednn:
        return False
    flags = _cpu_flags()
    if platform.machine().lower() in ("x86_64", "amd64", "i386", "i686"):
        # oneDNN also says yes on plain AVX-512 (bf16 by conversion); native means the bf16 dot products
        return flags is not None and bool(flags & {"avx512_bf16", "amx_bf16"})
    return flags is None or "bf16" in flags  # ARM: oneDNN's answer already follows the BF16 extension


def cpu_bf16_native() -> bool:
    """Whether this CPU runs bf16 natively (``CNNLAB_CPU_BF16=0``/``1`` overrides the detection).

    Raises:
        ConfigError: ``CNNLAB_CPU_BF16`` is set to something other than 0 or 1.
    """
    env = os.environ.get(BF16_ENV, "").strip()
    if env:
        if env not in ("0", "1"):
            raise ConfigError(f"`{BF16_ENV}` must be 0 or 1; got {env!r}")
        return env == "1"
    return _detect_cpu_bf16()


def bf16_native(device: torch.device) -> bool:
    """Whether bf16 is worth measuring on ``device``: a CUDA GPU with bf16, or a CPU with native bf16."""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    return device.type == "cpu" and cpu_bf16_native()


def clear_cache(disk: bool = True) -> None:
    """Forget every cached probe result (the next ``auto`` resolve measures again); ``disk`` also empties the file."""
    _CACHE.clear()
    path = cache_path()
    if disk and path is not None and path.exists():
        path.unlink()


def cache_path() -> Optional[Path]:
    """The disk cache of probe decisions, or None when ``CNNLAB_CACHE=off``."""
    root = os.environ.get(CACHE_ENV, "").strip()
    if root.lower() in ("off", "0", "none"):
        return None
    return (Path(root).expanduser() if root else Path.home() / ".cache" / "cnnlab") / CACHE_FILE


def _read_disk() -> dict:
    path = cache_path()
    if path is None:
        return {}
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        entries = doc.get("entries", {}) if isinstance(doc, dict) and doc.get("version") == 1 else {}
        return entries if isinstance(entries, dict) else {}
    except (OSError, ValueError):  # missing or corrupt: measured again and rewritten
        return {}


def _write_disk(key: str, entry: dict) -> None:
    """Add one decision to the disk cache (written atomically)."""
    path = cache_path()
    if path is None:
        return
    entries = _read_disk()
    entries.pop(key, None)
    entries[key] = entry
    entries = dict(list(entries.items())[-CACHE_ENTRIES:])
    with contextlib.suppress(OSError):  # a cache that cannot be written only costs the next probe
        with atomic_write(path, "w", encoding="utf-8") as fh:
            json.dump({"version": 1, "entries": entries}, fh, indent=1)


def _cpu_model() -> str:
    info = _cpuinfo()
    return (info.get("model name") or info.get("Hardware") or info.get("CPU part")
            or platform.processor() or platform.machine())


def cpu_description() -> str:
    """The CPU for a benchmark's report: model, core count, widest vector ISA, native bf16."""
    flags = _cpu_flags() or set()
    isa = "AVX-512" if "avx512f" in flags else ("AVX2" if "avx2" in flags else "no AVX2")
    bf16 = " + bf16" if flags & {"avx512_bf16", "amx_bf16"} else ""
    return f"{_cpu_model()} ({os.cpu_count()} CPUs, {isa}{bf16})"


def _architecture(model: nn.Module) -> str:
    """A fingerprint of the model's structure: module reprs (class names, strides, ...) and parameter shapes."""
    text = repr(model) + repr([(k, tuple(v.shape), str(v.dtype)) for k, v in model.state_dict().items()])
    return hashlib.sha256(text.encode()).hexdigest()


def _capability(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    capability = torch.backends.cpu.get_cpu_capability()
    return (f"{_cpu_model()}/{capability}/bf16={int(bf16_native(device))}/threads={torch.get_num_threads()}/"
            f"torch={torch.__version__}/host={platform.node()}")


def _default_loss(output: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return nn.functional.cross_entropy(output, y)


class _Candidate:
    """A throw-away copy of the model in one precision/layout, ready to time training steps."""

    def __init__(self, model: nn.Module, x: torch.Tensor, precision: str, layout: str,
                 loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] = _default_loss):
        fmt = memory_format(layout)
        self.model = copy.deepcopy(model).to(memory_format=fmt).train()
        self.opt = torch.optim.SGD(self.model.parameters(), lr=0.0)
        self.x = x.contiguous(memory_format=fmt)
        self.precision = precision
        self.loss_fn = loss_fn

    def step_time(self, y: torch.Tensor, steps: int) -> float:
        start = time.perf_counter()
        for _ in range(steps):
            with autocast(self.precision, self.x.device):
                out = self.model(self.x)
                loss = self.loss_fn(out.float() if torch.is_tensor(out) else out, y)
            self.opt.zero_grad(set_to_none=True)
            loss.backward()
            self.opt.step()
        if self.x.device.type == "cuda":
            torch.cuda.synchronize()
        return (time.perf_counter() - start) / steps


def _batch(sample, input_shape, num_classes: int, device: torch.device, batch_size: int):
    """The batch to time on: ``sample`` (cut to ``batch_size``) or random images and class labels."""
    if sample is None:
        x = torch.rand(batch_size, *input_shape, device=device)
        y = torch.randint(0, max(1, num_classes), (batch_size,), device=device)
        return x, y
    if not isinstance(sample, (tuple, list)) or len(sample) != 2 or not all(torch.is_tensor(t) for t in sample):
        raise ConfigError(f"`sample` must be a pair of tensors (x, y); got {type(sample).__name__}")
    x, y = sample
    return x[:batch_size].to(device), y[:batch_size].to(device)


SLOW_STEP = 0.25  # seconds: a warm-up step slower than this times one step per round


def measure(model: nn.Module, input_shape, num_classes: int, device: torch.device, batch_size: int = 128,
            precisions=("fp32", "bf16"), layouts=("nchw", "channels_last"), rounds: int = 3,
            steps: int = 2, *, sample: Optional[Tuple[torch.Tensor, torch.Tensor]] = None,
            loss_fn: Optional[Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = None,
            budget: float = PROBE_BUDGET) -> dict[str, float]:
    """Seconds per training step for each "precision/layout" candidate (RNG untouched).

    Candidates are timed in interleaved rounds after one warm-up step each, and each keeps its best round:
    on a shared machine, load spikes then slow every candidate alike instead of the unlucky one. Rounds stop
    once ``budget`` seconds are spent since the probe began (warm-up included; one round always runs), and a
    model whose warm-up step takes longer than ``SLOW_STEP`` seconds is timed with one step per round.

    Args:
        sample: a real batch ``(x, y)`` to time on (token ids, regression targets); default random
            ``input_shape`` images in [0, 1) and labels below ``num_classes``.
        loss_fn: ``loss_fn(output, y) -> scalar``; default cross-entropy.
    """
    results: dict[str, float] = {}
    _import_optimizer_machinery()
    start = time.perf_counter()
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        x, y = _batch(sample, input_shape, num_classes, device, batch_size)
        candidates = {}
        slowest = 0.0
        for precision in precisions:
            if precision == "bf16" and not bf16_supported(device):
                continue
            for layout in layouts:
                try:
                    cand = _Candidate(model, x, precision, layout, loss_fn or _default_loss)
                    slowest = max(slowest, cand.step_time(y, 1))  # warm-up: kernel selection, allocator
                except RuntimeError:  # a kernel missing for this combination: not a candidate
                    continue
                candidates[f"{precision}/{layout}"] = cand
        if slowest > SLOW_STEP:
            steps = 1
        for i in range(rounds):
            if i and time.perf_counter() - start > budget:
                break
            for name, cand in candidates.items():
                t = cand.step_time(y, steps)
                results[name] = min(results.get(name, t), t)
    return results


MALLOC_ENV = "CNNLAB_MALLOC"
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters
MMAP_THRESHOLD = 32 << 20  # glibc's largest allowed value
TRIM_THRESHOLD = 256 << 20

@functools.lru_cache(maxsize=1)
def tune_cpu_allocator() -> str:
    """Keep glibc's malloc from returning and re-faulting training-sized buffers on every step.

    A CNN step on a CPU allocates and frees the same multi-megabyte activations hundreds of times per
    epoch. With glibc's defaults, buffers above the dynamic mmap threshold are mapped and unmapped each
    time, and freed heap tops are trimmed back to the OS, so every step pays page faults to zero fresh
    pages: the lecture CNN trained 35% slower that way (4 epochs x 12,800 MNIST images, 2 AVX2 threads,
    ``benchmarks/short_run.py``). This sets the mmap threshold to 32 MiB and the trim threshold to
    256 MiB (``mallopt``), what PyTorch's CPU tuning guides get by preloading jemalloc or tcmalloc. It is
    process-wide and done once; nothing changes where the user already chose (``MALLOC_*`` variables, a
    preloaded allocator), off glibc, or with ``CNNLAB_MALLOC=0``.

    Returns:
        a short description of what was done, for the run's ``config.json``.
    """
    return _tune_allocator()


def _tune_allocator() -> str:
    if os.environ.get(MALLOC_ENV, "1").strip() == "0":
        return f"unchanged ({MALLOC_ENV}=0)"
    if any(k.startswith("MALLOC_") and k.endswith("_") for k in os.environ) or "LD_PRELOAD" in os.environ:
        return "unchanged (MALLOC_* or LD_PRELOAD set by the user)"
    if platform.system() != "Linux":
        return "unchanged (not Linux/glibc)"
    import ctypes

    try:
        libc = ctypes.CDLL("libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return "unchanged (no glibc mallopt)"
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    if mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD) != 1 or mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD) != 1:
        return "unchanged (mallopt refused)"
    return f"glibc mallopt: mmap threshold {MMAP_THRESHOLD >> 20} MiB, trim threshold {TRIM_THRESHOLD >> 20} MiB"


def _import_optimizer_machinery() -> None:
    """Import what the first ``torch.optim`` step of any program imports (``torch._dynamo``, about 0.8 s on
    a small CPU), so that this one-time cost is not charged to the probe's budget and timings."""
    importlib.import_module("torch._dynamo")


def resolve(precision: str, layout: str, model: nn.Module, input_shape, num_classes: int,
            device: torch.device, batch_size: int, deterministic: bool = False, *,
            sample: Optional[Tuple[torch.Tensor, torch.Tensor]] = None,
            loss_fn: Optional[Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = None):
    """Replace ``"auto"`` choices by measured ones.

    ``auto`` precision measures bf16 only where it runs natively (:func:`bf16_native`); ``auto`` layout
    tries channels_last only for 4-D float inputs. The result is cached per model architecture, input,
    batch size, device and machine, in the process and on disk (:func:`cache_path`): the same resolve again,
    here or in a later process, returns the first one's answer and timings without measuring.

    Args:
        sample: a real batch ``(x, y)`` to time on instead of random images and class labels (needed for
            integer token ids and for targets that are not class indices).
        loss_fn: ``loss_fn(output, y) -> scalar loss`` for the timed steps; default cross-entropy.

    Returns:
        ``(precision, layout, timings)`` where ``timings`` maps candidates to seconds per step ({} when
        nothing was measured). In deterministic mode ``auto`` means fp32 / NCHW without measuring, so the
        run does not depend on timing noise.
    """
    if precision == "bf16" and not bf16_supported(device):
        raise ConfigError(f"`precision` bf16 is not supported on {device}; use fp32")
    if precision != "auto" and layout != "auto":
        return precision, layout, {}
    if deterministic:
        return ("fp32" if precision == "auto" else precision), ("nchw" if layout == "auto" else layout), {}
    if sample is not None:
        x_shape, x_dtype = tuple(sample[0].shape[1:]), sample[0].dtype
    else:
        x_shape, x_dtype = tuple(input_shape), torch.float32
    precisions = (("fp32", "bf16") if bf16_native(device) else ("fp32",)) if precision == "auto" else (precision,)
    images = len(x_shape) == 3 and x_dtype.is_floating_point  # (C, H, W) floats: (N, C, H, W) batches
    layouts = (("nchw", "channels_last") if images else ("nchw",)) if layout == "auto" else (layout,)
    parts = (_architecture(model), x_shape, str(x_dtype), int(batch_size), str(device), _capability(device),
             precisions, layouts, getattr(loss_fn, "__qualname__", repr(loss_fn)))
    key = hashlib.sha256(repr(parts).encode()).hexdigest()
    if key not in _CACHE:
        entry = _read_disk().get(key)
        if isinstance(entry, dict) and f"{entry.get('precision')}/{entry.get('layout')}" in entry.get("timings", {}):
            _CACHE[key] = (entry["precision"], entry["layout"], dict(entry["timings"]))
    if key in _CACHE:
        chosen_precision, chosen_layout, timings = _CACHE[key]
        return chosen_precision, chosen_layout, dict(timings)
    timings = measure(model, input_shape, num_classes, device, batch_size, precisions, layouts,
                      sample=sample, loss_fn=loss_fn)
    if not timings:
        return ("fp32" if precision == "auto" else precision), ("nchw" if layout == "auto" else layout), {}
    fp32 = {k: v for k, v in timings.items() if k.startswith("fp32/")}
    best = min(timings, key=timings.get)
    if fp32 and best.startswith("bf16/") and timings[best] >= BF16_MARGIN * min(fp32.values()):
        best = min(fp32, key=fp32.get)
    chosen_precision, chosen_layout = best.split("/")
    _CACHE[key] = (chosen_precision, chosen_layout, dict(timings))
    _write_disk(key, {"precision": chosen_precision, "layout": chosen_layout, "timings": dict(timings),
                      "model": type(model).__name__, "input": list(x_shape), "batch_size": int(batch_size),
                      "machine": _capability(device), "when": time.strftime("%Y-%m-%dT%H:%M:%S")})
    return chosen_precision, chosen_layout, timings
