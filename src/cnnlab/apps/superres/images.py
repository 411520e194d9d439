"""Image plumbing of super-resolution: files ↔ tensors, the bicubic degradation, the Y/Cb/Cr split.

The degradation is PIL's BICUBIC resize (Keys cubic, a = −0.5, antialiased when reducing, like MATLAB's
``imresize``). Measured on Set5 (``cnnlab.apps.superres.protocol.resize_gap``): PIL's downscaled HR images
differ from the MATLAB LR files by at most 5 / 7 / 9 levels (of 255) at ×2/×3/×4 (a few edge pixels), with
59.8 / 59.4 / 58.6 dB PSNR on Y between them, and the bicubic baseline from PIL-made LR images is within
0.0013 dB of the one from the MATLAB files.
Images on the way in are uint8 RGB arrays (H, W, 3); tensors are float in [0, 1].
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from cnnlab.errors import DataError
from cnnlab.quality import rgb_to_ycbcr, ycbcr_to_rgb

__all__ = ["read_rgb", "write_rgb", "to_tensor", "to_uint8", "crop_to_multiple", "resize", "degrade", "split_y",
           "merge_y", "IMAGE_SUFFIXES"]

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".ppm", ".pgm")


def read_rgb(path: str | Path) -> np.ndarray:
    """Read an image file as a uint8 RGB array (H, W, 3).

    Raises:
        DataError: the file is missing or is not a readable image.
    """
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    if not path.is_file():
        raise DataError(f"image `{path}` does not exist")
    try:
        with Image.open(path) as img:
            return np.asarray(img.convert("RGB"), dtype=np.uint8).copy()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise DataError(f"`{path}` is not a readable image ({type(exc).__name__})") from None


def to_tensor(rgb: np.ndarray, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """uint8 (H, W, 3) -> float (3, H, W) in [0, 1]."""
    return torch.from_numpy(np.array(rgb, dtype=np.uint8)).permute(2, 0, 1).to(dtype).div_(255.0)


def to_uint8(x: torch.Tensor) -> np.ndarray:
    """Float (3, H, W) in [0, 1] -> uint8 (H, W, 3), rounded and clipped."""
    return x.detach().clamp(0, 1).mul(255.0).round().to(torch.uint8).permute(1, 2, 0).cpu().numpy()


def crop_to_multiple(rgb: np.ndarray, scale: int) -> np.ndarray:
    """Crop the bottom/right edge so both sides are multiples of ``scale`` (as Set5's HR files are)."""
    h, w = rgb.shape[0] - rgb.shape[0] % scale, rgb.shape[1] - rgb.shape[1] % scale
    return rgb[:h, :w]


def resize(rgb: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """PIL BICUBIC resize of a uint8 RGB array to ``size`` = (H, W)."""
    from PIL import Image

    return np.asarray(Image.fromarray(rgb).resize((size[1], size[0]), Image.BICUBIC), dtype=np.uint8)


def degrade(hr: np.ndarray, scale: int) -> tuple[np.ndarray, np.ndarray]:
    """The training degradation: ``hr`` (sides multiples of ``scale``) -> (LR, bicubic upscale of LR to HR size)."""
    h, w = hr.shape[:2]
    if h % scale or w % scale:
        raise DataError(f"HR image sides must be multiples of the scale {scale}; got {h}×{w}")
    lr = resize(hr, (h // scale, w // scale))
    return lr, resize(lr, (h, w))


def split_y(rgb: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """RGB (..., 3, H, W) in [0, 1] -> (Y (..., 1, H, W), CbCr (..., 2, H, W)), MATLAB BT.601."""
    ycc = rgb_to_ycbcr(rgb)
    return ycc[..., :1, :, :], ycc[..., 1:, :, :]


def merge_y(y: torch.Tensor, cbcr: torch.Tensor) -> torch.Tensor:
    """Inverse of :func:`split_y`, clipped to [0, 1]."""
    return ycbcr_to_rgb(torch.cat([y, cbcr], dim=-3)).clamp_(0, 1)


def write_rgb(path: str | Path, rgb: np.ndarray) -> Path:
    """Write a uint8 RGB array as an image file (format from the suffix), atomically.

    Raises:
        DataError: a suffix PIL cannot write.
    """
    import io

    from PIL import Image

    from cnnlab.io import atomic_write

    path = Path(path)
    buf = io.BytesIO()
    try:
        Image.fromarray(rgb).save(buf, format=Image.registered_extensions().get(path.suffix.lower(), "?"))
    except (KeyError, ValueError, OSError):
        raise DataError(f"cannot write an image as `{path.name}`; use a suffix like .png, .jpg or .bmp") from None
    with atomic_write(path, "wb") as fh:
        fh.write(buf.getvalue())
    return path
