"""Where a training step's time goes: per-operator times (torch profiler) against the machine's ceiling.

For each model (lecture CNN, LeNet-5 by default) one training step of batch 128 (forward, cross-entropy,
backward, Adam) is profiled over ``--steps`` steps, as cnnlab's ``fit`` runs it (the activation-after-pool
twin of :mod:`cnnlab.train.rewrite`, precision/layout given) and as the model is written. Printed per
operator and input shape: milliseconds per step and, for convolutions and matrix products, the multiply-adds
per second beside the ceiling measured in the same run (a large fp32 matrix product on the same threads,
which oneDNN/MKL run near the CPU's peak). ``--isa avx2`` emulates an AVX2-only CPU (``_isa.py``).

Usage: python benchmarks/step_profile.py [--models lecture_cnn,lenet5] [--layout channels_last] [--isa avx2]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import _isa

_isa.apply()

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
from torch.profiler import ProfilerActivity, profile  # noqa: E402


def gemm_ceiling(threads: int, n: int = 1024, repeats: int = 10) -> float:
    """Multiply-adds per second of an n×n fp32 matrix product (median of repeats)."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    for _ in range(3):
        a @ b
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        a @ b
        times.append(time.perf_counter() - start)
    return n ** 3 / statistics.median(times)


def conv_macs(module: nn.Module, x: torch.Tensor) -> dict:
    """Forward multiply-adds of each Conv2d/Linear, keyed by the weight's shape."""
    macs = {}

    def hook(mod, inp, out):
        if isinstance(mod, nn.Conv2d):
            macs[tuple(mod.weight.shape)] = out.numel() * mod.weight[0].numel()
        elif isinstance(mod, nn.Linear):
            macs[tuple(mod.weight.shape)] = out.numel() * mod.in_features

    handles = [m.register_forward_hook(hook) for m in module.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    with torch.no_grad():
        module(x)
    for h in handles:
        h.remove()
    return macs


def profile_steps(model, x, y, steps: int, precision: str):
    opt = torch.optim.Adam(model.parameters(), 1e-3)

    def step():
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16"):
            out = model(x)
        loss = nn.functional.cross_entropy(out.float(), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    for _ in range(5):
        step()
    start = time.perf_counter()
    with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
        for _ in range(steps):
            step()
    return prof, (time.perf_counter() - start) / steps


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="lecture_cnn,lenet5")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--layout", default="channels_last", choices=("nchw", "channels_last"))
    parser.add_argument("--precision", default="fp32", choices=("fp32", "bf16"))
    parser.add_argument("--top", type=int, default=10)
    parser.add_argument("--isa", default="native")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    from cnnlab import zoo
    from cnnlab.train.perf import tune_cpu_allocator
    from cnnlab.train.rewrite import for_training

    tune_cpu_allocator()  # as fit does

    ceiling = gemm_ceiling(args.threads)
    print(f"step profile: batch {args.batch_size}, {args.threads} threads, {args.precision}/{args.layout}; "
          f"{_isa.describe()}; fp32 GEMM ceiling {ceiling / 1e9:.1f} GMAC/s")
    fmt = torch.channels_last if args.layout == "channels_last" else torch.contiguous_format
    for name in args.models.split(","):
        torch.manual_seed(0)
        base = zoo.create(name).to(memory_format=fmt).train()
        x = torch.randn(args.batch_size, 1, 28, 28).contiguous(memory_format=fmt)
        y = torch.randint(0, 10, (args.batch_size,))
        macs = conv_macs(base, x)
        for label, module in (("as written", base), ("as fit trains it", for_training(base)[0])):
            prof, per_step = profile_steps(module, x, y, args.steps, args.precision)
            print(f"\n{name} {label}: {1e3 * per_step:.2f} ms per step (profiled), "
                  f"{sum(macs.values()) * 3 / per_step / 1e9:.1f} GMAC/s overall (forward + 2× backward)")
            rows = [e for e in prof.key_averages(group_by_input_shape=True) if e.self_cpu_time_total > 0]
            rows.sort(key=lambda e: e.self_cpu_time_total, reverse=True)
            for e in rows[:args.top]:
                ms = e.self_cpu_time_total / 1e3 / args.steps
                shapes = [tuple(s) for s in e.input_shapes if s]
                note = ""
                weight = next((s for s in shapes if s in macs), None)
                if weight is not None and len(weight) == 4 and e.key in ("aten::mkldnn_convolution",
                                                                         "aten::convolution_backward"):
                    backward = e.key == "aten::convolution_backward"
                    # backward: weight gradient + input gradient, except the first layer (no input gradient)
                    work = macs[weight] * (1 if not backward or weight[1] == x.shape[1] else 2)
                    rate = work * (e.count / args.steps) / (ms / 1e3)
                    note = f"  {rate / 1e9:5.1f} GMAC/s = {100 * rate / ceiling:3.0f}% of the GEMM ceiling"
                print(f"  {ms:7.2f} ms  {e.key:<42} {str(shapes[:2])[:60]:<60}{note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
