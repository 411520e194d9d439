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


class _Candidate:
    """A throw-away copy of the model in one precision/layout, ready to time training steps."""

    def __init__(self, model: nn.Module, x: torch.Tensor, precision: str, layout: str):
        fmt = memory_format(layout)
        self.model = copy.deepcopy(model).to(memory_format=fmt).train()
        self.opt = torch.optim.SGD(self.model.parameters(), lr=0.0)
        self.x = x.contiguous(memory_format=fmt)
        self.precision = precision

    def step_time(self, y: torch.Tensor, steps: int) -> float:
        start = time.perf_counter()
        for _ in range(steps):
            with autocast(self.precision, self.x.device):
                loss = nn.functional.cross_entropy(self.model(self.x).float(), y)
            self.opt.zero_grad(set_to_none=True)
            loss.backward()
            self.opt.step()
        if self.x.device.type == "cuda":
            torch.cuda.synchronize()
        return (time.perf_counter() - start) / steps


def measure(model: nn.Module, input_shape, num_classes: int, device: torch.device, batch_size: int = 128,
            precisions=("fp32", "bf16"), layouts=("nchw", "channels_last"), rounds: int = 3,
            steps: int = 2) -> dict[str, float]:
    """Seconds per training step for each "precision/layout" candidate (RNG untouched).

    Candidates are timed in interleaved rounds after one warm-up step each, and each keeps its best round:
    on a shared machine, load spikes then slow every candidate alike instead of the unlucky one.
    """
    results: dict[str, float] = {}
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        x = torch.rand(batch_size, *input_shape, device=device)
        y = torch.randint(0, max(1, num_classes), (batch_size,), device=device)
        candidates = {}
        for precision in precisions:
            if precision == "bf16" and not bf16_supported(device):
                continue
            for layout in layouts:
                try:
                    cand = _Candidate(model, x, precision, layout)
                    cand.step_time(y, 1)  # warm-up: kernel selection, allocator
                except RuntimeError:  # a kernel missing for this combination: not a candidate
                    continue
                candidates[f"{precision}/{layout}"] = cand
        for _ in range(rounds):
            for name, cand in candidates.items():
                t = cand.step_time(y, steps)
                results[name] = min(results.get(name, t), t)
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
