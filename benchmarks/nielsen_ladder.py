"""Nielsen's chapter-6 MNIST ladder with cnnlab: every row, ≥ 3 seeds, his numbers beside our mean ± std, timed.

Run: ``python benchmarks/nielsen_ladder.py [--recipe modern|nielsen|both] [--seeds 3] [--workers 2] [--out DIR]``.
The same as ``cnnlab experiment nielsen`` (see :mod:`cnnlab.apps.tune.nielsen` for the rows and both recipes);
prints the markdown table of docs/tune.md and writes ``ladder.json``/``ladder.png`` in ``--out``. Networks
already trained in ``--out`` are read back, so an interrupted run continues where it stopped. The ``modern``
recipe takes about an hour on 2 cores; ``nielsen`` (plain SGD, mini-batch 10, 40-60 epochs, 250,000 expanded
images) takes days there: ``--rows`` and ``--epochs-scale`` measure part of it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipe", default="modern", choices=("modern", "nielsen", "both"))
    parser.add_argument("--rows", default="", help="comma-separated rows [all]")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--ensemble-size", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--epochs-scale", type=float, default=1.0)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--out", default="runs/nielsen-ladder")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)

    from cnnlab.apps.tune.nielsen import ROW_KEYS, LadderSpec, run_ladder

    rows = tuple(r for r in args.rows.split(",") if r) or ROW_KEYS
    recipes = ("modern", "nielsen") if args.recipe == "both" else (args.recipe,)
    spec = LadderSpec(recipes=recipes, rows=rows, seeds=args.seeds, ensemble_size=args.ensemble_size,
                      workers=args.workers, epochs_scale=args.epochs_scale, first_seed=args.first_seed,
                      extra={"load_average_start": os.getloadavg()[0]})
    summary = run_ladder(spec, args.out, log=None if args.json else lambda line: print(line, file=sys.stderr,
                                                                                       flush=True))
    if args.json:
        print(json.dumps(summary))
    else:
        from cnnlab.apps.tune.nielsen import table_markdown

        print(table_markdown(summary), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
