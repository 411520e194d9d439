"""Validation-only pilots of Nielsen's ladder: the `shallow` row's modern recipe, and the `dropout` row's epochs.

Run: ``python benchmarks/nielsen_pilots.py [--configs NAME,...] [--seeds 100,101,102] [--workers 2]``.
Each candidate trains the row's network (784 → 100 sigmoid → 10) with seeds 100-102 (never the ladder's seeds
0-14) and is scored by its best **validation** accuracy (the last 10,000 images of MNIST's training set); the
test split is never read. ``nielsen`` is his own recipe (raw pixels, his initialisation, plain SGD at
mini-batch 10, 60 epochs) as a reference; ``raw_*`` trains on raw [0, 1] pixels instead of normalised ones;
``dropout_*`` train the `dropout` row's network (its modern recipe with 30, 20 or 15 epochs) instead.
Prints one JSON line per run and the mean per candidate; the table is in docs/tune.md. About 25 minutes on 2
cores for all candidates.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import statistics
import time
from concurrent.futures import ProcessPoolExecutor

from _pilots import add_configs, config_names

_SGD_B10 = {"optimizer": "sgd", "momentum": 0.0, "batch_size": 10, "epochs": 30, "schedule": "cosine"}
CONFIGS: dict[str, dict | None] = {
    "nielsen": None,
    "sgdm_b16_lr0.05_oc30": {"optimizer": "sgd", "momentum": 0.9, "lr": 0.05, "batch_size": 16, "epochs": 30,
                             "schedule": "onecycle"},
    "sgdm_b16_lr0.05_oc30_ls0.1": {"optimizer": "sgd", "momentum": 0.9, "lr": 0.05, "batch_size": 16,
                                   "epochs": 30, "schedule": "onecycle", "label_smoothing": 0.1},
    "sgd_b10_lr0.1_cos30": {**_SGD_B10, "lr": 0.1},
    "sgd_b10_lr0.2_cos30": {**_SGD_B10, "lr": 0.2},
    "sgd_b10_lr0.1_cos30_wd5e-4": {**_SGD_B10, "lr": 0.1, "weight_decay": 5e-4},
    "raw_sgd_b10_lr0.1_cos30": {**_SGD_B10, "lr": 0.1, "raw": True},
    "sgdm_b10_lr0.02_oc40": {"optimizer": "sgd", "momentum": 0.9, "lr": 0.02, "batch_size": 10, "epochs": 40,
                             "schedule": "onecycle"},
    "adam_b10_lr1e-3_oc30": {"optimizer": "adam", "lr": 1e-3, "batch_size": 10, "epochs": 30,
                             "schedule": "onecycle"},
    "adamw_b32_lr2e-3_oc30_wd0.1": {"optimizer": "adamw", "lr": 2e-3, "batch_size": 32, "epochs": 30,
                                    "schedule": "onecycle", "weight_decay": 0.1},
    "adamw_b16_lr1e-3_oc30_wd0.3": {"optimizer": "adamw", "lr": 1e-3, "batch_size": 16, "epochs": 30,
                                    "schedule": "onecycle", "weight_decay": 0.3},
    # the `dropout` row (1000-unit FC layers, dropout 0.5, 1-pixel shifts): its recipe with fewer epochs
    "dropout_oc30": {"row": "dropout", "optimizer": "adam", "schedule": "onecycle", "batch_size": 128, "lr": 1e-3,
                     "epochs": 30},
    "dropout_oc20": {"row": "dropout", "optimizer": "adam", "schedule": "onecycle", "batch_size": 128, "lr": 1e-3,
                     "epochs": 20},
    "dropout_oc15": {"row": "dropout", "optimizer": "adam", "schedule": "onecycle", "batch_size": 128, "lr": 1e-3,
                     "epochs": 15},
}


def pilot(job: tuple[str, int]) -> dict:
    """Train one candidate with one seed; its best validation accuracy and epoch."""
    import dataclasses

    import torch

    from cnnlab.apps.tune import nielsen as N
    from cnnlab.train import fit

    name, seed = job
    torch.set_num_threads(1)
    cfg = dict(CONFIGS[name] or {})
    raw = cfg.pop("raw", False)
    recipe = "nielsen" if CONFIGS[name] is None else "modern"
    row = dataclasses.replace(N.get_row(cfg.pop("row", "shallow")), modern=cfg)  # the candidate as the row's recipe
    ds = N._dataset("mnist", "nielsen" if raw else recipe, False, None)
    opts = N.fit_options(row, recipe, seed, n_train=len(ds.y_train))
    torch.manual_seed(seed)
    model = N.build(row)
    if recipe == "nielsen":
        N.nielsen_init(model, torch.Generator().manual_seed(seed))
    start = time.perf_counter()
    history = fit(model, ds, progress=False, **opts)
    return {"config": name, "seed": seed, "best_val_accuracy": max(history["val_accuracy"]),
            "best_epoch": history.best_epoch, "epochs": len(history), "wall_s": time.perf_counter() - start}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_configs(parser, CONFIGS)
    parser.add_argument("--seeds", default="100,101,102")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    names = config_names(parser, args.configs, CONFIGS)
    jobs = [(n, int(s)) for n in names for s in args.seeds.split(",")]
    scores: dict[str, list[float]] = {n: [] for n in names}
    with ProcessPoolExecutor(args.workers, mp_context=mp.get_context("spawn")) as pool:
        for result in pool.map(pilot, jobs):
            print(json.dumps(result), flush=True)
            scores[result["config"]].append(result["best_val_accuracy"])
    for name, vals in sorted(scores.items(), key=lambda kv: -statistics.mean(kv[1])):
        print(f"{name:32s} best validation {100 * statistics.mean(vals):.2f}% (n={len(vals)})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
