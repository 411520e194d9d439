"""Nielsen's improvement ladder (*Neural Networks and Deep Learning*, chapter 6), row by row, as cnnlab
models and recipes: ``cnnlab experiment nielsen`` and ``benchmarks/nielsen_ladder.py``.

The eight rows and the book's test accuracies (MNIST, 50,000 training / 10,000 validation / 10,000 test
images; the book reports "the test accuracy which corresponded to the best validation accuracy from any of
the three runs"):

==========  ==============================================================  ===========================  ======
row         network                                                         Nielsen's training           book
==========  ==============================================================  ===========================  ======
shallow     784-100 sigmoid-10 softmax                                      60 epochs, η 0.1             97.80
conv1       + conv 20×5×5 / max-pool 2 (sigmoid) before it                  60 epochs, η 0.1             98.78
conv2       + conv 40×5×5 / max-pool 2 (sigmoid)                            60 epochs, η 0.1             99.06
relu_l2     the same with ReLU everywhere, L2 λ = 0.1                       60 epochs, η 0.03            99.23
expanded    the same on the data expanded by 1-pixel shifts (250,000)       60 epochs, η 0.03, λ 0.1     99.37
fc2         + a second fully connected layer of 100 ReLU                    60 epochs, η 0.03, λ 0.1     99.43
dropout     fully connected 1000-1000 ReLU, dropout 0.5 on their inputs     40 epochs, η 0.03, no L2     99.60
            and the softmax's, expanded data
ensemble    5 dropout networks                                              their softmax outputs        99.67
                                                                            averaged (the book: a vote)
==========  ==============================================================  ===========================  ======

Two recipes train every row:

- ``nielsen``: his ``network3.py`` as far as PyTorch follows it: plain SGD (no momentum, no schedule),
  mini-batch 10, his learning rates and epochs, log-likelihood cost, L2 on weights only with his divisor
  (``0.5·λ·Σw² / number_of_minibatches`` added to the mean batch cost: weight decay ``λ·batch/n``), his
  initialisation (:func:`nielsen_init`), raw [0, 1] pixels, the stored 250,000-image expansion
  (:func:`cnnlab.data.expand_shifts`). Two differences, both equal in expectation or harmless: dropout is
  inverted (activations scaled by 1/(1-p) in training instead of the weights by (1-p) at test), and batches
  are reshuffled every epoch (his are fixed slices).
- ``modern``: the same networks and ingredients trained the cnnlab way: a one-cycle schedule (Adam at batch
  128; AdamW at batch 32 with weight decay 0.1 for the sigmoid MLP), normalised inputs, PyTorch's default
  initialisation, 10-30 epochs (the per-row settings in :data:`ROWS`, chosen on validation: docs/tune.md); L2
  becomes AdamW's decoupled weight decay on weights; the expansion is drawn afresh each epoch
  (:class:`cnnlab.data.PixelShifts`: each image as is or moved one pixel, the five equally likely: the
  distribution of his expanded set, one-fifth of the images per epoch).

Every run restores the weights of its best validation-accuracy epoch (his selection rule) and is evaluated
once on the test split. The ensemble row of seed ``s`` averages the dropout networks of seeds
``s·K … s·K+K-1`` (K = ``ensemble_size``), so ensembles never share a network; the dropout row reports all
of them.
"""

from __future__ import annotations

import json
import math
import os
import statistics
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import torch
from torch import nn

from cnnlab.errors import ConfigError, UnknownNameError

RECIPES = ("modern", "nielsen")
RESULT_FILE = "result.json"
PROBS_FILE = "test_probs.pt"


@dataclass(frozen=True)
class Row:
    key: str
    title: str
    book: float  # Nielsen's test accuracy, percent
    activation: str
    convs: int
    dense: tuple[int, ...]
    dropout: float
    expanded: bool
    nielsen: dict  # epochs, lr, lmbda
    modern: dict  # fit options
    ensemble: bool = False


_MODERN_BASE = {"optimizer": "adam", "schedule": "onecycle", "batch_size": 128, "lr": 3e-3}
_NIELSEN_SIGMOID = {"epochs": 60, "lr": 0.1, "lmbda": 0.0}
_NIELSEN_RELU = {"epochs": 60, "lr": 0.03, "lmbda": 0.1}

# The modern recipes were chosen on the validation split with seeds 100-102 (never the ladder's 0-14), one
# change at a time from Adam + one-cycle to 3e-3, batch 128, 10 epochs (best validation accuracy, docs/tune.md).
ROWS: tuple[Row, ...] = (
    Row("shallow", "100 sigmoid hidden units", 97.80, "sigmoid", 0, (100,), 0.0, False, _NIELSEN_SIGMOID,
        {**_MODERN_BASE, "optimizer": "adamw", "lr": 2e-3, "batch_size": 32, "weight_decay": 0.1, "epochs": 30}),
    Row("conv1", "+ conv-pool layer", 98.78, "sigmoid", 1, (100,), 0.0, False, _NIELSEN_SIGMOID,
        {**_MODERN_BASE, "epochs": 20}),
    Row("conv2", "+ second conv-pool layer", 99.06, "sigmoid", 2, (100,), 0.0, False, _NIELSEN_SIGMOID,
        {**_MODERN_BASE, "epochs": 15}),
    Row("relu_l2", "ReLU + L2", 99.23, "relu", 2, (100,), 0.0, False, _NIELSEN_RELU,
        {**_MODERN_BASE, "optimizer": "adamw", "weight_decay": 0.05, "epochs": 10}),
    Row("expanded", "+ data expanded by 1-pixel shifts", 99.37, "relu", 2, (100,), 0.0, True, _NIELSEN_RELU,
        {**_MODERN_BASE, "optimizer": "adamw", "weight_decay": 0.05, "epochs": 15}),
    Row("fc2", "+ second fully connected layer", 99.43, "relu", 2, (100, 100), 0.0, True, _NIELSEN_RELU,
        {**_MODERN_BASE, "optimizer": "adamw", "weight_decay": 0.05, "epochs": 15}),
    Row("dropout", "dropout, 1000-unit FC layers", 99.60, "relu", 2, (1000, 1000), 0.5, True,
        {"epochs": 40, "lr": 0.03, "lmbda": 0.0}, {**_MODERN_BASE, "lr": 1e-3, "epochs": 30}),
    Row("ensemble", "ensemble of 5", 99.67, "relu", 2, (1000, 1000), 0.5, True,
        {"epochs": 40, "lr": 0.03, "lmbda": 0.0}, {**_MODERN_BASE, "lr": 1e-3, "epochs": 30}, ensemble=True),
)
ROW_KEYS = tuple(r.key for r in ROWS)


def get_row(key: str) -> Row:
    for row in ROWS:
        if row.key == key:
            return row
    raise UnknownNameError(f"unknown ladder row {key!r}; known: {', '.join(ROW_KEYS)}")


def build(row: Row | str) -> nn.Module:
    """The row's network as a Keras-style :class:`cnnlab.layers.Sequential` on 1×28×28 MNIST images."""
    from cnnlab.layers import Conv2D, Dense, Dropout, Flatten, MaxPooling2D, Sequential

    row = get_row(row) if isinstance(row, str) else row
    layers = []
    for filters in (20, 40)[:row.convs]:
        layers += [Conv2D(filters, 5, activation=row.activation), MaxPooling2D(2)]
    layers.append(Flatten())
    for units in row.dense:
        if row.dropout:
            layers.append(Dropout(row.dropout))
        layers.append(Dense(units, activation=row.activation))
    if row.dropout:
        layers.append(Dropout(row.dropout))
    layers.append(Dense(10))
    return Sequential(layers, input_shape=(1, 28, 28))


@torch.no_grad()
def nielsen_init(model: nn.Module, generator: torch.Generator | None = None) -> nn.Module:
    """``network3.py``'s initialisation: weights N(0, 1/n_out) with n_out = units, or filters·kh·kw / 4 for a
    conv layer followed by a 2×2 pool; biases N(0, 1); the last (softmax) layer all zeros."""
    layers = [m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    for i, m in enumerate(layers):
        if i == len(layers) - 1:
            m.weight.zero_()
            if m.bias is not None:
                m.bias.zero_()
            continue
        n_out = m.out_channels * math.prod(m.kernel_size) / 4 if isinstance(m, nn.Conv2d) else m.out_features
        m.weight.normal_(0.0, math.sqrt(1.0 / n_out), generator=generator)
        if m.bias is not None:
            m.bias.normal_(0.0, 1.0, generator=generator)
    return model


def fit_options(row: Row, recipe: str, seed: int, n_train: int | None = None, epochs_scale: float = 1.0) -> dict:
    """The :func:`cnnlab.train.fit` options of one run of ``row`` with ``recipe``; ``n_train`` is the size of
    the training set the run sees (default MNIST's 50,000, × 5 for the expanded rows), which his L2 divides by."""
    if recipe == "nielsen":
        spec = row.nielsen
        batch = 10
        n = n_train or 50_000 * (5 if row.expanded else 1)
        opts = {"optimizer": "sgd", "momentum": 0.0, "lr": spec["lr"], "batch_size": batch,
                "weight_decay": spec["lmbda"] * batch / n, "decay_biases": False, "epochs": spec["epochs"],
                "precision": "fp32", "layout": "auto"}
    elif recipe == "modern":
        opts = {**row.modern, "precision": "auto", "layout": "auto"}
        if opts.get("weight_decay"):
            opts["decay_biases"] = False
        if row.expanded:
            from cnnlab.data import PixelShifts

            opts["augment"] = PixelShifts(1)
    else:
        raise UnknownNameError(f"unknown recipe {recipe!r}; known: {', '.join(RECIPES)}")
    opts["epochs"] = max(1, round(opts["epochs"] * epochs_scale))
    return {**opts, "seed": seed, "monitor": "val_accuracy", "restore_best_weights": True}


# ---------------------------------------------------------------- one run (in a worker process)

_DATA_CACHE: dict = {}


def _dataset(data: str, recipe: str, expanded: bool, train_subset: int | None):
    """The dataset of one run: normalised for ``modern``; raw pixels and the stored expansion for ``nielsen``."""
    key = (data, recipe, expanded, train_subset)
    if key not in _DATA_CACHE:
        from cnnlab.data import Dataset, expand_shifts
        from cnnlab.workflows.train import load_data_for

        ds = load_data_for((1, 28, 28), data)
        if train_subset:
            ds = ds.subset(train=train_subset)
        if recipe == "nielsen":
            x, y = (expand_shifts(ds.x_train, ds.y_train) if expanded else (ds.x_train, ds.y_train))
            ds = Dataset(ds.name, x, y, ds.x_val, ds.y_val, ds.x_test, ds.y_test, list(ds.classes),
                         (0.0,), (1.0,))  # mean 0, std 1: his raw [0, 1] pixels
        _DATA_CACHE.clear()  # one dataset at a time: the expansion is 5× MNIST
        _DATA_CACHE[key] = ds
    return _DATA_CACHE[key]


def run_one(job: dict) -> dict:
    """Train one network of the ladder; writes its run folder and ``result.json`` (and, for the dropout
    networks, the test-set softmax outputs the ensembles average)."""
    from cnnlab import io
    from cnnlab.preprocess import for_stats
    from cnnlab.train import evaluate, fit

    if job.get("threads"):
        torch.set_num_threads(job["threads"])
    row, recipe, seed, out = get_row(job["row"]), job["recipe"], job["seed"], Path(job["out"])
    ds = _dataset(job["data"], recipe, row.expanded, job.get("train_subset"))
    opts = fit_options(row, recipe, seed, n_train=len(ds.y_train), epochs_scale=job.get("epochs_scale", 1.0))
    torch.manual_seed(seed)
    model = build(row)
    if recipe == "nielsen":
        nielsen_init(model, torch.Generator().manual_seed(seed))
    start = time.perf_counter()
    history = fit(model, ds, out=out, progress=False, extra={"experiment": "nielsen", "row": row.key,
                                                             "recipe": recipe}, **opts)
    wall = time.perf_counter() - start
    test = evaluate(model, ds, confusion=False)
    result = {"row": row.key, "recipe": recipe, "seed": seed, "test_accuracy": test["accuracy"],
              "best_val_accuracy": max(history["val_accuracy"]), "best_epoch": history.best_epoch,
              "epochs": len(history), "wall_s": wall, "images": len(ds.y_train) * len(history),
              "threads": torch.get_num_threads()}
    if row.key == "dropout":
        model.eval()
        pre = for_stats(ds.mean, ds.std)
        with torch.no_grad():
            probs = torch.cat([torch.softmax(model(pre(xb)).float(), 1) for xb in ds.x_test.split(1000)])
        io.write_bytes_via(out / PROBS_FILE, lambda f: torch.save(probs.half(), f))
    io.write_json(out / RESULT_FILE, result)
    return result


# ---------------------------------------------------------------- the ladder

@dataclass
class LadderSpec:
    recipes: tuple[str, ...] = ("modern",)
    rows: tuple[str, ...] = ROW_KEYS
    seeds: int = 3
    ensemble_size: int = 5
    workers: int = 2
    data: str = "mnist"
    epochs_scale: float = 1.0
    train_subset: int | None = None
    first_seed: int = 0
    extra: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        for recipe in self.recipes:
            if recipe not in RECIPES:
                raise UnknownNameError(f"unknown recipe {recipe!r}; known: {', '.join(RECIPES)}")
        for key in self.rows:
            get_row(key)
        for name in ("seeds", "ensemble_size", "workers"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"`{name}` must be an integer ≥ 1; got {value!r}")
        if not self.epochs_scale > 0:
            raise ConfigError(f"`epochs_scale` must be > 0; got {self.epochs_scale!r}")


def _run_dir(out: Path, recipe: str, row: str, seed: int) -> Path:
    return out / "runs" / f"{recipe}-{row}-s{seed}"


def plan(spec: LadderSpec, out: Path) -> list[dict]:
    """Every network the ladder trains: one per (recipe, row, seed); the ensemble row adds the dropout
    networks its ensembles need (``seeds × ensemble_size`` of them in all)."""
    ensemble = "ensemble" in spec.rows
    trained = [k for k in ROW_KEYS if k != "ensemble" and (k in spec.rows or (k == "dropout" and ensemble))]
    jobs = [{"row": key, "recipe": recipe, "seed": spec.first_seed + s,
             "out": str(_run_dir(out, recipe, key, spec.first_seed + s)), "data": spec.data,
             "epochs_scale": spec.epochs_scale, "train_subset": spec.train_subset}
            for recipe in spec.recipes for key in trained
            for s in range(spec.seeds * (spec.ensemble_size if key == "dropout" and ensemble else 1))]

    def size(job):  # the long runs first, so the workers finish together
        row = get_row(job["row"])
        return (row.dropout > 0, row.expanded, row.convs, len(row.dense))

    return sorted(jobs, key=size, reverse=True)


def _done(job: dict) -> dict | None:
    path = Path(job["out"]) / RESULT_FILE
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def ensemble_accuracy(prob_files: list[Path], y: torch.Tensor) -> dict:
    """Test accuracy of the averaged softmax outputs of the networks whose ``test_probs.pt`` are given, and,
    as the book did, of their majority vote (ties to the lowest class)."""
    probs = torch.stack([torch.load(p, weights_only=True).float() for p in prob_files])  # (K, N, classes)
    mean_pred = probs.mean(0).argmax(1)
    votes = torch.nn.functional.one_hot(probs.argmax(2), probs.shape[2]).sum(0)
    return {"test_accuracy": float((mean_pred == y).float().mean()),
            "vote_accuracy": float((votes.argmax(1) == y).float().mean()), "members": len(prob_files)}


def run_ladder(spec: LadderSpec, out: str | Path, log: Callable[[str], None] | None = print) -> dict:
    """Train every network of the ladder (resumable: finished runs are read back, not retrained), then write
    ``ladder.json``, ``ladder.md`` and ``ladder.png`` in ``out``."""
    import multiprocessing

    from cnnlab import io
    from cnnlab.workflows.train import load_data_for

    # an unknown or non-28×28 dataset fails here, before anything is written; its test labels score the ensembles
    y_test = load_data_for((1, 28, 28), spec.data).y_test
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    jobs = plan(spec, out)
    results = {job["out"]: r for job in jobs if (r := _done(job)) is not None}
    todo = [j for j in jobs if j["out"] not in results]
    threads = _threads(spec)
    start = time.perf_counter()
    if log:
        log(f"nielsen ladder: {len(jobs)} networks, {len(results)} already trained, {len(todo)} to train "
            f"({spec.workers} worker(s) × {threads} thread(s))")
    if todo:
        for job in todo:
            job["threads"] = threads
        if spec.workers == 1:
            for job in todo:
                results[job["out"]] = _report(run_one(job), log)
        else:
            ctx = multiprocessing.get_context("spawn")
            with ProcessPoolExecutor(spec.workers, mp_context=ctx) as pool:
                futures = [pool.submit(run_one, job) for job in todo]
                for fut in as_completed(futures):
                    r = fut.result()
                    results[str(_run_dir(out, r["recipe"], r["row"], r["seed"]))] = _report(r, log)
    wall = time.perf_counter() - start
    summary = summarize(spec, out, list(results.values()), wall, y_test)
    io.write_json(out / "ladder.json", summary)
    io.write_text(out / "ladder.md", table_markdown(summary))
    draw(summary, out / "ladder.png")
    return summary


def _report(r: dict, log) -> dict:
    if log:
        log(f"  {r['recipe']:7s} {r['row']:8s} seed {r['seed']:2d}: test {100 * r['test_accuracy']:.2f}% "
            f"(best val {100 * r['best_val_accuracy']:.2f}% at epoch {r['best_epoch']}/{r['epochs']}, "
            f"{r['wall_s']:.0f} s)")
    return r


def _mean_std(values: list[float]) -> tuple[float, float]:
    return (statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else 0.0)


def _threads(spec: LadderSpec) -> int:
    return max(1, (os.cpu_count() or 1) // spec.workers)


def summarize(spec: LadderSpec, out: Path, results: list[dict], wall_s: float, y_test: torch.Tensor) -> dict:
    """The table: per recipe and row, test accuracy mean ± std over seeds, the book's number, the time
    (``y_test``: the test labels the ensembles' saved outputs are scored against)."""
    rows = []
    for recipe in spec.recipes:
        for key in spec.rows:
            row = get_row(key)
            if key == "ensemble":
                members = {r["seed"]: r for r in results if r["recipe"] == recipe and r["row"] == "dropout"}
                ensembles = []
                for s in range(spec.seeds):
                    seeds = [spec.first_seed + s * spec.ensemble_size + k for k in range(spec.ensemble_size)]
                    files = [_run_dir(out, recipe, "dropout", sd) / PROBS_FILE for sd in seeds]
                    ens = ensemble_accuracy(files, y_test)
                    ens["seed"], ens["member_seeds"] = spec.first_seed + s, seeds
                    ens["wall_s"] = sum(members[sd]["wall_s"] for sd in seeds)
                    ensembles.append(ens)
                accs = [100 * e["test_accuracy"] for e in ensembles]
                votes = [100 * e["vote_accuracy"] for e in ensembles]
                mean, std = _mean_std(accs)
                rows.append({"recipe": recipe, "row": key, "title": f"ensemble of {spec.ensemble_size}",
                             "book": row.book, "mean": mean, "std": std, "n": len(accs), "accuracies": accs,
                             "vote_mean": statistics.fmean(votes),
                             "vote_accuracies": votes, "epochs": members[spec.first_seed]["epochs"],
                             "train_s": sum(e["wall_s"] for e in ensembles), "ensembles": ensembles})
                continue
            runs = sorted((r for r in results if r["recipe"] == recipe and r["row"] == key), key=lambda r: r["seed"])
            accs = [100 * r["test_accuracy"] for r in runs]
            mean, std = _mean_std(accs)
            rows.append({"recipe": recipe, "row": key, "title": row.title, "book": row.book, "mean": mean,
                         "std": std, "n": len(accs), "accuracies": accs,
                         "val_mean": statistics.fmean(100 * r["best_val_accuracy"] for r in runs),
                         "epochs": runs[0]["epochs"], "best_epochs": [r["best_epoch"] for r in runs],
                         "train_s": sum(r["wall_s"] for r in runs), "threads": runs[0]["threads"]})
    for recipe in spec.recipes:
        mine = [r for r in rows if r["recipe"] == recipe]
        for r in mine:
            r["within_015"] = r["mean"] >= r["book"] - 0.15
        for prev, cur in zip(mine, mine[1:]):
            cur["improves"] = cur["mean"] > prev["mean"]
    return {"rows": rows, "wall_s": wall_s, "spec": {k: v for k, v in spec.__dict__.items() if k != "extra"},
            "cpu": _cpu(), "torch_threads": _threads(spec), **spec.extra}


def _cpu() -> str:
    from cnnlab.train.perf import cpu_description

    return cpu_description()


def table_markdown(summary: dict) -> str:
    lines = ["| recipe | row | Nielsen | ours (mean ± std) | seeds | epochs | ≥ book − 0.15 | better than the row above "
             "| train time (sum) |", "|---|---|---|---|---|---|---|---|---|"]
    for r in summary["rows"]:
        extra = f" (vote {r['vote_mean']:.2f})" if "vote_mean" in r else ""
        lines.append(f"| {r['recipe']} | {r['title']} | {r['book']:.2f} | {r['mean']:.2f} ± {r['std']:.2f}{extra} "
                     f"| {r['n']} | {r['epochs']} | {'yes' if r['within_015'] else 'no'} "
                     f"| {'—' if 'improves' not in r else ('yes' if r['improves'] else 'no')} "
                     f"| {_train_time(r)} |")
    lines.append("")
    lines.append(f"Wall time {summary['wall_s'] / 60:.1f} min on {summary['cpu']} "
                 f"({summary['spec']['workers']} worker(s) × {summary['torch_threads']} torch thread(s)).")
    return "\n".join(lines) + "\n"


def _train_time(r: dict) -> str:
    return "the dropout row's networks" if r["row"] == "ensemble" else f"{r['train_s'] / 60:.1f} min"


def draw(summary: dict, path: Path) -> Path:
    """The ladder as a plot: the book's number and our mean ± std per row, one line per recipe."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from cnnlab import io

    recipes = list(dict.fromkeys(r["recipe"] for r in summary["rows"]))
    keys = list(dict.fromkeys(r["row"] for r in summary["rows"]))
    fig, ax = plt.subplots(figsize=(9, 4.8), dpi=110)
    xs = range(len(keys))
    books = [get_row(k).book for k in keys]
    ax.plot(xs, books, "k--o", label="Nielsen (book: best of 3 runs)", zorder=3)
    ax.fill_between(xs, [b - 0.15 for b in books], books, color="0.85", label="book − 0.15 … book", zorder=1)
    for i, recipe in enumerate(recipes):
        mine = {r["row"]: r for r in summary["rows"] if r["recipe"] == recipe}
        ax.errorbar([x + 0.08 * (i + 1) for x in xs], [mine[k]["mean"] for k in keys],
                    yerr=[mine[k]["std"] for k in keys], fmt="-s", capsize=3,
                    label=f"cnnlab, {recipe} recipe (test mean ± std over seeds)", zorder=4)
    ax.set_xticks(list(xs), [get_row(k).title for k in keys], rotation=25, ha="right", fontsize=8)
    ax.set_ylabel("MNIST test accuracy (%)")
    ax.set_title("Nielsen's improvement ladder (chapter 6), reproduced")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    io.write_bytes_via(path, lambda f: fig.savefig(f, format="png"))
    plt.close(fig)
    return path
