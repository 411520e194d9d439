"""Measured per-layer forward/backward time and the FLOP rate it achieves against a matmul peak.

``summary(..., profile=True)`` runs the model once on real tensors, keeping a copy of every shown
row's inputs, then replays each row's module alone: forward (with autograd on) and backward (with a
gradient of ones), ``repeats`` times after one warm-up, and keeps the medians. Replaying each module on
its own input times exactly that module (torch.profiler would also do, but needs the op→module mapping
again). The machine's peak is one square float32 matmul timed in the same process; a layer's achieved
rate is its FLOPs (see :mod:`cnnlab.analysis.opcount`) over its forward time.

Rows that contain shown rows (containers) get no time of their own: their children carry it. The model
is timed in eval mode (batch-norm running statistics, dropout off), like the counting pass, and every
parameter's ``.grad`` is restored afterwards.
"""

from __future__ import annotations

import statistics
import time
from typing import Any, Callable, List, Optional, Sequence, Tuple

import torch
from torch import nn

from cnnlab.analysis import collect as C
from cnnlab.analysis.records import Summary


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def median_ms(fn: Callable[[], Any], repeats: int, device: torch.device, warmup: int = 1) -> float:
    """Median wall time of ``fn()`` in milliseconds over ``repeats`` runs after ``warmup`` runs."""
    times = []
    for i in range(warmup + repeats):
        _sync(device)
        t0 = time.perf_counter()
        fn()
        _sync(device)
        if i >= warmup:
            times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def matmul_peak_gflops(device: Any = "cpu", n: Optional[int] = None, repeats: int = 5) -> float:
    """The machine's float32 matmul rate in GFLOP/s, measured now: 2·n³ FLOPs per n×n product.

    Args:
        device: where to measure (the model's device).
        n: matrix size; default 1024 on CPU, 4096 on GPUs.
    """
    device = torch.device(device)
    n = n or (1024 if device.type == "cpu" else 4096)
    g = torch.Generator(device="cpu").manual_seed(0)
    a = torch.randn(n, n, generator=g).to(device)
    b = torch.randn(n, n, generator=g).to(device)
    ms = median_ms(lambda: torch.mm(a, b), repeats, device, warmup=2)
    return 2 * n**3 / (ms * 1e-3) / 1e9


def _leaf_inputs(args: Any) -> Tuple[Any, List[torch.Tensor]]:
    """Copies of ``args`` whose float tensors are leaves requiring grad (and those leaves)."""
    leaves: List[torch.Tensor] = []

    def conv(x):
        if isinstance(x, torch.Tensor):
            if x.dtype.is_floating_point:
                leaf = x.detach().clone().requires_grad_(True)
                leaves.append(leaf)
                return leaf
            return x
        if isinstance(x, (list, tuple)):
            return type(x)(conv(v) for v in x)
        if isinstance(x, dict):
            return {k: conv(v) for k, v in x.items()}
        return x

    return conv(args), leaves


def _fresh(x: Any) -> Any:
    """Non-leaf clones of leaf tensors, so in-place modules (ReLU(inplace=True)) can run on them."""
    if isinstance(x, torch.Tensor):
        return x.clone() if x.requires_grad else x
    if isinstance(x, (list, tuple)):
        return type(x)(_fresh(v) for v in x)
    if isinstance(x, dict):
        return {k: _fresh(v) for k, v in x.items()}
    return x


def _grad_outputs(out: Any) -> Tuple[List[torch.Tensor], List[torch.Tensor]]:
    outs = [t for t in C._tensors(out) if t.requires_grad]
    return outs, [torch.ones_like(t) for t in outs]


def time_call(fn: Callable[..., Any], args: Sequence[Any], kwargs: dict, repeats: int,
              device: torch.device) -> Tuple[float, Optional[float]]:
    """(forward ms, backward ms or ``None`` when nothing needs a gradient) of ``fn(*args, **kwargs)``."""
    (args, kwargs), _ = _leaf_inputs((tuple(args), dict(kwargs)))
    with torch.enable_grad():
        fwd = median_ms(lambda: fn(*_fresh(args), **_fresh(kwargs)), repeats, device)
        outs, grads = _grad_outputs(fn(*_fresh(args), **_fresh(kwargs)))
        if not outs:
            return fwd, None
        times = []
        for i in range(1 + repeats):
            outs, grads = _grad_outputs(fn(*_fresh(args), **_fresh(kwargs)))
            _sync(device)
            t0 = time.perf_counter()
            torch.autograd.backward(outs, grads)
            _sync(device)
            if i:
                times.append((time.perf_counter() - t0) * 1e3)
    return fwd, statistics.median(times)


def profile_summary(model: nn.Module, s: Summary, full_shape: Sequence[int], dtype: torch.dtype,
                    device: torch.device, depth: Optional[int], repeats: int) -> Summary:
    """Fill ``forward_ms``/``backward_ms``/``gflops_per_s`` of ``s``'s rows and its model totals.

    Must run inside :func:`cnnlab.analysis.collect.eval_mode` (``summary`` does).
    """
    grads = [(p, p.grad) for p in model.parameters()]
    for p, _ in grads:  # backward then makes new .grad tensors instead of adding into the user's
        p.grad = None
    try:
        s.peak_gflops = matmul_peak_gflops(device)
        x = C.make_input(full_shape, dtype, device)
        rec = C.Recorder(model, keep_inputs=True)
        with rec.hooked(), torch.no_grad():
            model(x)
        captured = {(c.name, c.call): c for c in rec.calls}
        names = [r.name for r in s.layers]
        for r in s.layers:
            has_shown_child = any(n != r.name and (r.name == "" or n.startswith(r.name + "."))
                                  for n in names)
            c = captured.get((r.name, r.call))
            if has_shown_child or c is None or c.inputs is None:
                continue
            args, kwargs = c.inputs
            r.forward_ms, r.backward_ms = time_call(c.module, args, kwargs, repeats, device)
            if r.forward_ms > 0:
                r.gflops_per_s = r.flops / (r.forward_ms * 1e6)
        s.forward_ms, s.backward_ms = time_call(model, (x,), {}, repeats, device)
        s.profiled = True
    finally:
        for p, g in grads:
            p.grad = g
    return s
