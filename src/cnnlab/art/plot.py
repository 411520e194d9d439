"""Rendering of style-transfer loss curves: pure functions of the history records."""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Sequence

from cnnlab.errors import require


def loss_csv(history: Sequence) -> str:
    """CSV text of the history: step, height, width, content, style, tv, total."""
    lines = ["step,height,width,content,style,tv,total"]
    lines += [f"{r.step},{r.height},{r.width},{r.content:.6g},{r.style:.6g},{r.tv:.6g},{r.total:.6g}" for r in history]
    return "\n".join(lines) + "\n"


def save_loss_curve(history: Sequence, path: str | os.PathLike, *, title: str = "style transfer") -> Path:
    """Plot the weighted losses per evaluation (log scale, stage boundaries marked) to a PNG, atomically."""
    require("matplotlib", "pip install matplotlib")
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    from cnnlab.io import atomic_write

    fig = Figure(figsize=(6, 3.6), dpi=100)
    ax = fig.add_subplot(1, 1, 1)
    steps = [r.step for r in history]
    floor = max(r.total for r in history) * 1e-5  # content starts at 0: keep the axis readable
    for key in ("total", "style", "content", "tv"):
        values = [max(getattr(r, key), floor) for r in history]
        ax.plot(steps, values, label=key, linewidth=2 if key == "total" else 1)
    top = max(r.total for r in history)
    for prev, r in zip(history, history[1:]):
        if (r.height, r.width) != (prev.height, prev.width):  # a coarse-to-fine stage starts
            ax.axvline(r.step, color="grey", linestyle=":", linewidth=1)
            ax.text(r.step, top, f" {r.width}×{r.height}", fontsize=7, va="top", color="grey")
    ax.set_yscale("log")
    ax.set_xlabel("loss evaluation")
    ax.set_ylabel("weighted loss")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    with atomic_write(path, "wb") as fh:
        fh.write(buf.getvalue())
    return Path(path)
