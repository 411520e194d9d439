"""Image quality the way the super-resolution papers measure it: MATLAB YCbCr, PSNR and SSIM.

SRCNN (Dong et al. 2014), FSRCNN and ESPCN report PSNR/SSIM on the luminance (Y) channel of MATLAB's
``rgb2ycbcr`` (ITU-R BT.601, studio swing: Y in [16, 235]), with ``scale`` pixels shaved from each border.
Public code often loses 1–2 dB by using another YCbCr matrix or by forgetting the shave; these functions
follow the papers. Images are float tensors in [0, 1] (``data_range`` otherwise); PSNR and SSIM are
computed in float64 and returned per image.

Example:
    >>> a = torch.full((1, 1, 8, 8), 0.5); b = a + 0.1
    >>> round(float(psnr(a, b)[0]), 4)
    20.0
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from cnnlab.errors import ShapeError

__all__ = ["rgb_to_ycbcr", "ycbcr_to_rgb", "rgb_to_y", "psnr", "ssim"]

# MATLAB rgb2ycbcr for RGB in [0, 1]: YCbCr = (OFFSET + M @ RGB) / 255
_M = torch.tensor([[65.481, 128.553, 24.966], [-37.797, -74.203, 112.0], [112.0, -93.786, -18.214]],
                  dtype=torch.float64)
_OFFSET = torch.tensor([16.0, 128.0, 128.0], dtype=torch.float64)


def _check_rgb(x: torch.Tensor, name: str) -> None:
    if not isinstance(x, torch.Tensor) or x.dim() < 3 or x.shape[-3] != 3:
        shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise ShapeError(f"`{name}` must be RGB images (..., 3, H, W); got {shape}")


def rgb_to_ycbcr(x: torch.Tensor) -> torch.Tensor:
    """MATLAB ``rgb2ycbcr`` on RGB in [0, 1]; Y in [16/255, 235/255], Cb/Cr in [16/255, 240/255].

    Shape: (..., 3, H, W) -> (..., 3, H, W), same dtype.
    """
    _check_rgb(x, "x")
    m, off = _M.to(x.device, x.dtype), _OFFSET.to(x.device, x.dtype)
    out = torch.einsum("ij,...jhw->...ihw", m, x) + off.view(3, 1, 1)
    return out / 255.0


def ycbcr_to_rgb(x: torch.Tensor) -> torch.Tensor:
    """Inverse of :func:`rgb_to_ycbcr` (MATLAB ``ycbcr2rgb``); not clipped. Shape as the input."""
    _check_rgb(x, "x")
    inv = torch.linalg.inv(_M).to(x.device, x.dtype)
    return torch.einsum("ij,...jhw->...ihw", inv, x * 255.0 - _OFFSET.to(x.device, x.dtype).view(3, 1, 1))


def rgb_to_y(x: torch.Tensor) -> torch.Tensor:
    """The Y channel of :func:`rgb_to_ycbcr`. Shape: (..., 3, H, W) -> (..., 1, H, W)."""
    return rgb_to_ycbcr(x)[..., :1, :, :]


def _prepare(pred: torch.Tensor, target: torch.Tensor, shave: int, y_channel: bool):
    if not isinstance(pred, torch.Tensor) or not isinstance(target, torch.Tensor):
        raise TypeError("`pred` and `target` must be tensors")
    if pred.shape != target.shape:
        raise ShapeError(f"`pred` and `target` must have the same shape; got {tuple(pred.shape)} and "
                         f"{tuple(target.shape)}")
    if pred.dim() == 3:
        pred, target = pred[None], target[None]
    if pred.dim() != 4:
        raise ShapeError(f"images must be (N, C, H, W) or (C, H, W); got {tuple(pred.shape)}")
    if shave < 0 or 2 * shave >= min(pred.shape[-2:]):
        raise ShapeError(f"`shave` must leave pixels of the {pred.shape[-2]}×{pred.shape[-1]} images; got {shave}")
    pred, target = pred.double(), target.double()
    if y_channel and pred.shape[1] == 3:
        pred, target = rgb_to_y(pred), rgb_to_y(target)
    if shave:
        pred, target = pred[..., shave:-shave, shave:-shave], target[..., shave:-shave, shave:-shave]
    return pred, target


def psnr(pred: torch.Tensor, target: torch.Tensor, *, data_range: float = 1.0, shave: int = 0,
         y_channel: bool = False) -> torch.Tensor:
    """Peak signal-to-noise ratio in dB of each image: 10·log10(data_range² / MSE).

    Args:
        pred, target: images (N, C, H, W) or (C, H, W) in [0, data_range].
        data_range: the peak value (1.0 for [0, 1] images; PSNR "with peak 255" on 8-bit values is the same
            number).
        shave: pixels removed from each border before measuring (the SR papers shave the scale factor).
        y_channel: measure on MATLAB's Y channel of RGB images (the SR papers' protocol).

    Returns:
        (N,) float64 tensor; ``inf`` for identical images.
    """
    p, t = _prepare(pred, target, shave, y_channel)
    mse = (p - t).square().flatten(1).mean(1)
    return 10.0 * torch.log10(data_range ** 2 / mse)


def _gaussian_window(size: int, sigma: float, dtype, device) -> torch.Tensor:
    ax = torch.arange(size, dtype=dtype, device=device) - (size - 1) / 2
    g = torch.exp(-(ax ** 2) / (2 * sigma ** 2))
    g = g / g.sum()
    return torch.outer(g, g)


def ssim(pred: torch.Tensor, target: torch.Tensor, *, data_range: float = 1.0, shave: int = 0,
         y_channel: bool = False, window: int = 11, sigma: float = 1.5) -> torch.Tensor:
    """Structural similarity (Wang et al. 2004) of each image, averaged over channels.

    The reference implementation's choices: an 11×11 Gaussian window with σ = 1.5, K1 = 0.01, K2 = 0.03,
    statistics over the 'valid' region only (no padding), population (biased) variances.

    Returns:
        (N,) float64 tensor in [-1, 1]; 1 for identical images.
    """
    p, t = _prepare(pred, target, shave, y_channel)
    if min(p.shape[-2:]) < window:
        raise ShapeError(f"SSIM needs images of at least {window}×{window} after shaving; got {tuple(p.shape[-2:])}")
    n, c = p.shape[:2]
    w = _gaussian_window(window, sigma, p.dtype, p.device).expand(c, 1, window, window)
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2

    def blur(z):
        return F.conv2d(z, w, groups=c)

    mu_p, mu_t = blur(p), blur(t)
    var_p = blur(p * p) - mu_p ** 2
    var_t = blur(t * t) - mu_t ** 2
    cov = blur(p * t) - mu_p * mu_t
    num = (2 * mu_p * mu_t + c1) * (2 * cov + c2)
    den = (mu_p ** 2 + mu_t ** 2 + c1) * (var_p + var_t + c2)
    return (num / den).flatten(1).mean(1)


def psnr_from_mse(mse: float, data_range: float = 1.0) -> float:
    """PSNR in dB of a mean squared error (``inf`` for 0)."""
    return math.inf if mse <= 0 else 10.0 * math.log10(data_range ** 2 / mse)
