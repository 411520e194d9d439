"""Figures of super-resolution results as PNG bytes (matplotlib, imported lazily): crops of ground truth /
bicubic / model side by side, PSNR curves of runs, a model's first-layer filters. Used by the run report
(:mod:`cnnlab.apps.superres.report`) and by ``scripts/superres_docs.py``."""

from __future__ import annotations

import csv
from pathlib import Path

from torch import nn

from cnnlab.pictures import figure_png, pyplot
from cnnlab.apps.superres.data import SRImage
from cnnlab.apps.superres.protocol import evaluate
from cnnlab.apps.superres.upscale import bicubic, super_resolve

__all__ = ["crops_png", "curves_png", "filters_png", "CROPS"]

#: (Set5 index, top, left) of the 64×64 HR crops shown: baby's eye, butterfly's wing, woman's lips
CROPS = ((0, 200, 150), (2, 90, 100), (4, 150, 60))


_plt = pyplot


def _png(fig) -> bytes:
    return figure_png(fig, dpi=90, tight=True)


def crops_png(model: nn.Module, images: list[SRImage], scale: int, name: str, crops=CROPS, side: int = 64) -> bytes:
    """Rows of ground truth | bicubic | model crops (side×side HR pixels); titles give whole-image PSNR (Y, shaved)."""
    plt = _plt()
    ev = evaluate(model, scale, images, with_ssim=False)
    fig, axes = plt.subplots(len(crops), 3, figsize=(9, 3 * len(crops)), squeeze=False)
    for row, (k, top, left) in enumerate(crops):
        im, s = images[k], ev.images[k]
        shown = [(im.hr, f"{im.name} ground truth"), (bicubic(im.lr, scale), f"bicubic {s.bicubic_psnr:.2f} dB"),
                 (super_resolve(model, im.lr, scale), f"{name} {s.psnr:.2f} dB")]
        for col, (img, title) in enumerate(shown):
            ax = axes[row, col]
            ax.imshow(img[top:top + side, left:left + side], interpolation="nearest")
            ax.set_title(title, fontsize=10)
            ax.axis("off")
    fig.suptitle(f"Set5 ×{scale}, {side}×{side} crops; PSNR of the whole image (Y, {scale}-pixel shave)", fontsize=11)
    fig.tight_layout()
    return _png(fig)


def curves_png(runs: dict, target: float | None = None) -> bytes:
    """Validation-patch PSNR (history.csv) and Set5 PSNR (set5_psnr.csv) per epoch of each ``name -> run folder``."""
    plt = _plt()
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4))
    bic = None
    for name, run in runs.items():
        with open(Path(run) / "history.csv", newline="") as fh:
            hist = list(csv.DictReader(fh))
        a.plot([int(r["epoch"]) for r in hist], [float(r["val_psnr"]) for r in hist], marker="o", ms=3, label=name)
        curve = Path(run) / "set5_psnr.csv"
        if curve.is_file():
            with open(curve, newline="") as fh:
                rows = list(csv.DictReader(fh))
            b.plot([int(r["epoch"]) for r in rows], [float(r["set5_psnr"]) for r in rows], marker="o", ms=3,
                   label=name)
            bic = float(rows[0]["bicubic_psnr"])
    a.set(title="validation patches (T91 crops, Y)", xlabel="epoch", ylabel="PSNR (dB)")
    b.set(title="Set5 (Y, border shaved)", xlabel="epoch", ylabel="PSNR (dB)")
    if bic is not None:
        b.axhline(bic, color="gray", ls="--", label=f"bicubic {bic:.2f}")
    if target is not None:
        b.axhline(target, color="black", ls=":", label=f"target {target:.2f}")
    for ax in (a, b):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    return _png(fig)


def filters_png(model: nn.Module, name: str, cols: int = 8) -> bytes:
    """The first layer's filters (input channel 0), each scaled to its own range (grey: 0)."""
    plt = _plt()
    w = model.features[0].weight.detach().float()[:, 0]  # (F, KH, KW)
    n = w.shape[0]
    rows = (n + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 1.1, rows * 1.1 + 0.4), squeeze=False)
    for k, ax in enumerate(axes.flat):
        ax.axis("off")
        if k < n:
            lim = float(w[k].abs().max()) or 1.0
            ax.imshow(w[k].numpy(), cmap="gray", vmin=-lim, vmax=lim, interpolation="nearest")
    fig.suptitle(f"{name}: first-layer filters ({n} × {w.shape[1]}×{w.shape[2]}, each scaled to its own range)",
                 fontsize=10)
    fig.tight_layout()
    return _png(fig)
