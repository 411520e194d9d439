"""Frequency-only CNN vs 2-D CNN vs DNN at equal size: FSDD official split and leave-one-speaker-out.

Each model trains with the same options on the official split (takes 0–4 test) and on the six
leave-one-speaker-out folds (the test speaker is never heard in training); the table gives the test
accuracy, its mean ± std over the folds, parameters, MACs per 1 s clip (the body on log-mel features; the
STFT is not counted), wall/CPU training time, and the ten Allison digits (a voice never trained on).
Results are written after every training (atomically), so an interrupted benchmark keeps what it measured.
"""

from __future__ import annotations

import os
import platform
import statistics
from pathlib import Path

import torch

from cnnlab.errors import ConfigError

from cnnlab.apps.speech.data import list_fsdd
from cnnlab.apps.speech.models import MODELS
from cnnlab.apps.speech.training import create_model, train

__all__ = ["run_benchmark", "render_table", "render_paired", "paired", "merge"]


def _macs(name: str, utterance_norm: str = "max") -> int:
    from cnnlab.analysis import summary

    net = create_model(name, utterance_norm=utterance_norm)
    return int(summary(net.body, net.feature_shape).total_macs)


def run_benchmark(models=("freq", "cnn2d", "dnn"), *, folds: str = "all", speakers=None, epochs: int = 20,
                  out: str | Path | None = None, root=None, seed: int = 0, seeds=None, progress: bool = False,
                  augment=None, utterance_norm: str = "max", extra_train=(), log=print) -> dict:
    """Train every model on the official split and the leave-one-speaker-out folds.

    Args:
        models: short names (``freq``, ``cnn2d``, ``dnn``).
        folds: ``"all"`` (official + every speaker), ``"official"`` or ``"speakers"``.
        speakers: the held-out speakers of the leave-one-speaker-out folds (default: every speaker), e.g. to
            spread the folds over several processes (each writes its own ``out``; :func:`merge` joins them).
        epochs: training epochs of every run (Adam 3e-3, cosine, batch 64, best validation weights).
        out: JSON file written after every run (``None``: not written). When it exists, the runs it holds
            (same model, split and seed) are kept and not trained again: an interrupted benchmark resumes.
        seed, seeds: the seed of every run, or several seeds (each split × model once per seed).
        augment, utterance_norm, extra_train: the recipe, as for :func:`~.training.train` (synthesised clips
            join the training split only).
        log: called with one line per finished run.

    Returns:
        ``{"machine": ..., "epochs", "recipe", "runs": [{model, split, seed, params, test_accuracy, ...}]}``.
    """
    import json

    known = sorted({c.speaker for c in list_fsdd(root)})
    speakers = list(speakers) if speakers else known
    if set(speakers) - set(known):
        raise ConfigError(f"`speakers` must be among {', '.join(known)}; got {', '.join(sorted(set(speakers) - set(known)))}")
    splits = (["official"] if folds in ("all", "official") else []) + \
        ([f"speaker:{s}" for s in speakers] if folds in ("all", "speakers") else [])
    seeds = list(seeds) if seeds else [seed]
    if augment is True:
        from cnnlab.apps.speech.augment import SpeechAugment

        augment = SpeechAugment()
    recipe = {"augment": augment.describe() if augment else None, "utterance_norm": utterance_norm,
              "extra_train": [str(f) for f in extra_train]}
    doc = {"machine": {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(),
                       "torch_threads": torch.get_num_threads(),
                       "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None},
           "epochs": epochs, "recipe": recipe,
           "macs": {m: _macs(m, utterance_norm) for m in models}, "runs": []}
    if out is not None and Path(out).is_file():
        old = json.loads(Path(out).read_text())
        if old.get("epochs") != epochs or old.get("recipe", recipe) != recipe:
            raise ConfigError(f"`{out}` holds a benchmark with other options (epochs {old.get('epochs')}, recipe "
                              f"{old.get('recipe')}); pick another --out")
        doc["runs"] = old["runs"]
    done = {(r["model"], r["split"], r.get("seed", 0)) for r in doc["runs"]}
    for s in seeds:
        for split in splits:
            for m in models:
                if (m, split, s) in done:
                    continue
                r = train(m, split=split, epochs=epochs, root=root, seed=s, progress=progress, augment=augment,
                          utterance_norm=utterance_norm, extra_train=extra_train)
                doc["runs"].append({"model": m, "split": split, "seed": s, "params": r.params,
                                    "test_accuracy": r.test_accuracy, "per_speaker": r.per_speaker,
                                    "train_seconds": r.train_seconds, "cpu_seconds": r.cpu_seconds,
                                    "allison": r.allison,
                                    "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None})
                log(f"{m:6s} {split:18s} seed {s} acc {100 * r.test_accuracy:6.2f}%  "
                    f"allison {r.allison['correct'] if r.allison else '-'}/10  "
                    f"{r.train_seconds:.0f} s wall, {r.cpu_seconds:.0f} s CPU")
                if out is not None:
                    from cnnlab.io import write_json

                    write_json(Path(out), doc)
    return doc


def merge(docs: list[dict]) -> dict:
    """One benchmark document from several (same epochs and recipe), runs in official-then-speaker order."""
    if len({d["epochs"] for d in docs}) > 1:
        raise ConfigError(f"benchmarks with different epochs cannot be merged: {sorted({d['epochs'] for d in docs})}")
    if len({str(d.get("recipe")) for d in docs}) > 1:
        raise ConfigError("benchmarks with different recipes cannot be merged")
    runs = [r for d in docs for r in d["runs"]]
    runs.sort(key=lambda r: (r["split"] != "official", r["split"], r.get("seed", 0)))
    macs = {k: v for d in docs for k, v in d["macs"].items()}
    return {"machine": [d["machine"] for d in docs], "epochs": docs[0]["epochs"], "recipe": docs[0].get("recipe"),
            "macs": macs, "runs": runs}


def _fold_means(runs) -> dict[str, float]:
    """Accuracy (%) per split, averaged over the seeds that ran it."""
    by = {}
    for r in runs:
        by.setdefault(r["split"], []).append(100 * r["test_accuracy"])
    return {k: statistics.mean(v) for k, v in by.items()}


def _mean_std(values) -> str:
    values = list(values)
    if not values:
        return "—"
    return f"{statistics.mean(values):.1f} ± {statistics.stdev(values):.1f}%" if len(values) > 1 else f"{values[0]:.1f}%"


def render_table(doc: dict) -> str:
    """The benchmark's markdown table (one row per model): official split (mean ± std over seeds), LOSO mean ±
    std over the folds (each fold averaged over seeds), the folds, Allison digits, time per run."""
    models = list(dict.fromkeys(r["model"] for r in doc["runs"]))
    n_seeds = len({r.get("seed", 0) for r in doc["runs"]})
    lines = [f"| model | params | MACs / clip | official split{' (over seeds)' if n_seeds > 1 else ''} | "
             "leave-one-speaker-out (mean ± std over folds) | folds | Allison (official-split model"
             f"{'s' if n_seeds > 1 else ''}) | train time per run (wall / CPU) |",
             "|---|---:|---:|---:|---:|---|---:|---:|"]
    for m in models:
        runs = [r for r in doc["runs"] if r["model"] == m]
        official = [r for r in runs if r["split"] == "official"]
        loso = _fold_means([r for r in runs if r["split"].startswith("speaker:")])
        folds = " ".join(f"{k.split(':')[1]} {v:.0f}" for k, v in sorted(loso.items())) or "—"
        allison = [r["allison"]["correct"] for r in official if r.get("allison")]
        allison_txt = ("/".join(str(a) for a in allison) + " of 10") if allison else "—"
        wall = statistics.mean(r["train_seconds"] for r in runs)
        cpu = statistics.mean(r["cpu_seconds"] for r in runs)
        lines.append(f"| {MODELS.get(m, m)} | {runs[0]['params']:,} | {doc['macs'].get(m, 0) / 1e6:.2f} M | "
                     f"{_mean_std(100 * r['test_accuracy'] for r in official)} | {_mean_std(loso.values())} | "
                     f"{folds} | {allison_txt} | {wall:.0f} s / {cpu:.0f} s |")
    return "\n".join(lines)


def paired(doc: dict, a: str = "freq", b: str = "cnn2d") -> dict | None:
    """Model ``a`` minus model ``b`` on the same held-out speakers: mean ± std of the per-fold difference
    (points), and on how many folds ``a`` is better. ``None`` without common folds."""
    fa = _fold_means([r for r in doc["runs"] if r["model"] == a and r["split"].startswith("speaker:")])
    fb = _fold_means([r for r in doc["runs"] if r["model"] == b and r["split"].startswith("speaker:")])
    common = sorted(set(fa) & set(fb))
    if not common:
        return None
    diff = [fa[k] - fb[k] for k in common]
    return {"mean": statistics.mean(diff), "std": statistics.stdev(diff) if len(diff) > 1 else 0.0,
            "better": sum(d > 0 for d in diff), "folds": len(diff)}


def render_paired(doc: dict) -> str:
    """One line per comparison of the frequency-only CNN with the other models."""
    models = list(dict.fromkeys(r["model"] for r in doc["runs"]))
    out = []
    for b in [m for m in models if m != "freq"]:
        p = paired(doc, "freq", b)
        if p and "freq" in models:
            out.append(f"freq − {b} on unseen speakers: {p['mean']:+.1f} ± {p['std']:.1f} points "
                       f"(better on {p['better']} of {p['folds']} folds)")
    return "\n".join(out)
