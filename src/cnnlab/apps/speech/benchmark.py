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

__all__ = ["run_benchmark", "render_table", "merge"]


def _macs(name: str) -> int:
    from cnnlab.analysis import summary

    net = create_model(name)
    return int(summary(net.body, net.feature_shape).total_macs)


def run_benchmark(models=("freq", "cnn2d", "dnn"), *, folds: str = "all", speakers=None, epochs: int = 20,
                  out: str | Path | None = None, root=None, seed: int = 0, progress: bool = False, log=print) -> dict:
    """Train every model on the official split and the leave-one-speaker-out folds.

    Args:
        models: short names (``freq``, ``cnn2d``, ``dnn``).
        folds: ``"all"`` (official + every speaker), ``"official"`` or ``"speakers"``.
        speakers: the held-out speakers of the leave-one-speaker-out folds (default: every speaker), e.g. to
            spread the folds over several processes (each writes its own ``out``; :func:`merge` joins them).
        epochs: training epochs of every run (Adam 3e-3, cosine, batch 64, best validation weights).
        out: JSON file written after every run (``None``: not written).
        log: called with one line per finished run.

    Returns:
        ``{"machine": ..., "epochs", "runs": [{model, split, params, test_accuracy, per_speaker, ...}]}``.
    """
    known = sorted({c.speaker for c in list_fsdd(root)})
    speakers = list(speakers) if speakers else known
    if set(speakers) - set(known):
        raise ConfigError(f"`speakers` must be among {', '.join(known)}; got {', '.join(sorted(set(speakers) - set(known)))}")
    splits = (["official"] if folds in ("all", "official") else []) + \
        ([f"speaker:{s}" for s in speakers] if folds in ("all", "speakers") else [])
    doc = {"machine": {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(),
                       "torch_threads": torch.get_num_threads(),
                       "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None},
           "epochs": epochs, "macs": {m: _macs(m) for m in models}, "runs": []}
    for split in splits:
        for m in models:
            r = train(m, split=split, epochs=epochs, root=root, seed=seed, progress=progress)
            doc["runs"].append({"model": m, "split": split, "params": r.params, "test_accuracy": r.test_accuracy,
                                "per_speaker": r.per_speaker, "train_seconds": r.train_seconds,
                                "cpu_seconds": r.cpu_seconds, "allison": r.allison})
            log(f"{m:6s} {split:18s} acc {100 * r.test_accuracy:6.2f}%  "
                f"allison {r.allison['correct'] if r.allison else '-'}/10  "
                f"{r.train_seconds:.0f} s wall, {r.cpu_seconds:.0f} s CPU")
            if out is not None:
                from cnnlab.io import write_json

                write_json(Path(out), doc)
    return doc


def merge(docs: list[dict]) -> dict:
    """One benchmark document from several (same epochs), runs in official-then-speaker order."""
    if len({d["epochs"] for d in docs}) > 1:
        raise ConfigError(f"benchmarks with different epochs cannot be merged: {sorted({d['epochs'] for d in docs})}")
    runs = [r for d in docs for r in d["runs"]]
    runs.sort(key=lambda r: (r["split"] != "official", r["split"]))
    macs = {k: v for d in docs for k, v in d["macs"].items()}
    return {"machine": [d["machine"] for d in docs], "epochs": docs[0]["epochs"], "macs": macs, "runs": runs}


def render_table(doc: dict) -> str:
    """The benchmark's markdown table (one row per model)."""
    models = list(dict.fromkeys(r["model"] for r in doc["runs"]))
    lines = ["| model | params | MACs / clip | official split | leave-one-speaker-out (mean ± std) | folds | "
             "Allison (official-split model) | train time per run (wall / CPU) |",
             "|---|---:|---:|---:|---:|---|---:|---:|"]
    for m in models:
        runs = [r for r in doc["runs"] if r["model"] == m]
        official = next((r for r in runs if r["split"] == "official"), None)
        loso = [r for r in runs if r["split"].startswith("speaker:")]
        accs = [100 * r["test_accuracy"] for r in loso]
        loso_txt = (f"{statistics.mean(accs):.1f} ± {statistics.stdev(accs):.1f}%" if len(accs) > 1 else
                    (f"{accs[0]:.1f}%" if accs else "—"))
        folds = " ".join(f"{r['split'].split(':')[1]} {100 * r['test_accuracy']:.0f}" for r in loso) or "—"
        allison = (f"{official['allison']['correct']}/10" if official and official.get("allison") else "—")
        wall = statistics.mean(r["train_seconds"] for r in runs)
        cpu = statistics.mean(r["cpu_seconds"] for r in runs)
        lines.append(f"| {MODELS.get(m, m)} | {runs[0]['params']:,} | {doc['macs'].get(m, 0) / 1e6:.2f} M | "
                     f"{100 * official['test_accuracy']:.1f}% | {loso_txt} | {folds} | {allison} | "
                     f"{wall:.0f} s / {cpu:.0f} s |" if official else
                     f"| {MODELS.get(m, m)} | {runs[0]['params']:,} | {doc['macs'].get(m, 0) / 1e6:.2f} M | — | "
                     f"{loso_txt} | {folds} | — | {wall:.0f} s / {cpu:.0f} s |")
    return "\n".join(lines)
