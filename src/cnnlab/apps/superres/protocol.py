"""The papers' evaluation protocol, on Set5's given LR files.

For each image: the LR file is upscaled (bicubic: PIL BICUBIC to the HR size; a model: through
:func:`cnnlab.apps.superres.upscale.super_resolve`), both it and the HR file go to MATLAB's Y channel
(Y = 16 + (65.481 R + 128.553 G + 24.966 B)/255), ``scale`` pixels are shaved from each border and PSNR
(peak 1 on [0, 1], the same number as peak 255 on 8-bit values) and SSIM are taken; the mean is over the
images. Bicubic gives 33.67 / 30.40 / 28.43 dB at ×2/×3/×4 (papers: 33.66 / 30.39 / 28.42).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import torch
from torch import nn

from cnnlab.apps.superres.data import SRImage, set5
from cnnlab.apps.superres.images import crop_to_multiple, degrade, split_y, to_tensor
from cnnlab.apps.superres.upscale import bicubic, super_resolve
from cnnlab.quality import psnr, ssim

__all__ = ["ImageScore", "Evaluation", "evaluate", "resize_gap", "y_of"]


def y_of(rgb) -> torch.Tensor:
    """MATLAB Y (1, 1, H, W) float64 of a uint8 RGB array."""
    return split_y(to_tensor(rgb, torch.float64))[0][None]


@dataclass
class ImageScore:
    """PSNR (dB) and SSIM of one image, bicubic and model (``None`` without a model)."""

    name: str
    size: tuple
    bicubic_psnr: float
    bicubic_ssim: float
    psnr: float | None = None
    ssim: float | None = None


@dataclass
class Evaluation:
    """Per-image scores and their means."""

    data: str
    scale: int
    images: list = field(default_factory=list)

    def mean(self, key: str) -> float | None:
        vals = [getattr(s, key) for s in self.images]
        return None if any(v is None for v in vals) else sum(vals) / len(vals)

    def to_dict(self) -> dict:
        keys = ("bicubic_psnr", "bicubic_ssim", "psnr", "ssim")
        return {"data": self.data, "scale": self.scale, "images": [asdict(s) for s in self.images],
                "mean": {k: self.mean(k) for k in keys}}


def _score(pred_y: torch.Tensor, hr_y: torch.Tensor, scale: int, with_ssim: bool = True) -> tuple[float, float]:
    s = float(ssim(pred_y, hr_y, shave=scale)[0]) if with_ssim else float("nan")
    return float(psnr(pred_y, hr_y, shave=scale)[0]), s


def evaluate(model: nn.Module | None, scale: int, images: list[SRImage] | None = None, *, data: str = "set5",
             tile: int = 256, with_ssim: bool = True) -> Evaluation:
    """Score ``model`` (and bicubic beside it) on ``images`` (default: Set5 at ``scale``).

    Args:
        model: a trained SR model in eval mode, or ``None`` for bicubic only.
        scale: the upscaling factor (shave = scale).
        images: test images with their LR files; default :func:`cnnlab.apps.superres.data.set5`.
        data: the name recorded in the result.
        tile: tile side for large images.
        with_ssim: also compute SSIM (``nan`` otherwise; PSNR curves during training skip it).

    Returns:
        :class:`Evaluation` with per-image scores (Y channel, shave = scale).
    """
    images = set5(scale) if images is None else images
    result = Evaluation(data, scale)
    for im in images:
        hr_y = y_of(im.hr)
        bic = bicubic(im.lr, scale)
        if bic.shape != im.hr.shape:  # HR not a multiple of the scale: compare the common top-left part
            bic = bic[:im.hr.shape[0], :im.hr.shape[1]]
            hr_y = hr_y[..., :bic.shape[0], :bic.shape[1]]
        score = ImageScore(im.name, tuple(im.hr.shape[:2]), *_score(y_of(bic), hr_y, scale, with_ssim))
        if model is not None:
            _, y = super_resolve(model, im.lr, scale, tile=tile, return_y=True)
            y = y[..., :hr_y.shape[-2], :hr_y.shape[-1]].double()[None]
            score.psnr, score.ssim = _score(y, hr_y, scale, with_ssim)
        result.images.append(score)
    return result


def resize_gap(scale: int) -> dict:
    """How far PIL's bicubic downscaling is from the MATLAB ``imresize`` that made Set5's LR files.

    Returns:
        ``{"max_abs_diff": levels of 255, "y_psnr": PSNR of PIL-LR vs MATLAB-LR on Y (dB),
        "bicubic_psnr_pil_lr": the bicubic baseline (dB) from PIL-made LR, "bicubic_psnr_matlab_lr": from the files}``.
    """
    ims = set5(scale)
    diffs, gaps, pil_scores, file_scores = [], [], [], []
    for im in ims:
        lr, bic = degrade(crop_to_multiple(im.hr, scale), scale)
        diffs.append(int(abs(lr.astype(int) - im.lr.astype(int)).max()))
        gaps.append(float(psnr(y_of(lr), y_of(im.lr))[0]))
        pil_scores.append(float(psnr(y_of(bic), y_of(im.hr), shave=scale)[0]))
        file_scores.append(float(psnr(y_of(bicubic(im.lr, scale)), y_of(im.hr), shave=scale)[0]))
    n = len(ims)
    return {"max_abs_diff": max(diffs), "y_psnr": sum(gaps) / n, "bicubic_psnr_pil_lr": sum(pil_scores) / n,
            "bicubic_psnr_matlab_lr": sum(file_scores) / n}
