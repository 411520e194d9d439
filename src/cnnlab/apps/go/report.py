"""Report sections of a Go policy run (``cnnlab report RUN`` for runs with ``extra.app == "go"``).

Move-prediction accuracy (top-1/top-5) on the held-out test games stored in the run, accuracy by game phase,
policy heat maps on example test positions, and the comparison table of every Go run in the same parent
folder (the no-pooling and the pooling network side by side: accuracy, training time and, when
``RUN/match.json`` exists (``cnnlab go match RUN --out RUN/match.json``), the win rate against GNU Go).
"""

from __future__ import annotations

import json
from pathlib import Path

from cnnlab.htmlparts import Figure, Section, table_html

__all__ = ["report_sections", "comparison_rows"]


def _pct(v) -> str:
    return "–" if v is None else f"{100 * v:.1f}%"


def _match(path: Path) -> dict | None:
    f = path / "match.json"
    if not f.is_file():
        return None
    try:
        return json.loads(f.read_text())["summary"]
    except (ValueError, KeyError):
        return None


def comparison_rows(parent: Path) -> list[list]:
    """One row per Go run folder under ``parent``: model, games, epochs, minutes, top-1, top-5, match."""
    from cnnlab.apps.go.train import evaluate_run
    from cnnlab.runfolder import read_config

    rows = []
    for d in sorted(p for p in parent.iterdir() if (p / "config.json").is_file() and (p / "go_test.safetensors").is_file()):
        cfg = read_config(d)
        extra = cfg.get("extra") or {}
        if extra.get("app") != "go":
            continue
        ev = evaluate_run(d)
        hist = (d / "history.csv").read_text().splitlines()[1:] if (d / "history.csv").is_file() else []
        minutes = sum(float(r.split(",")[-1]) for r in hist if r) / 60
        m = _match(d)
        match = "–" if m is None else (f"{m['wins']}/{m['games']} = {_pct(m['win_rate'])} "
                                       f"[{_pct(m['wilson95'][0])}, {_pct(m['wilson95'][1])}] vs level {m['level']}")
        rows.append([d.name, extra.get("model", "?"), extra.get("games_train", "?"), len(hist),
                     f"{minutes:.1f}", _pct(ev["top1"]), _pct(ev["top5"]), match])
    return rows


def report_sections(run, **options) -> tuple[str, list[Section]]:
    import numpy as np
    import torch

    from cnnlab.apps.go import positions as positions_mod
    from cnnlab.apps.go.show import board_from_planes, board_png
    from cnnlab.apps.go.train import TEST_FILE, accuracy, accuracy_by_phase, predict_logits

    extra = dict(run.extra or {})
    path = Path(run.path)
    model = run.model.eval()
    te = positions_mod.load(path / TEST_FILE)
    acc = accuracy(model, te)
    subtitle = (f"Go policy ({extra.get('model', '?')}) trained on {extra.get('games_train', '?')} games, "
                f"tested on {extra.get('games_test', '?')} held-out games")
    secs = [Section("go-accuracy", "Move prediction on held-out games", [
        f"<p>Agreement with the recorded moves on {acc['n']} positions of {extra.get('games_test', '?')} games that "
        f"training never saw (split by game, never by position; exact repeats of a game dropped first).</p>",
        table_html(["top-1", "top-5", "positions"], [[_pct(acc["top1"]), _pct(acc["top5"]), acc["n"]]])])]
    phases = accuracy_by_phase(model, te)
    secs.append(Section("go-phases", "Accuracy by game phase", [table_html(
        ["moves", "positions", "top-1", "top-5"], [[r["moves"], r["positions"], _pct(r["top1"]), _pct(r["top5"])]
                                                   for r in phases])]))
    probs = torch.softmax(predict_logits(model, te.x), 1).numpy()
    figures = []
    first_game = te.game == te.game[0] if len(te) else np.zeros(0, bool)
    for k in (5, 20, 40):
        idx = np.flatnonzero(first_game & (te.move_number == k))
        if len(idx):
            i = int(idx[0])
            board = board_from_planes(te.x[i])
            figures.append(Figure(board_png(board, probs[i], actual=int(te.y[i]), title=f"test game, before move {k}"),
                                  f"move {k}: policy heat map (numbers: % of the top 5), blue ring: GNU Go's move",
                                  width=360))
    secs.append(Section("go-heatmaps", "Policy heat maps on held-out positions", figures or ["<p>No test positions.</p>"]))
    rows = comparison_rows(path.parent)
    secs.append(Section("go-pooling", "No pooling vs pooling (every Go run in this folder)", [
        "<p>The lecture's claim: sub-sampling a Go board destroys it, since every intersection matters. "
        "Runs in the same folder, same data and budget, side by side.</p>",
        table_html(["run", "model", "training games", "epochs", "minutes", "top-1", "top-5", "vs GNU Go"], rows)]))
    return subtitle, secs
