"""Super-resolution data: the offline image sets (``$CNNLAB_DATA/sr/``) and in-memory training patches.

``T91`` (Yang et al. 2010) is the training set of SRCNN, FSRCNN and ESPCN; ``Set5`` (Bevilacqua et al. 2012)
comes with MATLAB-bicubic LR images at ×2/×3/×4. Any folder of images can also serve as training data.
Patches are random aligned crops (an LR patch of p×p pixels and its HR patch of (scale·p)×(scale·p)) with a
random flip/rotation (the 8 symmetries of the square), cut once into tensors so training does no per-sample
Python work.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from cnnlab.apps.superres.images import IMAGE_SUFFIXES, crop_to_multiple, degrade, read_rgb, split_y, to_tensor
from cnnlab.errors import ConfigError, DataError

__all__ = ["data_root", "image_folder", "load_images", "set5", "SRImage", "Pairs", "make_pairs", "CHANNELS"]

CHANNELS = ("y", "rgb")
_SETS = {"t91": "T91", "set5": "Set5"}


def data_root() -> Path:
    """``$CNNLAB_DATA/sr`` (default ``~/.cache/cnnlab/datasets/sr``)."""
    return Path(os.environ.get("CNNLAB_DATA", "~/.cache/cnnlab/datasets")).expanduser() / "sr"


def image_folder(data: str) -> Path:
    """The folder of a named set (``t91``, ``set5``) or a user folder ``DIR``.

    Raises:
        DataError: the folder does not exist (names the folder that was looked for).
    """
    key = str(data).lower()
    folder = data_root() / _SETS[key] if key in _SETS else Path(data).expanduser()
    if not folder.is_dir():
        what = f"super-resolution set {data!r}" if key in _SETS else "image folder"
        raise DataError(f"{what} not found: `{folder}` does not exist (set CNNLAB_DATA or pass a folder)")
    return folder


def load_images(data: str) -> list[np.ndarray]:
    """All images of ``t91``/``set5``'s HR files or a folder ``DIR``, as uint8 RGB arrays, in name order.

    Raises:
        DataError: missing folder, or a folder with no image.
    """
    folder = image_folder(data)
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
    if str(data).lower() == "set5":
        files = [p for p in files if p.parent.name == "image_SRF_2" and p.stem.endswith("_HR")]
    if not files:
        raise DataError(f"no images ({', '.join(IMAGE_SUFFIXES)}) in `{folder}`")
    return [read_rgb(p) for p in files]


@dataclass(frozen=True)
class SRImage:
    """One test image: its name, the HR image and the LR image (uint8 RGB arrays)."""

    name: str
    hr: np.ndarray
    lr: np.ndarray


def set5(scale: int) -> list[SRImage]:
    """Set5 at ``scale`` (2, 3 or 4): HR images (cropped to a multiple of the scale) and their MATLAB-bicubic LR.

    Raises:
        ConfigError: a scale Set5 does not have. DataError: the files are missing.
    """
    if scale not in (2, 3, 4):
        raise ConfigError(f"Set5 has scales 2, 3 and 4; got {scale!r}")
    folder = image_folder("set5") / f"image_SRF_{scale}"
    out = []
    for i in range(1, 6):
        stem = folder / f"img_{i:03d}_SRF_{scale}"
        out.append(SRImage(f"img_{i:03d}", read_rgb(f"{stem}_HR.png"), read_rgb(f"{stem}_LR.png")))
    return out


@dataclass
class Pairs:
    """Aligned training pairs: ``x`` the model input (LR, or its bicubic upscale for SRCNN), ``y`` the HR target.

    Shapes: x (N, C, p, p) or (N, C, s·p, s·p) when ``upsampled``; y (N, C, s·p, s·p); C = 1 (Y) or 3 (RGB);
    ``origin`` (N, 4) int64: image index, LR row, LR column of the crop and its symmetry (0..7).
    """

    x: torch.Tensor
    y: torch.Tensor
    origin: torch.Tensor


def _planes(hr: np.ndarray, scale: int, channels: str) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(LR, bicubic, HR) tensors of one image in the chosen channels."""
    hr = crop_to_multiple(hr, scale)
    lr, bic = degrade(hr, scale)
    planes = [to_tensor(a) for a in (lr, bic, hr)]
    if channels == "y":
        planes = [split_y(t)[0] for t in planes]
    return planes[0], planes[1], planes[2]


def make_pairs(images: list[np.ndarray], scale: int, *, patch: int = 16, n: int = 1000, upsampled: bool = False,
               channels: str = "y", augment: bool = True, seed: int = 0) -> Pairs:
    """Cut ``n`` random aligned patch pairs out of ``images``.

    Each image is degraded once (PIL bicubic, :func:`cnnlab.apps.superres.images.degrade`); a patch's image
    is drawn with probability proportional to its number of possible crops, its corner uniformly, and (with
    ``augment``) one of the 8 flips/rotations is applied to input and target alike.

    Args:
        images: uint8 RGB arrays (H, W, 3).
        scale: upscaling factor.
        patch: LR patch side p (the HR patch is scale·p).
        n: number of pairs.
        upsampled: the input is the bicubic upscale (SRCNN) instead of the LR patch.
        channels: ``"y"`` (MATLAB Y, the papers' protocol) or ``"rgb"``.
        augment: random flips and 90° rotations.
        seed: the generator seed (same seed, same pairs).

    Returns:
        :class:`Pairs` of float32 tensors in [0, 1].

    Raises:
        ConfigError: bad channels/patch/n. DataError: no image is large enough for one patch.
    """
    if channels not in CHANNELS:
        raise ConfigError(f"`channels` must be one of {', '.join(CHANNELS)}; got {channels!r}")
    if patch < 1 or n < 1:
        raise ConfigError(f"`patch` and `n` must be ≥ 1; got patch={patch}, n={n}")
    keep = [k for k, im in enumerate(images) if im.shape[0] // scale >= patch and im.shape[1] // scale >= patch]
    planes = [_planes(images[k], scale, channels) for k in keep]
    if not planes:
        raise DataError(f"no image has an LR side ≥ the patch size {patch} at scale {scale}")
    crops = np.array([(lr.shape[-2] - patch + 1) * (lr.shape[-1] - patch + 1) for lr, _, _ in planes], dtype=float)
    rng = np.random.default_rng(seed)
    which = rng.choice(len(planes), size=n, p=crops / crops.sum())
    sym = rng.integers(0, 8, size=n) if augment else np.zeros(n, dtype=int)
    hp, c = patch * scale, planes[0][0].shape[0]
    x = torch.empty(n, c, hp if upsampled else patch, hp if upsampled else patch)
    y = torch.empty(n, c, hp, hp)
    origin = torch.empty(n, 4, dtype=torch.int64)
    for k in range(n):
        lr, bic, hr = planes[which[k]]
        i = int(rng.integers(0, lr.shape[-2] - patch + 1))
        j = int(rng.integers(0, lr.shape[-1] - patch + 1))
        hi, hj = i * scale, j * scale
        src = bic[:, hi:hi + hp, hj:hj + hp] if upsampled else lr[:, i:i + patch, j:j + patch]
        x[k] = _dihedral(src, int(sym[k]))
        y[k] = _dihedral(hr[:, hi:hi + hp, hj:hj + hp], int(sym[k]))
        origin[k] = torch.tensor([int(keep[which[k]]), i, j, int(sym[k])])
    return Pairs(x, y, origin)


def _dihedral(t: torch.Tensor, k: int) -> torch.Tensor:
    """Symmetry k (0..7) of the square: rotate by 90°·(k mod 4), then transpose when k ≥ 4."""
    t = torch.rot90(t, k % 4, dims=(-2, -1))
    return t.transpose(-2, -1) if k >= 4 else t
