"""Apply a super-resolution model to a whole RGB image of any size, in tiles when it is large.

A Y-channel model (one input channel) sharpens the luminance and takes Cb/Cr from the bicubic upscale (the
SRCNN protocol); an RGB model maps RGB to RGB. LR-space models (FSRCNN, ESPCN: ``model.upscale == scale``)
take the LR image; HR-space models (SRCNN: ``model.upscale == 1``) take its bicubic upscale. Tiles overlap
by ``margin`` input pixels, which are computed and thrown away, so a margin at least the model's receptive
radius gives the same pixels as one pass over the whole image.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from cnnlab.apps.superres.images import merge_y, resize, split_y, to_tensor, to_uint8
from cnnlab.errors import ConfigError, ShapeError

__all__ = ["model_scale", "in_channels", "run_tiled", "super_resolve", "bicubic"]


def model_scale(model: nn.Module) -> int:
    """The factor the model itself enlarges by: 1 for SRCNN (bicubic-upscaled input), r for FSRCNN/ESPCN."""
    return int(getattr(model, "upscale", 1))


def in_channels(model: nn.Module) -> int:
    """Channels of the model's first convolution (1: Y, 3: RGB)."""
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            return m.in_channels
    raise ConfigError(f"a super-resolution model needs a convolution; {type(model).__name__} has none")


@torch.no_grad()
def run_tiled(model: nn.Module, x: torch.Tensor, *, tile: int = 256, margin: int = 16) -> torch.Tensor:
    """``model(x)`` for one image x (C, H, W), computed on overlapping tiles of ``tile`` input pixels.

    Args:
        model: maps (1, C, h, w) to (1, C', r·h, r·w) with r = :func:`model_scale`.
        x: the input image.
        tile: tile side in input pixels (the whole image at once when it fits).
        margin: input pixels of context added on each side of a tile and cropped from its output.

    Returns:
        (C', r·H, r·W) float tensor.
    """
    if x.dim() != 3:
        raise ShapeError(f"`x` must be one image (C, H, W); got {tuple(x.shape)}")
    if tile < 1 or margin < 0:
        raise ConfigError(f"`tile` must be ≥ 1 and `margin` ≥ 0; got tile={tile}, margin={margin}")
    r = model_scale(model)
    _, h, w = x.shape
    if h <= tile and w <= tile:
        return model(x[None])[0]
    out = None
    for top in range(0, h, tile):
        for left in range(0, w, tile):
            t0, l0 = max(top - margin, 0), max(left - margin, 0)
            b1, r1 = min(top + tile, h), min(left + tile, w)
            piece = model(x[None, :, t0:min(b1 + margin, h), l0:min(r1 + margin, w)])[0]
            if out is None:
                out = x.new_empty(piece.shape[0], r * h, r * w)
            dt, dl = (top - t0) * r, (left - l0) * r
            out[:, top * r:b1 * r, left * r:r1 * r] = piece[:, dt:dt + (b1 - top) * r, dl:dl + (r1 - left) * r]
    return out


def bicubic(lr: np.ndarray, scale: int) -> np.ndarray:
    """PIL bicubic upscale of a uint8 RGB image by ``scale``."""
    return resize(lr, (lr.shape[0] * scale, lr.shape[1] * scale))


def super_resolve(model: nn.Module, lr: np.ndarray, scale: int, *, tile: int = 256, margin: int = 16,
                  return_y: bool = False):
    """Upscale a uint8 RGB image (H, W, 3) by ``scale`` with ``model``.

    Args:
        model: a trained SR model in eval mode (1 channel: Y; 3 channels: RGB).
        lr: the low-resolution image.
        scale: the factor (must be the model's own for LR-space models).
        tile, margin: see :func:`run_tiled`.
        return_y: also return the model's Y output (float, (1, s·H, s·W), rounded to 8 bits) for PSNR on Y.

    Returns:
        uint8 RGB (s·H, s·W, 3), or ``(rgb, y)`` with ``return_y``.

    Raises:
        ConfigError: an LR-space model trained for another scale.
    """
    r = model_scale(model)
    if r != 1 and r != scale:
        raise ConfigError(f"this model upscales by {r}; got `scale` {scale}")
    bic = to_tensor(bicubic(lr, scale))
    src = to_tensor(lr) if r != 1 else bic
    channels = in_channels(model)
    if channels == 1:
        y_in, _ = split_y(src)
        _, cbcr = split_y(bic)
        y = run_tiled(model, y_in, tile=tile, margin=margin).clamp_(0, 1).mul_(255).round_().div_(255)
        rgb = merge_y(y, cbcr)
    elif channels == 3:
        rgb = run_tiled(model, src, tile=tile, margin=margin).clamp_(0, 1)
        y = split_y(rgb.mul(255).round().div(255))[0]
    else:
        raise ConfigError(f"a super-resolution model takes 1 (Y) or 3 (RGB) channels; this one takes {channels}")
    out = to_uint8(rgb)
    return (out, y) if return_y else out
