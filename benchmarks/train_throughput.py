"""Training throughput: cnnlab ``fit`` vs a plain hand-written PyTorch loop vs Keras 3/TensorFlow.

The lecture CNN and LeNet-5 train on MNIST-sized batches (128 × 1×28×28, real MNIST images when the
offline package is installed) three ways in one run; rounds alternate between the ways so machine noise
hits all of them alike. Printed: median images/s per way and precision/layout, and the ratios
(cnnlab / plain must be ≥ 0.95 at equal precision; cnnlab at its best precision/layout vs Keras).
Both wall-clock and CPU-time (``time.process_time``) throughputs are recorded: on a shared machine the
CPU-time figure is the steadier one (other processes' load inflates wall time, not our CPU seconds).

Keras runs in its own process and venv (``bash benchmarks/setup_keras.sh``; see ``_keras.py``), built the
same way and kept warm; its epochs alternate with cnnlab's at the precision/layout ``auto`` picks (what a
user gets), and the best cnnlab configuration is compared too. ``--isa avx2`` runs every kernel (torch's,
oneDNN's in both frameworks) as on an AVX2-only CPU without native bf16 (``_isa.py``).

Usage: python benchmarks/train_throughput.py [--images 6400] [--rounds 5] [--threads 2] [--isa native|avx2]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import _isa

_isa.apply()

import torch  # noqa: E402  (after _isa.apply: the kernel choice is read at import)
import torch.nn as nn  # noqa: E402

import _keras  # noqa: E402
from _mnist import mnist_tensors  # noqa: E402


def plain_loop(model, x, y, batch_size, precision, layout, epochs=1):
    """What one writes by hand: normalise once, permute, slice, forward, loss, backward, step."""
    fmt = torch.channels_last if layout == "channels_last" else torch.contiguous_format
    model.to(memory_format=fmt).train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    mean, std = x.mean(), x.std()
    xn = (x - mean) / std
    for _ in range(epochs):
        perm = torch.randperm(len(y))
        for i in range(0, len(y), batch_size):
            idx = perm[i:i + batch_size]
            xb = xn[idx].contiguous(memory_format=fmt)
            if precision == "bf16":
                with torch.autocast("cpu", dtype=torch.bfloat16):
                    out = model(xb)
            else:
                out = model(xb)
            loss = nn.functional.cross_entropy(out.float(), y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            loss.item()  # the usual running-loss read


def cnnlab_fit(model, ds, batch_size, precision, layout):
    from cnnlab.train import fit

    fit(model, ds, epochs=1, batch_size=batch_size, optimizer="adam", lr=1e-3, precision=precision, layout=layout,
        progress=False)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=6400, help="images per timed epoch")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--models", default="lecture_cnn,lenet5")
    parser.add_argument("--isa", default="native", help="native | avx2 (see _isa.py)")
    parser.add_argument("--no-keras", action="store_true", help="skip the Keras/TensorFlow column")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)

    from cnnlab import data, zoo
    from cnnlab.train import perf

    x, y, source = mnist_tensors(args.images)
    print(f"train throughput: {source} images, {args.images} per epoch, batch {args.batch_size}, "
          f"{args.threads} threads, {args.rounds} alternating rounds; torch {torch.__version__}; "
          f"{_isa.describe()}")
    keras_exe, why = (None, "--no-keras") if args.no_keras else _keras.python()
    tmp = tempfile.TemporaryDirectory()
    if keras_exe is None:
        print(f"Keras 3 / TensorFlow: {why}; Keras column skipped")
    else:
        npz = _keras.save_data(Path(tmp.name) / "mnist.npz", x, y)
    rows, keras_rows = [], []
    for name in args.models.split(","):
        model0 = zoo.create(name)
        best_p, best_l, timings = perf.resolve("auto", "auto", model0, (1, 28, 28), 10, torch.device("cpu"),
                                               args.batch_size)
        shown = ", ".join(f"{k} {args.batch_size / v:,.0f}" for k, v in timings.items())
        print(f"\n{name}: auto picks {best_p}/{best_l} (quick measurement, img/s: {shown})")
        configs = [(p, lay) for p in ("fp32", "bf16") for lay in ("nchw", "channels_last")]
        keras = _keras.Server(keras_exe, npz, name, args.threads, args.batch_size) if keras_exe else None
        for precision, layout in configs:
            # emulated bf16 (no native instructions) runs at ~1/10 of fp32: a quarter of the images per epoch
            n = args.images if precision == "fp32" or perf.cpu_bf16_native() else args.images // 4
            xs, ys = x[:n], y[:n]
            dsn = data.from_tensors(xs, ys, xs[:0], ys[:0], name=source)
            ways = {"cnnlab": [], "plain": []}
            cpu = {"cnnlab": [], "plain": []}
            with_keras = keras is not None and (precision, layout) == (best_p, best_l)
            if with_keras:
                ways["keras"] = []
            order = list(ways)
            for r in range(args.rounds + 1):  # round 0 warms up (imports, allocator, oneDNN kernels)
                for way in order[r % len(order):] + order[:r % len(order)]:  # rotate who goes first
                    torch.manual_seed(r)
                    model = zoo.create(name)
                    start, start_cpu = time.perf_counter(), time.process_time()
                    if way == "keras":
                        seconds = keras.epoch()
                        if r:
                            ways[way].append(args.images / seconds)
                        continue
                    if way == "cnnlab":
                        cnnlab_fit(model, dsn, args.batch_size, precision, layout)
                    else:
                        plain_loop(model, xs, ys, args.batch_size, precision, layout)
                    if r:
                        ways[way].append(n / (time.perf_counter() - start))
                        cpu[way].append(n / (time.process_time() - start_cpu))
            c, p = statistics.median(ways["cnnlab"]), statistics.median(ways["plain"])
            cc, pc = statistics.median(cpu["cnnlab"]), statistics.median(cpu["plain"])
            rows.append((name, f"{precision}/{layout}", c, p, cc, pc))
            print(f"  {precision}/{layout:<13}  wall: cnnlab fit {c:7,.0f} img/s  plain loop {p:7,.0f} img/s  "
                  f"ratio {c / p:.3f}   |  per CPU-second: cnnlab {cc:7,.0f}  plain {pc:7,.0f}  ratio {cc / pc:.3f}",
                  flush=True)
            if with_keras:
                k = statistics.median(ways["keras"])
                ratios = [a / b for a, b in zip(ways["cnnlab"], ways["keras"])]
                keras_rows.append((name, f"{precision}/{layout}", c, k, statistics.median(ratios)))
                print(f"  keras/tensorflow {keras.info['tensorflow']} (NHWC fp32) {k:8,.0f} img/s   cnnlab auto / keras "
                      f"{c / k:.2f} (median of per-round ratios {statistics.median(ratios):.2f})", flush=True)
        if keras is not None:
            keras.close()
    print("\nsummary (cnnlab fit / plain loop at equal precision and layout; must be ≥ 0.95):")
    print(f"  {'model':<12} {'precision/layout':<20} {'wall':>6} {'cpu':>6}")
    for name, cfg, c, p, cc, pc in rows:
        print(f"  {name:<12} {cfg:<20} {c / p:6.3f} {cc / pc:6.3f}")
    print(f"worst ratio: wall {min(r[2] / r[3] for r in rows):.3f}, cpu time {min(r[4] / r[5] for r in rows):.3f}; "
          f"median: wall {statistics.median(r[2] / r[3] for r in rows):.3f}, "
          f"cpu time {statistics.median(r[4] / r[5] for r in rows):.3f}")
    for name, cfg, c, k, ratio in keras_rows:
        best = max(r[2] for r in rows if r[0] == name)
        print(f"cnnlab ÷ keras, {name}: auto ({cfg}) {c / k:.2f}×, best configuration {best / k:.2f}× "
              f"(steady state, batch {args.batch_size}, {args.threads} threads)")
    tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
