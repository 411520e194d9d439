"""Loop vs vectorised (im2col) NumPy conv vs torch: forward + backward, in one run.

Cases (float32, 3×3 filters, stride 1, no padding):
  A: x 64×1×28×28, 32 filters        (the lecture CNN's first layer)
  B: x 64×32×13×13, 64 filters       (its second layer)

Prints the median of repeats for each implementation and the ratios loop/vectorised (must be ≥ 50)
and vectorised/torch (aim: ≤ 3). The loop version is timed on a few images and scaled linearly to
64 (its cost is exactly linear in the batch: one window product per image, filter and position).

Usage: python benchmarks/scratch_speed.py [--repeats 7] [--loop-images 2]
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

from cnnlab.scratch import conv2d, conv2d_backward, naive
from _timing import median_time

CASES = {"A 64×1×28×28, 32 filters": ((64, 1, 28, 28), (32, 1, 3, 3)),
         "B 64×32×13×13, 64 filters": ((64, 32, 13, 13), (64, 32, 3, 3))}


def numpy_step(x, w, b, dout, forward=conv2d, backward=conv2d_backward):
    out, cache = forward(x, w, b)
    return backward(dout, cache)


def torch_step(xt, wt, bt, doutt):
    out = F.conv2d(xt, wt, bt)
    return torch.autograd.grad(out, (xt, wt, bt), doutt)


def blas_info():
    try:
        from threadpoolctl import threadpool_info

        return ", ".join(f"{i.get('internal_api')} {i.get('version')} ({i.get('num_threads')} threads)"
                         for i in threadpool_info() if i.get("user_api") == "blas") or "unknown"
    except ImportError:
        return "unknown (threadpoolctl not installed)"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--loop-images", type=int, default=2, help="images the loop version is timed on")
    parser.add_argument("--threads", default="1,2", help="thread counts for BLAS and torch, e.g. 1,2")
    args = parser.parse_args(argv)
    thread_counts = [int(t) for t in args.threads.split(",")]
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(0)
    print("NumPy conv2d forward+backward: loop vs vectorised (im2col) vs torch, float32, medians of "
          f"{args.repeats} repeats")
    print(f"numpy {np.__version__}, BLAS: {blas_info()}; torch {torch.__version__}; "
          f"{os.cpu_count()} CPUs; numpy and torch get the same thread count in each row")
    print(f"note: numpy's BLAS runs under this machine's OPENBLAS_CORETYPE="
          f"{os.environ.get('OPENBLAS_CORETYPE', '(unset)')} (left unchanged; DESIGN.md: about half "
          "speed); the cores are shared with other jobs, so absolute times are noisy, the ratios less so")
    print(f"the loop version is timed on {args.loop_images} images and scaled linearly to the batch")
    print()
    header = (f"{'case':<28} {'threads':>7} {'loop (scaled)':>14} {'vectorised':>11} {'torch':>9} "
              f"{'loop/vec':>9} {'vec/torch':>10}")
    print(header)
    print("-" * len(header))
    ok = True
    for name, (xs, ws) in CASES.items():
        x = rng.standard_normal(xs).astype(np.float32)
        w = (rng.standard_normal(ws) * 0.1).astype(np.float32)
        b = rng.standard_normal(ws[0]).astype(np.float32)
        out, _ = conv2d(x, w, b)
        dout = rng.standard_normal(out.shape).astype(np.float32)
        xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
        doutt = torch.tensor(dout)
        # same numbers first
        ref = F.conv2d(xt, wt, bt).detach().numpy()
        assert np.allclose(out, ref, rtol=1e-4, atol=1e-4), "vectorised conv2d differs from torch"

        k = args.loop_images
        with threadpool_limits(limits=1):       # the loops are single-threaded Python anyway
            t_loop_sub = median_time(lambda: numpy_step(x[:k], w, b, dout[:k], naive.conv2d,
                                                        naive.conv2d_backward), max(1, args.repeats // 3))
        t_loop = t_loop_sub * xs[0] / k
        for threads in thread_counts:
            torch.set_num_threads(threads)
            with threadpool_limits(limits=threads):
                t_vec = median_time(lambda: numpy_step(x, w, b, dout), args.repeats, warmup=1)
                t_torch = median_time(lambda: torch_step(xt, wt, bt, doutt), args.repeats, warmup=1)
            speedup, vs_torch = t_loop / t_vec, t_vec / t_torch
            ok &= speedup >= 50
            print(f"{name:<28} {threads:>7} {t_loop:>13.2f}s {1e3 * t_vec:>9.1f}ms {1e3 * t_torch:>7.1f}ms "
                  f"{speedup:>8.0f}× {vs_torch:>9.2f}×")
    print()
    print(f"vectorised ≥ 50× faster than the loops: {'PASS' if ok else 'FAIL'}; "
          "vec/torch is the factor the NumPy engine is slower than torch (aim ≤ 3)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
