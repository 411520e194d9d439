"""Wall time from a user's command to ≥ 99.0% MNIST test accuracy: ``cnnlab train --recipe fast``.

Each seed is one fresh process, ``python -m cnnlab train --recipe fast --seed S --out TMP -q``, timed from
launch to exit: Python start-up, imports, data loading, the precision/layout probe, training, validation,
the run folder's writes and the final test evaluation all count. The test accuracy is the one the
command prints. ``--isa avx2`` runs every kernel as on an AVX2-only CPU without native bf16 (``_isa.py``);
``--no-cache`` gives each process an empty probe cache (the default: what a first run on a machine sees).

Usage: python benchmarks/time_to_accuracy.py [--seeds 3] [--target 0.99] [--isa native|avx2] [--recipe fast]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _isa


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--target", type=float, default=0.99)
    parser.add_argument("--recipe", default="fast")
    parser.add_argument("--isa", default="native", help="native | avx2 (see _isa.py)")
    parser.add_argument("--keep-cache", action="store_true",
                        help="let later seeds reuse the probe decision of the first (default: each starts empty)")
    args = parser.parse_args(argv)
    isa = _isa.apply(["--isa", args.isa])
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(args.seeds):
            out = Path(tmp) / f"run{seed}"
            cache = Path(tmp) / ("cache" if args.keep_cache else f"cache{seed}")
            env = {**os.environ, "CNNLAB_CACHE": str(cache)}
            start = time.perf_counter()
            proc = subprocess.run([sys.executable, "-m", "cnnlab", "train", "--recipe", args.recipe, "--seed", str(seed),
                                   "--out", str(out), "-q"], capture_output=True, text=True, env=env)
            wall = time.perf_counter() - start
            if proc.returncode:
                print(proc.stdout + proc.stderr)
                return proc.returncode
            acc = float(re.search(r"test accuracy ([\d.]+)%", proc.stdout).group(1)) / 100
            resolved = json.loads((out / "config.json").read_text())["resolved"]
            rows.append((seed, wall, acc, resolved))
            print(f"  seed {seed}: {wall:5.1f}s from launch to exit, test accuracy {100 * acc:.2f}%  "
                  f"({resolved['precision']}/{resolved['layout']}, probe {resolved['probe_seconds']:.2f}s)", flush=True)
    walls, accs = [r[1] for r in rows], [r[2] for r in rows]
    sd = statistics.stdev if len(rows) > 1 else (lambda v: 0.0)
    print(f"recipe {args.recipe!r}, {isa} kernels ({os.environ.get('ONEDNN_MAX_CPU_ISA', 'all this CPU has')}): "
          f"{statistics.median(walls):.1f}s median wall (max {max(walls):.1f}s), test accuracy "
          f"{100 * statistics.mean(accs):.2f} ± {100 * sd(accs):.2f}% over {len(rows)} seeds; "
          f"{sum(a >= args.target for a in accs)}/{len(rows)} reached {100 * args.target:.1f}%")
    return 0 if all(a >= args.target for a in accs) else 1


if __name__ == "__main__":
    sys.exit(main())
