"""Train a Go policy on SGF games through the core's ``fit`` (classification over size² + 1 moves).

Positions come from :mod:`cnnlab.apps.go.positions`, split by game into train / validation / test; the
held-out test positions are stored in the run folder (``go_test.safetensors``: planes, moves, move numbers)
so that the report and ``cnnlab go eval`` measure exactly the games training never saw. The illegal-move
mask is applied inside the model (the ``legal`` input plane), so the classification task's plain
cross-entropy trains among legal moves only.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch

from cnnlab.apps.go import positions as positions_mod
from cnnlab.errors import ConfigError

TEST_FILE = "go_test.safetensors"
MODELS = ("go_policy", "go_policy_pool")
DEFAULTS = {"epochs": 8, "batch_size": 256, "lr": 2e-3, "schedule": "cosine", "optimizer": "adam",
            "weight_decay": 1e-4}


def extra_repeats(pos) -> int:
    return sum(reason == "repeats an earlier game" for _, reason in pos.skipped)


def dataset(pos: positions_mod.Positions, split, size: int, name: str):
    from cnnlab.data import Dataset

    tr, va, te = (pos.subset(s) for s in split)
    t = torch.from_numpy
    return Dataset(name, t(tr.x), t(tr.y), t(va.x), t(va.y), t(te.x), t(te.y),
                   classes=positions_mod.move_classes(size)), te


def train(sources, out: str | Path, *, model: str = "go_policy", size: int = 9, filters: int = 64, layers: int = 6,
          augment: bool = True, val: float = 0.05, test: float = 0.1, split_seed: int = 0, max_games: int | None = None,
          max_minutes: float | None = None, progress: bool = True, log=None, **options) -> dict:
    """Build positions from ``sources`` (SGF files/folders), train ``model`` with ``fit`` into ``out``.

    Returns:
        dict with games (train/val/test), positions, seconds, the final epoch's numbers and the test
        accuracies (top-1, top-5) of the weights ``fit`` kept.
    """
    from cnnlab import fit, zoo
    from cnnlab.train.callbacks import TimeBudget
    from cnnlab.train import tasks

    if model not in MODELS:
        raise ConfigError(f"`--model` must be one of {', '.join(MODELS)}; got {model!r}")
    start = time.perf_counter()
    pos = positions_mod.build(sources, size=size)
    n_games = len(pos.files)
    if max_games is not None and max_games < n_games:
        pos = pos.subset(range(max_games))
        n_games = max_games
    split = positions_mod.split_games(n_games, val=val, test=test, seed=split_seed)
    ds, te = dataset(pos, split, size, f"go-{size}x{size}")
    built = time.perf_counter() - start
    if log:
        log(f"{n_games} games -> {len(pos)} positions ({len(ds.y_train)} train, {len(ds.y_val)} val, "
            f"{len(ds.y_test)} test; split by game), {built:.0f} s; {len(pos.skipped)} file(s) left out "
            f"({extra_repeats(pos)} exact repeats of an earlier game)")
    net = zoo.create(model, size=size, filters=filters, layers=layers, augment=augment)
    opts = {**DEFAULTS, **options}
    callbacks = [TimeBudget(60.0 * max_minutes)] if max_minutes else []
    extra = {"app": "go", "model": model, "size": size, "sources": [str(s) for s in sources], "games": n_games,
             "games_train": len(split[0]), "games_val": len(split[1]), "games_test": len(split[2]),
             "positions_train": int(len(ds.y_train)), "split_seed": split_seed, "val": val, "test": test,
             "test_files": [pos.files[i] for i in split[2]] if pos.files else [],
             "skipped": len(pos.skipped),
             "repeats_dropped": sum(reason == "repeats an earlier game" for _, reason in pos.skipped)}
    out = Path(out)
    positions_mod.save(out / TEST_FILE, te)
    history = fit(net, ds, task=tasks.Classification(topk=5), out=out, progress=progress, callbacks=callbacks,
                  extra=extra, **opts)
    net.eval()
    acc = accuracy(net, te)
    last = history.records[-1] if history.records else {}
    return {"games": n_games, "games_train": len(split[0]), "games_val": len(split[1]), "games_test": len(split[2]),
            "positions": len(pos), "epochs": len(history.records), "seconds": time.perf_counter() - start,
            "val_accuracy": last.get("val_accuracy"), "test_top1": acc["top1"], "test_top5": acc["top5"],
            "test_positions": acc["n"]}


@torch.no_grad()
def predict_logits(model, x: np.ndarray, batch: int = 2048, symmetries: int = 1) -> torch.Tensor:
    """Move logits of planes ``x`` (N, C, S, S); ``symmetries=8`` averages the move probabilities over the 8
    board symmetries (each mapped back to the original board) and returns their log: a test-time ensemble
    of the one network, still without any search."""
    from cnnlab.apps.go import symmetry

    if symmetries not in (1, 8):
        raise ConfigError(f"`symmetries` must be 1 or 8; got {symmetries}")
    model.eval()
    size = x.shape[-1]
    outs = []
    for i in range(0, len(x), batch):
        xb = np.ascontiguousarray(x[i:i + batch])
        if symmetries == 1:
            outs.append(model(torch.from_numpy(xb)).float())
            continue
        probs = 0
        for k in range(symmetry.COUNT):
            logits = model(torch.from_numpy(symmetry.transform_grid(xb, k))).float()
            back = torch.from_numpy(symmetry.move_index(size, k))  # original move p sits at back[p]
            probs = probs + torch.softmax(logits, 1)[:, back]
        outs.append(torch.log(probs / symmetry.COUNT))
    return torch.cat(outs) if outs else torch.zeros(0)


def accuracy(model, pos: positions_mod.Positions, symmetries: int = 1) -> dict:
    """Top-1 / top-5 agreement with the recorded moves."""
    logits = predict_logits(model, pos.x, symmetries=symmetries)
    y = torch.from_numpy(pos.y)
    top5 = logits.topk(5, dim=1).indices
    return {"top1": float((top5[:, 0] == y).float().mean()), "top5": float((top5 == y[:, None]).any(1).float().mean()),
            "n": int(len(y))}


PHASES = ((1, 10), (11, 20), (21, 30), (31, 40), (41, 50), (51, 60), (61, 10_000))


def accuracy_by_phase(model, pos: positions_mod.Positions, symmetries: int = 1) -> list[dict]:
    """Top-1/top-5 per range of move numbers (opening, middle game, endgame)."""
    logits = predict_logits(model, pos.x, symmetries=symmetries)
    y = torch.from_numpy(pos.y)
    top5 = logits.topk(5, dim=1).indices
    rows = []
    for lo, hi in PHASES:
        keep = torch.from_numpy((pos.move_number >= lo) & (pos.move_number <= hi))
        n = int(keep.sum())
        if n == 0:
            continue
        rows.append({"moves": f"{lo}-{hi}" if hi < 10_000 else f"{lo}+", "positions": n,
                     "top1": float((top5[keep, 0] == y[keep]).float().mean()),
                     "top5": float((top5[keep] == y[keep, None]).any(1).float().mean())})
    return rows


def evaluate_run(run, symmetries: int = 1) -> dict:
    """Top-1/top-5 and accuracy by phase of a run folder on its stored held-out test positions."""
    from cnnlab.bundle import resolve
    from cnnlab.errors import DataError

    path = Path(run) / TEST_FILE
    if not path.is_file():
        raise DataError(f"`{run}` has no held-out positions ({TEST_FILE}); is it a run of `cnnlab go train`?")
    te = positions_mod.load(path)
    model = resolve(run).model.eval()
    return {**accuracy(model, te, symmetries), "phases": accuracy_by_phase(model, te, symmetries),
            "symmetries": symmetries}
