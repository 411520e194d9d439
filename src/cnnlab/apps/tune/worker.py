"""A worker process of ``cnnlab tune --workers K``: ``python -m cnnlab.apps.tune.worker DIR/tune.json --tickets FILE``.

It joins the study named in the settings file (same storage), runs one trial per ticket it takes from the
command's shared ticket file (or ``--trials N``) with its own torch thread count, and prints one line per
ended trial on stdout (the parent relays them).
"""

from __future__ import annotations

import argparse
import sys


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cnnlab.apps.tune.worker")
    parser.add_argument("settings")
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--trials", type=int, help="run this many trials")
    group.add_argument("--tickets", help="take one trial per ticket from this shared count file")
    parser.add_argument("--worker", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(max(1, args.threads))
    from cnnlab.apps.tune.study import load_settings, run_worker

    def log(line: str) -> None:
        print(line, flush=True)

    run_worker(load_settings(args.settings), args.trials or 0, args.worker, log=log, tickets=args.tickets)
    return 0


if __name__ == "__main__":
    sys.exit(main())
