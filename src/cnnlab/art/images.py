"""Image input/output for the art tools: everything is a float tensor (1, 3, H, W) in [0, 1].

Sources accepted everywhere an image is expected: a file path, ``"skimage:NAME"`` for the photos that
ship inside scikit-image (``skimage:chelsea``, ``skimage:astronaut``, ...), a PIL image, a NumPy array
(H, W, 3) (uint8 or float in [0, 1]) or a tensor (3, H, W) / (1, 3, H, W) in [0, 1].
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from cnnlab.errors import DataError, ShapeError

_SAVE_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".bmp": "BMP", ".webp": "WEBP"}


def _skimage_names() -> list[str]:
    return ["astronaut", "chelsea", "coffee", "rocket", "cat", "camera", "immunohistochemistry", "hubble_deep_field"]


def _from_pil(img) -> torch.Tensor:
    arr = np.asarray(img.convert("RGB"), dtype=np.uint8)
    return _from_array(arr, "image")


def _from_array(arr: np.ndarray, name: str) -> torch.Tensor:
    if arr.ndim == 2:
        arr = np.stack([arr] * 3, axis=-1)
    if arr.ndim != 3 or arr.shape[-1] not in (3, 4):
        raise ShapeError(f"`{name}` must be an (H, W, 3) image array; got shape {tuple(arr.shape)}")
    arr = arr[..., :3]
    x = torch.from_numpy(np.array(arr, copy=True))
    x = x.float() / 255.0 if arr.dtype == np.uint8 else x.float()
    return x.permute(2, 0, 1).unsqueeze(0).clamp(0, 1).contiguous()  # (H, W, 3) -> (1, 3, H, W)


def load_image(source, *, name: str = "image", max_side: int | None = None) -> torch.Tensor:
    """Read an image from any supported source as a (1, 3, H, W) float tensor in [0, 1].

    Args:
        source: path, ``"skimage:NAME"``, PIL image, NumPy array or tensor (see module docstring).
        name: the argument name used in error messages.
        max_side: if given, shrink (never enlarge) so that the longer side is at most this many pixels.

    Raises:
        DataError: the file does not exist or cannot be decoded; unknown ``skimage:`` photo.
        ShapeError: an array/tensor that is not an RGB image.
    """
    if isinstance(source, torch.Tensor):
        x = source.detach().float()
        if x.ndim == 3:
            x = x.unsqueeze(0)
        if x.ndim != 4 or x.shape[0] != 1 or x.shape[1] != 3:
            raise ShapeError(f"`{name}` tensor must be (3, H, W) or (1, 3, H, W); got {tuple(source.shape)}")
        x = x.clamp(0, 1).contiguous()
    elif isinstance(source, np.ndarray):
        x = _from_array(source, name)
    elif isinstance(source, (str, os.PathLike)):
        text = os.fspath(source)
        if text.startswith("skimage:"):
            photo = text.split(":", 1)[1]
            import skimage.data

            if photo not in _skimage_names() or not hasattr(skimage.data, photo):
                raise DataError(f"`{name}`: unknown skimage photo {photo!r}; known: {', '.join(_skimage_names())}")
            x = _from_array(np.asarray(getattr(skimage.data, photo)()), name)
        else:
            path = Path(text)
            if not path.is_file():
                raise DataError(f"`{name}` file not found: {path}")
            from PIL import Image, UnidentifiedImageError

            try:
                with Image.open(path) as img:
                    x = _from_pil(img)
            except (UnidentifiedImageError, OSError) as exc:
                raise DataError(f"`{name}` is not a readable image: {path} ({exc})") from None
    elif hasattr(source, "convert") and hasattr(source, "size"):  # PIL image
        x = _from_pil(source)
    else:
        raise TypeError(f"`{name}` must be a path, 'skimage:NAME', PIL image, array or tensor; got {type(source).__name__}")
    if max_side is not None and max(x.shape[-2:]) > max_side:
        x = resize_long_side(x, max_side)
    return x


def resize_long_side(x: torch.Tensor, size: int) -> torch.Tensor:
    """Resize (1, 3, H, W) so that the longer side is ``size`` pixels, keeping the aspect ratio."""
    if size < 8:
        raise ShapeError(f"`size` must be at least 8 pixels; got {size}")
    H, W = x.shape[-2:]
    scale = size / max(H, W)
    return resize(x, (max(1, round(H * scale)), max(1, round(W * scale))))


def resize(x: torch.Tensor, hw: tuple[int, int]) -> torch.Tensor:
    """Bilinear resize (antialiased when shrinking) of an (N, C, H, W) tensor to ``hw``."""
    if tuple(x.shape[-2:]) == tuple(hw):
        return x
    shrink = hw[0] < x.shape[-2] or hw[1] < x.shape[-1]
    return F.interpolate(x, size=tuple(hw), mode="bilinear", align_corners=False, antialias=shrink)


def to_pil(x: torch.Tensor):
    """(1, 3, H, W) or (3, H, W) tensor in [0, 1] -> PIL RGB image."""
    from PIL import Image

    x = x.detach().float().clamp(0, 1)
    if x.ndim == 4:
        x = x[0]
    arr = (x.permute(1, 2, 0).cpu().numpy() * 255.0 + 0.5).astype(np.uint8)  # (3, H, W) -> (H, W, 3)
    return Image.fromarray(arr)


def save_image(x: torch.Tensor, path: str | os.PathLike, *, quality: int = 90) -> Path:
    """Write an image tensor atomically; the format follows the suffix (.png, .jpg, .bmp, .webp).

    Raises:
        DataError: unsupported suffix.
    """
    from cnnlab.io import atomic_write

    path = Path(path)
    fmt = _SAVE_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise DataError(f"`output` must end in one of {', '.join(_SAVE_FORMATS)}; got {path.name!r}")
    img = to_pil(x)
    with atomic_write(path, "wb") as fh:
        if fmt == "JPEG":
            img.save(fh, format=fmt, quality=quality, optimize=True)
        else:
            img.save(fh, format=fmt)
    return path
