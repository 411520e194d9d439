"""Frequency-only CNN vs 2-D CNN vs DNN (≈ 32k parameters each) on spoken digits (FSDD).

The three models of ``cnnlab.apps.speech`` on the official split and the six leave-one-speaker-out folds,
plus the ten Allison digits (Debian ``asterisk-core-sounds-en-wav``; never trained on). Needs
``$CNNLAB_DATA/fsdd/recordings``. One torch thread by default (the machine is usually shared); the load
average at the start is recorded in the JSON.

Usage: python benchmarks/speech_freq_vs_2d.py [--epochs 20] [--folds all|official|speakers]
       [--models freq,cnn2d,dnn] [--speakers theo,lucas] [--threads 1] [--out speech_benchmark.json]
       [--norm max|mvn|cmvn] [--augment] [--seeds 0,1] [--synth DIR]
(the documented table: --norm cmvn; an existing --out file is resumed)
"""

from __future__ import annotations

import argparse


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--folds", default="all", choices=("all", "official", "speakers"))
    parser.add_argument("--models", default="freq,cnn2d,dnn")
    parser.add_argument("--speakers", default="", help="held-out speakers of the folds (default: all six)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", default="speech_benchmark.json")
    parser.add_argument("--norm", default="max", choices=("max", "mvn", "cmvn"))
    parser.add_argument("--augment", action="store_true", help="on-the-fly SpeechAugment defaults")
    parser.add_argument("--seeds", default="0")
    parser.add_argument("--synth", default="", help="folder of `cnnlab speech synth` clips joining training")
    args = parser.parse_args(argv)

    import torch

    torch.set_num_threads(args.threads)
    from pathlib import Path

    from cnnlab.apps.speech.benchmark import render_paired, render_table, run_benchmark

    doc = run_benchmark(tuple(args.models.split(",")), folds=args.folds, epochs=args.epochs, out=args.out,
                        speakers=[s for s in args.speakers.split(",") if s],
                        seeds=[int(s) for s in args.seeds.split(",") if s], augment=args.augment or None,
                        utterance_norm=args.norm, extra_train=(Path(args.synth),) if args.synth else (),
                        log=lambda line: print(line, flush=True))
    print(render_table(doc))
    print(render_paired(doc))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
