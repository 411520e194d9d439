"""Validation-only pilots for Kim's TextCNN on MR: which settings to use, chosen without any test fold.

Run: ``python benchmarks/text_pilots.py --variant nonstatic [--configs NAME,...] [--folds 1,2,3,4] [--workers 2]``.
Each candidate trains on the training part of MR's 10-fold cross-validation fold f (the same seeded folds,
validation split, initialisation and data order as ``cnnlab text train --folds 10``) and is scored by its
best **validation** accuracy; the test fold is never read. The validation sentences of fold f are test
sentences of other folds, so the choice is not nested cross-validation: docs/text.md says so beside the
table. Prints one JSON line per run and the mean per candidate, paired with ``kim`` (the same folds).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import statistics
import time
from concurrent.futures import ProcessPoolExecutor

from _pilots import add_configs, config_names

#: name -> overrides. ``model``: TextCNN keywords (maps, dropout); ``fit``: fit options replacing Kim's;
#: ``scale``: factor on the whole initial embedding table (pretrained and uniform rows alike); ``dim``: rand's D.
CONFIGS: dict[str, dict] = {
    "kim": {},
    "maps200": {"model": {"maps": 200}},
    "maps400": {"model": {"maps": 400}},
    "scale2": {"scale": 2.0},
    "scale0.5": {"scale": 0.5},
    "batch25": {"fit": {"batch_size": 25}},
    "dropout0.3": {"model": {"dropout": 0.3}},
    "adam1e-3": {"fit": {"optimizer": "adam", "lr": 1e-3}},
    "wdrop0.1": {"model": {"word_dropout": 0.1}},
    "wdrop0.25": {"model": {"word_dropout": 0.25}},
    "edrop0.25": {"model": {"embed_dropout": 0.25}},
    "edrop0.5": {"model": {"embed_dropout": 0.5}},
    "edrop0.75": {"model": {"embed_dropout": 0.75}},
    "edrop0.5_batch25": {"model": {"embed_dropout": 0.5}, "fit": {"batch_size": 25}},
    "edrop0.5_wdrop0.1": {"model": {"embed_dropout": 0.5, "word_dropout": 0.1}},
    "batch25_wdrop0.1": {"model": {"word_dropout": 0.1}, "fit": {"batch_size": 25}},
    "dim100": {"dim": 100},
    "dim200": {"dim": 200},
    "dim100_edrop0.5": {"dim": 100, "model": {"embed_dropout": 0.5}},
}


def pilot(job: tuple[str, str, int]) -> dict:
    """Train one candidate on fold ``f``'s training part; its best validation accuracy and epoch."""
    import torch

    from cnnlab import fit
    from cnnlab.apps.text import train as T
    from cnnlab.apps.text.vectors import load_vectors

    variant, name, f = job
    torch.set_num_threads(1)
    cfg = CONFIGS[name]
    td = T.prepare("mr")
    vec = None if variant == "rand" else load_vectors("glove50", td.vocab.itos[2:])
    dim = cfg.get("dim", 50 if vec is None else vec.dim)
    ds = T.fold_data(td, T.fold_indices(len(td.y), 10, 0), f, 0.1, 0, test=False)  # the table's fold f, no test
    model, _ = T.build_model(td, variant, vec, dim, f, model_options=cfg.get("model"))
    if "scale" in cfg:
        with torch.no_grad():
            for table in model.embed.tables():
                table.weight.mul_(cfg["scale"])
    opts = {**T.fit_defaults(variant), **cfg.get("fit", {}), "seed": f}
    start = time.perf_counter()
    history = fit(model, ds, callbacks=[T.MaxNorm(model.max_norm)], progress=False, **opts)
    return {"variant": variant, "config": name, "fold": f, "best_val_accuracy": max(history["val_accuracy"]),
            "best_epoch": history.best_epoch, "epochs": len(history), "wall_s": round(time.perf_counter() - start, 1)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variant", default="nonstatic", choices=("rand", "static", "nonstatic", "multichannel"))
    add_configs(parser, CONFIGS)
    parser.add_argument("--folds", default="1,2,3,4", help="folds of MR's 10-fold CV whose training part is used")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    names = config_names(parser, args.configs, CONFIGS)
    folds = [int(f) for f in args.folds.split(",")]
    if any(not 1 <= f <= 10 for f in folds):
        parser.error(f"--folds must name folds 1-10; got {args.folds!r}")
    jobs = [(args.variant, n, f) for f in folds for n in names]
    scores: dict[str, dict[int, float]] = {n: {} for n in names}
    with ProcessPoolExecutor(args.workers, mp_context=mp.get_context("spawn")) as pool:
        for result in pool.map(pilot, jobs):
            print(json.dumps(result), flush=True)
            scores[result["config"]][result["fold"]] = result["best_val_accuracy"]
    base = scores.get("kim")
    for name, by_fold in sorted(scores.items(), key=lambda kv: -statistics.mean(kv[1].values())):
        line = f"{name:14s} best validation {100 * statistics.mean(by_fold.values()):.2f}% (folds {len(by_fold)})"
        if base and name != "kim":
            diffs = [by_fold[f] - base[f] for f in by_fold if f in base]
            line += f"  vs kim {100 * statistics.mean(diffs):+.2f}" + (
                f" ± {100 * statistics.stdev(diffs):.2f}" if len(diffs) > 1 else "")
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
