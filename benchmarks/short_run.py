"""A user's short run, set-up included: cnnlab ``fit`` vs Keras ``fit``, each a fresh process.

4 epochs × 12,800 MNIST training images, batch 128, the lecture CNN, one ``fit`` call with
``precision="auto"``/``layout="auto"`` (Keras: its defaults, NHWC fp32, Adam 1e-3). Each round starts one
process per way, in rotating order; the time counted runs from just before the model is built to after
``fit`` returns (model construction, the precision/layout probe, Keras's graph tracing, first-step kernel
selection and all epochs), and the whole process's wall time (interpreter start, imports, data reading)
is shown beside it. Ways: ``keras``; ``cnnlab`` with an empty probe cache (a first run on the machine);
``cnnlab-cached``, which finds the decision of an earlier run in its cache (every later run).

Usage: python benchmarks/short_run.py [--rounds 5] [--threads 2] [--isa native|avx2] [--epochs 4] [--images 12800]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _isa


def worker(args) -> int:
    """The cnnlab side, in its own process: the same steps the Keras worker takes."""
    import numpy as np
    import torch

    torch.set_num_threads(args.threads)
    from cnnlab import data, zoo
    from cnnlab.train import fit

    with np.load(args.worker) as npz:
        x, y = torch.from_numpy(npz["x"]), torch.from_numpy(npz["y"])
    ds = data.from_tensors(x, y, x[:0], y[:0], name="mnist-12800")
    start = time.perf_counter()
    model = zoo.create(args.model)
    fit(model, ds, epochs=args.epochs, batch_size=args.batch_size, optimizer="adam", lr=1e-3, precision="auto",
        layout="auto", progress=False)
    print(json.dumps({"seconds": time.perf_counter() - start}), flush=True)
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--images", type=int, default=12800)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--model", default="lecture_cnn")
    parser.add_argument("--isa", default="native", help="native | avx2 (see _isa.py)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker(args)
    isa = _isa.apply(["--isa", args.isa])
    import _keras
    from _mnist import mnist_tensors

    keras_exe, why = _keras.python()
    x, y, source = mnist_tensors(args.images)
    images = args.epochs * len(y)
    with tempfile.TemporaryDirectory() as tmp:
        npz = _keras.save_data(Path(tmp) / "mnist.npz", x, y)
        common = ["--threads", str(args.threads), "--batch-size", str(args.batch_size), "--epochs", str(args.epochs),
                  "--model", args.model]
        warm_cache = Path(tmp) / "warm-cache"
        subprocess.run([sys.executable, __file__, "--worker", str(npz), *common], check=True, capture_output=True,
                       env={**os.environ, "CNNLAB_CACHE": str(warm_cache)})  # fills the cache of cnnlab-cached

        def run(way: str, r: int) -> tuple[float, float]:
            if way == "keras":
                cmd = [keras_exe, str(_keras.WORKER), "short", "--data", str(npz), *common]
                env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "KERAS_BACKEND": "tensorflow"}
            else:
                cmd = [sys.executable, __file__, "--worker", str(npz), *common]
                cache = warm_cache if way == "cnnlab-cached" else Path(tmp) / f"cold-{r}"
                env = {**os.environ, "CNNLAB_CACHE": str(cache)}
            start = time.perf_counter()
            proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
            wall = time.perf_counter() - start
            if proc.returncode:
                raise SystemExit(f"{way} failed:\n{proc.stderr[-2000:]}")
            return float(json.loads(proc.stdout.strip().splitlines()[-1])["seconds"]), wall

        ways = ["cnnlab", "cnnlab-cached"] + (["keras"] if keras_exe else [])
        print(f"short run: {args.model}, {args.epochs} epochs × {len(y):,} {source} images, batch {args.batch_size}, "
              f"{args.threads} threads, {args.rounds} rounds; {_isa.describe()}")
        if not keras_exe:
            print(f"Keras: {why}; Keras column skipped")
        fit_s = {w: [] for w in ways}
        proc_s = {w: [] for w in ways}
        for r in range(args.rounds):
            for way in ways[r % len(ways):] + ways[:r % len(ways)]:
                f, p = run(way, r)
                fit_s[way].append(f)
                proc_s[way].append(p)
            print(f"  round {r + 1}: " + "  ".join(f"{w} {images / fit_s[w][-1]:,.0f} img/s" for w in ways), flush=True)
    for way in ways:
        f, p = statistics.median(fit_s[way]), statistics.median(proc_s[way])
        print(f"{way:<14} build+fit {f:6.2f}s = {images / f:7,.0f} img/s   whole process {p:6.2f}s = "
              f"{images / p:7,.0f} img/s")
    if keras_exe:
        k = statistics.median(fit_s["keras"])
        kp = statistics.median(proc_s["keras"])
        for way in ("cnnlab", "cnnlab-cached"):
            print(f"{way} ÷ keras (set-up included, {isa} kernels): build+fit {k / statistics.median(fit_s[way]):.2f}×, "
                  f"whole process {kp / statistics.median(proc_s[way]):.2f}×")
    return 0


if __name__ == "__main__":
    sys.exit(main())
