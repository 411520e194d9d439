"""Matplotlib figures for the report (imported lazily, Agg backend): training curves, confusion matrix,
per-class accuracy. Each function takes plain data and returns PNG bytes."""

from __future__ import annotations

import math

import numpy as np

from cnnlab.pictures import figure_png, pyplot

_SKIP = {"epoch", "step", "steps", "time", "seconds", "wall", "lr", "learning_rate", "samples", "images_per_s"}


_plt = pyplot


def _png(fig) -> bytes:
    return figure_png(fig, dpi=96, tight=True)


def _number(v):
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def training_curves(history: list[dict]) -> bytes | None:
    """Loss-like columns on the left, everything else (accuracy, ...) on the right; x = epoch (or row)."""
    if not history:
        return None
    keys = [k for k in history[0] if k.lower() not in _SKIP and _number(history[0].get(k)) is not None]
    if not keys:
        return None
    xs = [(_number(r.get("epoch")) if _number(r.get("epoch")) is not None else i + 1) for i, r in enumerate(history)]
    losses = [k for k in keys if "loss" in k.lower()]
    others = [k for k in keys if k not in losses]
    panels = [p for p in (losses, others) if p]
    plt = _plt()
    fig, axes = plt.subplots(1, len(panels), figsize=(5.2 * len(panels), 3.4), squeeze=False)
    for ax, cols in zip(axes[0], panels):
        for k in cols:
            ys = [_number(r.get(k)) for r in history]
            ax.plot(xs, [np.nan if y is None else y for y in ys], marker="o", ms=3, label=k)
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    axes[0][0].set_title("loss")
    if len(panels) > 1:
        axes[0][1].set_title("metrics")
    return _png(fig)


def confusion_figure(cm, classes: list[str]) -> bytes:
    """Confusion matrix (rows true, columns predicted) with counts written in the cells."""
    cm = np.asarray(cm)
    k = cm.shape[0]
    plt = _plt()
    size = min(9.0, 1.6 + 0.45 * k)
    fig, ax = plt.subplots(figsize=(size, size))
    norm = cm / np.maximum(cm.sum(1, keepdims=True), 1)
    ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    if k <= 20:
        for i in range(k):
            for j in range(k):
                ax.text(j, i, str(int(cm[i, j])), ha="center", va="center", fontsize=7,
                        color="white" if norm[i, j] > 0.5 else "black")
    ticks = range(k)
    ax.set_xticks(ticks, [str(c) for c in classes][:k], rotation=90 if k > 10 else 0, fontsize=7)
    ax.set_yticks(ticks, [str(c) for c in classes][:k], fontsize=7)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    return _png(fig)


def per_class_bars(acc, classes: list[str]) -> bytes:
    acc = np.asarray(acc, dtype=float)
    plt = _plt()
    fig, ax = plt.subplots(figsize=(min(10, 1.5 + 0.4 * len(acc)), 3))
    ax.bar(range(len(acc)), np.nan_to_num(acc), color="#4c72b0")
    ax.set_xticks(range(len(acc)), [str(c) for c in classes][: len(acc)], rotation=90 if len(acc) > 10 else 0, fontsize=7)
    lo = max(0.0, float(np.nanmin(acc)) - 0.05) if np.isfinite(acc).any() else 0.0
    ax.set_ylim(lo, 1.0)
    ax.set_ylabel("accuracy")
    ax.grid(axis="y", alpha=0.3)
    return _png(fig)
