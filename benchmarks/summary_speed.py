"""How long ``cnnlab.summary`` takes on ResNet-50 at 224², as a ratio to one plain forward pass.

Both are timed in the same run, on the same model (random weights, eval mode, CPU float32, batch 1):
  - baseline: ``model(x)`` under ``torch.no_grad()``;
  - summary:  ``summary(model, (3, 224, 224))`` without profiling. It counts on the ``meta`` device
    (shapes only, no arithmetic: parameters are swapped for meta tensors with
    ``torch.func.functional_call``), so its cost is the Python of hooks + the dispatch-level counter,
    ~550 aten ops and ~180 module calls, not the 4.1 GMACs of the model.
The first summary of a process is reported apart (imports); medians of ``--repeats`` follow.
Target: well under a second, and under one forward pass (ratio < 1).

Usage: python benchmarks/summary_speed.py [--repeats 7] [--threads N] [--model resnet50]
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import torch
from _timing import median_time


def build(name: str) -> torch.nn.Module:
    try:
        from cnnlab import zoo

        if name in zoo.names():
            return zoo.create(name).eval()
    except ImportError:
        pass
    raise SystemExit(f"zoo model {name!r} is not available")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=7)
    p.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    p.add_argument("--model", default="resnet50")
    args = p.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)

    from cnnlab.analysis import summary

    model = build(args.model)
    x = torch.randn(1, 3, 224, 224)
    t0 = time.perf_counter()
    s = summary(model, (3, 224, 224), name=args.model)
    first = time.perf_counter() - t0

    with torch.no_grad():
        model(x)  # warm-up
        fwd = median_time(lambda: model(x), args.repeats)
    summ = median_time(lambda: summary(model, (3, 224, 224)), args.repeats)

    print(f"model {args.model} @ 3x224x224, batch 1, float32, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads, OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', 'unset')}")
    print(f"summary: {s.total_macs:,} MACs, {s.total_flops:,} FLOPs, {s.total_params:,} params, "
          f"{len(s.layers)} rows, counted on {s.device}, uncounted ops: {s.uncounted_ops or 'none'}")
    print(f"first summary in this process (imports included): {first * 1e3:8.1f} ms")
    print(f"plain forward pass (median of {args.repeats}):           {fwd * 1e3:8.1f} ms")
    print(f"summary, no profile (median of {args.repeats}):          {summ * 1e3:8.1f} ms")
    ratio = summ / fwd
    print(f"ratio summary / forward: {ratio:.2f}  ({'OK' if summ < 1.0 else 'SLOW'}: target well under 1 s)")
    return 0 if summ < 1.0 else 1


if __name__ == "__main__":
    sys.exit(main())
