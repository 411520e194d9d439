"""Training throughput: cnnlab ``fit`` vs a plain hand-written PyTorch loop vs Keras 3/TensorFlow.

The lecture CNN and LeNet-5 train on MNIST-sized batches (128 × 1×28×28, real MNIST images when the
offline package is installed) three ways in one run; rounds alternate between the ways so machine noise
hits all of them alike. Printed: median images/s per way and precision/layout, and the ratios
(cnnlab / plain must be ≥ 0.95 at equal precision; cnnlab at its best precision/layout vs Keras).
Both wall-clock and CPU-time (``time.process_time``) throughputs are recorded: on a shared machine the
CPU-time figure is the steadier one (other processes' load inflates wall time, not our CPU seconds).

Usage: python benchmarks/train_throughput.py [--images 6400] [--rounds 5] [--threads 2]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import torch
import torch.nn as nn


def mnist_tensors(n: int):
    from cnnlab import data

    try:
        ds = data.load("mnist")
        return ds.x_train[:n].clone(), ds.y_train[:n].clone(), "MNIST"
    except ImportError:
        g = torch.Generator().manual_seed(0)
        return torch.rand(n, 1, 28, 28, generator=g), torch.randint(0, 10, (n,), generator=g), "random MNIST-sized"


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


def keras_available():
    try:
        os.environ.setdefault("KERAS_BACKEND", "tensorflow")
        import keras  # noqa: F401
        import tensorflow  # noqa: F401
        return True, ""
    except Exception as exc:  # not installed here (no TF wheel for this Python/CPU): skip with a message
        return False, f"{type(exc).__name__}: {exc}"


def keras_model(name):
    import keras
    from keras import layers

    if name == "lecture_cnn":
        body = [layers.Conv2D(32, 3, activation="relu"), layers.MaxPooling2D(2), layers.Conv2D(64, 3, activation="relu"),
                layers.MaxPooling2D(2), layers.Conv2D(64, 3, activation="relu"), layers.Flatten(),
                layers.Dense(64, activation="relu"), layers.Dense(10)]
    else:
        body = [layers.Conv2D(6, 5, padding="same", activation="relu"), layers.MaxPooling2D(2),
                layers.Conv2D(16, 5, activation="relu"), layers.MaxPooling2D(2), layers.Flatten(),
                layers.Dense(120, activation="relu"), layers.Dense(84, activation="relu"), layers.Dense(10)]
    model = keras.Sequential([keras.Input((28, 28, 1)), *body])
    model.compile(optimizer=keras.optimizers.Adam(1e-3),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=6400, help="images per timed epoch")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--models", default="lecture_cnn,lenet5")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)

    from cnnlab import data, zoo
    from cnnlab.train import perf

    x, y, source = mnist_tensors(args.images)
    ds = data.from_tensors(x, y, x[:0], y[:0], name=source)
    print(f"train throughput: {source} images, {args.images} per epoch, batch {args.batch_size}, "
          f"{args.threads} threads, {args.rounds} alternating rounds; torch {torch.__version__}; "
          f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')} (numpy BLAS only, not torch)")
    has_keras, why = keras_available()
    if not has_keras:
        print(f"Keras 3 / TensorFlow: not importable here ({why.splitlines()[0][:100]}); Keras column skipped")
    rows = []
    for name in args.models.split(","):
        model0 = zoo.create(name)
        best_p, best_l, timings = perf.resolve("auto", "auto", model0, (1, 28, 28), 10, torch.device("cpu"),
                                               args.batch_size)
        shown = ", ".join(f"{k} {args.batch_size / v:,.0f}" for k, v in timings.items())
        print(f"\n{name}: auto picks {best_p}/{best_l} (quick measurement, img/s: {shown})")
        configs = [("fp32", "nchw"), ("fp32", "channels_last"), ("bf16", "channels_last")]
        if (best_p, best_l) not in configs:
            configs.append((best_p, best_l))
        for precision, layout in configs:
            ways = {"cnnlab": [], "plain": []}
            cpu = {"cnnlab": [], "plain": []}
            for r in range(args.rounds + 1):  # round 0 warms up (imports, allocator, oneDNN kernels)
                for way in ("cnnlab", "plain") if r % 2 == 0 else ("plain", "cnnlab"):
                    torch.manual_seed(r)
                    model = zoo.create(name)
                    start, start_cpu = time.perf_counter(), time.process_time()
                    if way == "cnnlab":
                        cnnlab_fit(model, ds, args.batch_size, precision, layout)
                    else:
                        plain_loop(model, x, y, args.batch_size, precision, layout)
                    if r:
                        ways[way].append(args.images / (time.perf_counter() - start))
                        cpu[way].append(args.images / (time.process_time() - start_cpu))
            c, p = statistics.median(ways["cnnlab"]), statistics.median(ways["plain"])
            cc, pc = statistics.median(cpu["cnnlab"]), statistics.median(cpu["plain"])
            rows.append((name, f"{precision}/{layout}", c, p, cc, pc))
            print(f"  {precision}/{layout:<13}  wall: cnnlab fit {c:7,.0f} img/s  plain loop {p:7,.0f} img/s  "
                  f"ratio {c / p:.3f}   |  per CPU-second: cnnlab {cc:7,.0f}  plain {pc:7,.0f}  ratio {cc / pc:.3f}",
                  flush=True)
        if has_keras:
            import numpy as np

            km = keras_model(name)
            xk, yk = np.transpose(x.numpy(), (0, 2, 3, 1)), y.numpy()
            km.fit(xk[:args.batch_size * 2], yk[:args.batch_size * 2], batch_size=args.batch_size, epochs=1, verbose=0)
            speeds = []
            for _ in range(args.rounds):
                start = time.perf_counter()
                km.fit(xk, yk, batch_size=args.batch_size, epochs=1, verbose=0)
                speeds.append(args.images / (time.perf_counter() - start))
            k = statistics.median(speeds)
            best = max(r[2] for r in rows if r[0] == name)
            print(f"  keras/tensorflow   {k:8,.0f} img/s   cnnlab best / keras {best / k:.2f}")
    print("\nsummary (cnnlab fit / plain loop at equal precision and layout; must be ≥ 0.95):")
    print(f"  {'model':<12} {'precision/layout':<20} {'wall':>6} {'cpu':>6}")
    for name, cfg, c, p, cc, pc in rows:
        print(f"  {name:<12} {cfg:<20} {c / p:6.3f} {cc / pc:6.3f}")
    print(f"worst ratio: wall {min(r[2] / r[3] for r in rows):.3f}, cpu time {min(r[4] / r[5] for r in rows):.3f}; "
          f"median: wall {statistics.median(r[2] / r[3] for r in rows):.3f}, "
          f"cpu time {statistics.median(r[4] / r[5] for r in rows):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
