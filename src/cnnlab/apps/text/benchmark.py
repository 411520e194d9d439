"""Kim (2014)'s MR table reproduced: the four TextCNN variants with K-fold cross-validation, timed.

``run_benchmark`` trains each variant with :func:`cnnlab.apps.text.train.train` (one CV folder per variant
under ``out``; rerunning skips finished folds) and returns plain records; ``render_table`` prints the
markdown table with Kim's numbers beside ours (mean ± std over folds), the time per variant (training +
validation seconds summed from the fold histories, so a resumed fold counts all its epochs; CPU seconds count
each fold's last call only), the torch thread count, the CPU and the load average.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Callable, List, Optional

__all__ = ["KIM_MR", "run_benchmark", "render_table"]

#: Kim (2014), Table 2, MR column (10-fold CV accuracy, %); 300-d word2vec for static/non-static/multichannel.
KIM_MR = {"rand": 76.1, "static": 81.0, "nonstatic": 81.5, "multichannel": 81.1}


def _cpu() -> str:
    from cnnlab.train.perf import cpu_description

    return cpu_description()


def _history_seconds(folder: Path, cv: dict) -> float:
    """Training + validation seconds of every fold, summed from the runs' histories (right across resumes)."""
    from cnnlab.train.history import History

    total = 0.0
    for f in cv["folds"]:
        records = History.read(folder / f"fold{int(f['fold']):02d}").records
        total += sum(float(r.get("time", 0.0)) for r in records)
    return round(total, 1)


def _settings(folder: Path, cv: dict) -> str:
    """``"25 ep, patience 5, adadelta lr 1, bf16"`` from the first fold's ``config.json`` (what actually ran)."""
    if not cv.get("folds"):
        return "-"
    path = folder / f"fold{int(cv['folds'][0]['fold']):02d}" / "config.json"
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "-"
    fit, resolved = config.get("fit", {}), config.get("resolved", {})
    patience = fit.get("patience", 0)
    text = (f"≤{fit.get('epochs')} ep, {f'patience {patience}' if patience else 'no early stop'}, "
            f"{fit.get('optimizer')} lr {fit.get('lr'):g}, {resolved.get('precision', fit.get('precision'))}")
    try:  # the model's own keywords where they leave Kim's (recorded by zoo.create)
        kwargs = json.loads((path.parent / "model.json").read_text(encoding="utf-8")).get("kwargs", {})
    except (OSError, ValueError):
        kwargs = {}
    import inspect

    from cnnlab.apps.text.model import TextCNN

    kim = inspect.signature(TextCNN).parameters  # the defaults are Kim's
    for key, label in (("maps", "maps"), ("embed_dropout", "embedding dropout"), ("word_dropout", "word dropout")):
        if key in kwargs and kwargs[key] != kim[key].default:
            text += f", {label} {kwargs[key]:g}"
    return text


def run_benchmark(*, variants: List[str], folds: int = 10, vectors: str = "glove50", out: str | Path,
                  threads: Optional[int] = None, seed: int = 0, embed_dim: Optional[int] = None,
                  rand_dim: Optional[int] = None, log: Optional[Callable[[str], None]] = None, train_missing: bool = True,
                  model_options: Optional[dict] = None, **options) -> dict:
    """Cross-validate each variant on MR; returns ``{"rows": [...], "threads", "cpu", "load", "seconds"}``.

    With ``train_missing=False`` nothing is trained: the rows come from the ``cv.json`` files already in
    ``out`` (variants without one are left out; a row's ``completed`` says how many folds it has).
    ``rand_dim`` is the embedding size of CNN-rand alone (the pretrained variants take the vectors' size).
    """
    import torch

    from cnnlab.apps.text.train import train

    if threads:
        torch.set_num_threads(int(threads))
    out = Path(out)
    load_before = os.getloadavg()
    rows, start = [], time.perf_counter()
    for variant in variants:
        t0 = time.perf_counter()
        if not train_missing:
            path = out / variant / "cv.json"
            if not path.is_file():
                continue
            cv = json.loads(path.read_text(encoding="utf-8"))
        else:
            cv = train("mr", variant=variant, vectors=vectors, out=out / variant, folds=folds, seed=seed, progress=False,
                       embed_dim=(rand_dim or embed_dim) if variant == "rand" else embed_dim,
                       log=(lambda line, v=variant: log(f"{v}: {line}")) if log else None,
                       model_options=model_options, **options)
        rows.append({"variant": variant, "kim": KIM_MR.get(variant), "mean": 100 * cv["mean"], "std": 100 * cv["std"],
                     "folds": [100 * f["accuracy"] for f in cv["folds"]], "epochs": [f["epochs"] for f in cv["folds"]],
                     "seconds": _history_seconds(out / variant, cv), "cpu_seconds": cv.get("cpu_seconds", 0.0),
                     "seconds_this_call": round(time.perf_counter() - t0, 1),
                     "embed_dim": cv["embed_dim"], "settings": _settings(out / variant, cv), "vectors": cv["vectors"], "k": cv["k"],
                     "completed": cv.get("completed", len(cv["folds"]))})
        if log:
            log(f"{variant}: {rows[-1]['mean']:.2f} ± {rows[-1]['std']:.2f}  ({rows[-1]['seconds']:.0f} s)")
    return {"rows": rows, "threads": torch.get_num_threads(), "cpu": _cpu(), "load_before": list(load_before),
            "load_after": list(os.getloadavg()), "seconds": round(sum(r["seconds"] for r in rows), 1),
            "wall_this_call": round(time.perf_counter() - start, 1), "options": options, "seed": seed,
            "table_only": not train_missing}


def _folds(row: dict) -> str:
    done = row.get("completed", row["k"])
    return str(row["k"]) if done == row["k"] else f"{done} of {row['k']}"


def render_table(result: dict) -> str:
    """Markdown table of :func:`run_benchmark`'s result (pure)."""
    lines = ["| variant | Kim 2014 (word2vec 300-d) | cnnlab (mean ± std over folds) | folds | vectors | epochs run "
             "(min-max) | time: wall (CPU) | settings |", "|---|---|---|---|---|---|---|---|"]
    for r in result["rows"]:
        vec = "random" if r["variant"] == "rand" else f"{r['vectors']}"
        ep = f"{min(r['epochs'])}-{max(r['epochs'])}" if r["epochs"] else "-"
        kim = f"{r['kim']:.1f}" if r["kim"] is not None else "-"
        lines.append(f"| CNN-{r['variant']} | {kim} | **{r['mean']:.2f} ± {r['std']:.2f}** | {_folds(r)} | "
                     f"{vec} ({r['embed_dim']}-d) | {ep} | {r['seconds'] / 60:.1f} min ({r['cpu_seconds'] / 60:.1f} min) | "
                     f"{r.get('settings', '-')} |")
    lines.append("")
    if result.get("table_only"):
        lines.append("(table read from the finished folds; no training in this call)")
    cpu = sum(r["cpu_seconds"] for r in result["rows"])
    lines.append(f"Training + validation time summed over every fold of every row: {result['seconds'] / 60:.1f} min "
                 f"wall, {cpu / 60:.1f} min CPU (rows trained in parallel processes overlap in wall time), with "
                 f"{result['threads']} torch thread(s) on "
                 f"{result['cpu']}; load average before/after: "
                 f"{' '.join(f'{v:.1f}' for v in result['load_before'])} / "
                 f"{' '.join(f'{v:.1f}' for v in result['load_after'])}.")
    for r in result["rows"]:
        lines.append(f"- CNN-{r['variant']} per fold: {', '.join(f'{a:.2f}' for a in r['folds'])}")
    return "\n".join(lines)
