"""Pure image rendering for explanations: arrays → grids, heat maps, overlays → PNG bytes / files / data URIs.

Inputs are NumPy arrays (or anything ``np.asarray`` takes, CPU tensors included): images C×H×W or
H×W, batches N×C×H×W. Nothing here imports torch; matplotlib is imported lazily only for colormap
tables.
"""

from __future__ import annotations

import base64
import io
import os
from functools import lru_cache
from pathlib import Path

import numpy as np

from cnnlab.errors import ShapeError


def _np(a) -> np.ndarray:
    if hasattr(a, "detach"):
        a = a.detach().cpu().numpy()
    return np.asarray(a, dtype=np.float64)


def normalize(a, mode: str = "minmax", eps: float = 1e-12) -> np.ndarray:
    """Map values to [0, 1]: ``"minmax"``, ``"symmetric"`` (0 ↦ 0.5, ±max|a| ↦ 0/1), ``"max"`` (a / max),
    ``"clip"`` (clip to [0, 1]) or ``"std"`` (0.5 + 0.15·(a − mean)/std, the usual look for gradients)."""
    a = _np(a)
    if mode == "minmax":
        lo, hi = np.nanmin(a), np.nanmax(a)
        return (a - lo) / (hi - lo) if hi - lo > eps else np.zeros_like(a)
    if mode == "symmetric":
        m = np.nanmax(np.abs(a))
        return 0.5 + 0.5 * a / m if m > eps else np.full_like(a, 0.5)
    if mode == "max":
        m = np.nanmax(a)
        return np.clip(a / m, 0, 1) if m > eps else np.zeros_like(a)
    if mode == "clip":
        return np.clip(a, 0, 1)
    if mode == "std":
        s = np.nanstd(a)
        return np.clip(0.5 + 0.15 * (a - np.nanmean(a)) / s, 0, 1) if s > eps else np.full_like(a, 0.5)
    raise ValueError(f"`mode` must be minmax, symmetric, max, clip or std; got {mode!r}")


@lru_cache(maxsize=8)
def _lut(name: str) -> np.ndarray:
    from matplotlib import colormaps  # lazy: only the colormap table, not pyplot

    return (colormaps[name](np.linspace(0, 1, 256))[:, :3] * 255).round().astype(np.uint8)


def colorize(values, cmap: str = "jet") -> np.ndarray:
    """H×W values in [0, 1] → H×W×3 uint8 through a matplotlib colormap (NaN → grey)."""
    v = _np(values)
    if v.ndim != 2:
        raise ShapeError(f"`values` must be a 2-D map; got shape {v.shape}")
    nan = np.isnan(v)
    idx = (np.clip(np.nan_to_num(v), 0, 1) * 255).round().astype(np.int64)
    out = _lut(cmap)[idx]
    out[nan] = 128
    return out


def to_rgb8(image) -> np.ndarray:
    """An image in [0, 1], C×H×W (C = 1 or 3) or H×W or H×W×3 → H×W×3 uint8."""
    a = _np(image)
    if a.ndim == 3 and a.shape[0] in (1, 3):  # C×H×W (channels first wins when ambiguous)
        a = a.transpose(1, 2, 0)
    if a.ndim == 2:
        a = a[..., None]
    if a.ndim != 3 or a.shape[-1] not in (1, 3):
        raise ShapeError(f"`image` must be H×W, 1×H×W, 3×H×W or H×W×3; got shape {_np(image).shape}")
    if a.shape[-1] == 1:
        a = np.repeat(a, 3, axis=-1)
    return (np.clip(a, 0, 1) * 255).round().astype(np.uint8)


def upscale(rgb: np.ndarray, factor: int) -> np.ndarray:
    """Nearest-neighbour enlargement (pixels stay visible as squares)."""
    return rgb if factor <= 1 else np.repeat(np.repeat(rgb, factor, axis=0), factor, axis=1)


def auto_factor(h: int, w: int, target: int = 96) -> int:
    return max(1, target // max(h, w))


def heatmap(values, cmap: str = "jet", mode: str = "max") -> np.ndarray:
    """A map (H×W, or 1×H×W) normalised with ``mode`` and coloured → H×W×3 uint8."""
    v = _np(values)
    v = v.reshape(v.shape[-2:]) if v.ndim == 3 and v.shape[0] == 1 else v
    return colorize(normalize(v, mode), cmap)


def overlay(image, values, alpha: float = 0.45, cmap: str = "jet", mode: str = "max") -> np.ndarray:
    """Blend a heat map over an image in [0, 1] (both H×W at the same size) → H×W×3 uint8."""
    base = to_rgb8(image).astype(np.float64)
    heat = heatmap(values, cmap, mode).astype(np.float64)
    if base.shape != heat.shape:
        raise ShapeError(f"`values` must match the image size {base.shape[:2]}; got {heat.shape[:2]}")
    return ((1 - alpha) * base + alpha * heat).round().astype(np.uint8)


def grid(tiles, ncol: int | None = None, pad: int = 2, pad_value: int = 255, scale: int = 1) -> np.ndarray:
    """Lay out RGB uint8 tiles (all the same size) in rows of ``ncol`` → one H×W×3 uint8 image."""
    tiles = [upscale(np.asarray(t, dtype=np.uint8), scale) for t in tiles]
    if not tiles:
        raise ShapeError("`tiles` must not be empty")
    h, w = tiles[0].shape[:2]
    if any(t.shape != tiles[0].shape for t in tiles):
        raise ShapeError(f"`tiles` must all have the same shape; got {sorted({t.shape for t in tiles})}")
    n = len(tiles)
    ncol = ncol or int(np.ceil(np.sqrt(n)))
    nrow = int(np.ceil(n / ncol))
    out = np.full((nrow * (h + pad) + pad, ncol * (w + pad) + pad, 3), pad_value, dtype=np.uint8)
    for i, t in enumerate(tiles):
        r, c = divmod(i, ncol)
        out[pad + r * (h + pad) : pad + r * (h + pad) + h, pad + c * (w + pad) : pad + c * (w + pad) + w] = t
    return out


def batch_grid(images, ncol: int | None = None, mode: str = "minmax", per_image: bool = True, scale: int | None = None,
               cmap: str | None = None) -> np.ndarray:
    """N×C×H×W (C = 1 or 3) → a grid; each image normalised on its own (``per_image``) or all together.
    With ``cmap`` single-channel images are coloured with it instead of grey."""
    a = _np(images)
    if a.ndim != 4 or a.shape[1] not in (1, 3):
        raise ShapeError(f"`images` must be N×C×H×W with C = 1 or 3; got shape {a.shape}")
    normed = [normalize(im, mode) for im in a] if per_image else list(normalize(a, mode))
    if cmap is not None and a.shape[1] == 1:
        tiles = [colorize(im[0], cmap) for im in normed]
    else:
        tiles = [to_rgb8(im) for im in normed]
    return grid(tiles, ncol=ncol, scale=scale or auto_factor(*a.shape[-2:], target=48))


def png_bytes(rgb: np.ndarray) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.asarray(rgb, dtype=np.uint8)).save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def save_png(path: str | os.PathLike, rgb: np.ndarray) -> Path:
    """Write an H×W×3 uint8 array as PNG, atomically."""
    from cnnlab.io import atomic_write

    with atomic_write(path, "wb") as fh:
        fh.write(png_bytes(rgb))
    return Path(path)


def data_uri(png: bytes | np.ndarray) -> str:
    """``data:image/png;base64,...`` for PNG bytes or an RGB array."""
    if not isinstance(png, (bytes, bytearray)):
        png = png_bytes(png)
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def pyplot():
    """matplotlib's pyplot on the Agg backend (imported lazily, with the install hint when missing)."""
    from cnnlab.errors import require

    mpl = require("matplotlib", "pip install matplotlib")
    mpl.use("Agg", force=False)
    return require("matplotlib.pyplot", "pip install matplotlib")


def figure_png(fig, dpi: int = 96, tight: bool = True) -> bytes:
    """A matplotlib figure as PNG bytes; the figure is closed."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, **({"bbox_inches": "tight"} if tight else {}))
    pyplot().close(fig)
    return buf.getvalue()
