"""Precision (fp32 / bf16 autocast) and memory layout (NCHW / channels_last), chosen by measurement.

On a small CPU, bf16 autocast and channels_last can double or triple a CNN's training speed, or slow it
down, depending on the CPU and the model. ``auto`` times a few real training steps of each candidate on
a throw-away copy of the model and picks the fastest; bf16 is only chosen when it beats the best fp32
layout by a clear margin, because it costs precision. RNG states are restored afterwards, so measuring
never changes a seeded run.
"""

from __future__ import annotations

import contextlib
import copy
import statistics
import time

import torch
import torch.nn as nn

from cnnlab.errors import ConfigError

BF16_MARGIN = 0.9  # bf16 must take < 90% of the best fp32 step time to be worth its lower precision


def autocast(precision: str, device: torch.device):
    """The autocast context of ``precision`` ("bf16" -> bfloat16 autocast; "fp32" -> nothing)."""
    if precision == "bf16":
        return torch.autocast(device_type=device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


def memory_format(layout: str) -> torch.memory_format:
    return torch.channels_last if layout == "channels_last" else torch.contiguous_format


def bf16_supported(device: torch.device) -> bool:
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    return device.type == "cpu"


def _time_steps(model: nn.Module, x: torch.Tensor, y: torch.Tensor, precision: str, layout: str,
                steps: int, warmup: int) -> float:
    fmt = memory_format(layout)
    m = copy.deepcopy(model).to(memory_format=fmt).train()
    opt = torch.optim.SGD(m.parameters(), lr=0.0)
    xb = x.contiguous(memory_format=fmt)
    times = []
    for i in range(warmup + steps):
        start = time.perf_counter()
        with autocast(precision, x.device):
            loss = nn.functional.cross_entropy(m(xb).float(), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if x.device.type == "cuda":
            torch.cuda.synchronize()
        if i >= warmup:
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def measure(model: nn.Module, input_shape, num_classes: int, device: torch.device, batch_size: int = 128,
            precisions=("fp32", "bf16"), layouts=("nchw", "channels_last"), steps: int = 3,
            warmup: int = 2) -> dict[str, float]:
    """Median seconds per training step for each "precision/layout" candidate (RNG untouched)."""
    results = {}
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        x = torch.rand(batch_size, *input_shape, device=device)
        y = torch.randint(0, max(1, num_classes), (batch_size,), device=device)
        for precision in precisions:
            if precision == "bf16" and not bf16_supported(device):
                continue
            for layout in layouts:
                try:
                    results[f"{precision}/{layout}"] = _time_steps(model, x, y, precision, layout, steps, warmup)
                except RuntimeError:  # a kernel missing for this combination: not a candidate
                    continue
    return results


def resolve(precision: str, layout: str, model: nn.Module, input_shape, num_classes: int,
            device: torch.device, batch_size: int, deterministic: bool = False):
    """Replace ``"auto"`` choices by measured ones.

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
    precisions = ("fp32", "bf16") if precision == "auto" else (precision,)
    layouts = ("nchw", "channels_last") if layout == "auto" else (layout,)
    timings = measure(model, input_shape, num_classes, device, batch_size, precisions, layouts)
    if not timings:
        return ("fp32" if precision == "auto" else precision), ("nchw" if layout == "auto" else layout), {}
    fp32 = {k: v for k, v in timings.items() if k.startswith("fp32/")}
    best = min(timings, key=timings.get)
    if fp32 and best.startswith("bf16/") and timings[best] >= BF16_MARGIN * min(fp32.values()):
        best = min(fp32, key=fp32.get)
    chosen_precision, chosen_layout = best.split("/")
    return chosen_precision, chosen_layout, timings
