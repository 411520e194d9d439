"""A worker process of ``cnnlab tune --workers K``: ``python -m cnnlab.apps.tune.worker DIR/tune.json --trials N``.

It joins the study named in the settings file (same storage), runs its share of trials with its own torch
thread count and prints one line per ended trial on stdout (the parent relays them).
"""

from __future__ import annotations

import argparse
import sys


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cnnlab.apps.tune.worker")
    parser.add_argument("settings")
    parser.add_argument("--trials", type=int, required=True)
    parser.add_argument("--worker", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(max(1, args.threads))
    from cnnlab.apps.tune.study import load_settings, run_worker

    def log(line: str) -> None:
        print(line, flush=True)

    run_worker(load_settings(args.settings), args.trials, args.worker, log=log)
    return 0


if __name__ == "__main__":
    sys.exit(main())
