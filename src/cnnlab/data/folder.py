"""Images from files: a ``folder:DIR`` dataset (one subfolder per class, the usual ImageFolder layout) and
single-image loading for ``predict``. Everything is resized to one size and stacked into tensors once.

A corrupt or truncated image is skipped with a warning that names the file; a folder with no readable
images or with a single class is an error.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import torch

from cnnlab.data.dataset import Dataset, random_split
from cnnlab.errors import DataError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp")


def load_image(path: str | Path, size: tuple[int, int], channels: int) -> torch.Tensor:
    """Read any image file as a (C, H, W) float32 tensor in [0, 1], converted to ``channels`` (1 or 3) and
    resized to ``size`` = (H, W).

    Raises:
        DataError: the file is missing, not an image, or truncated.
    """
    from PIL import Image, UnidentifiedImageError

    if channels not in (1, 3):
        raise DataError(f"`channels` must be 1 or 3; got {channels}")
    path = Path(path)
    if not path.is_file():
        raise DataError(f"image `{path}` does not exist")
    try:
        with Image.open(path) as img:
            img = img.convert("L" if channels == 1 else "RGB")
            if img.size != (size[1], size[0]):
                img = img.resize((size[1], size[0]), Image.BILINEAR)
            arr = np.asarray(img, dtype=np.float32) / 255.0
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise DataError(f"`{path}` is not a readable image ({exc})") from None
    if channels == 1:
        return torch.from_numpy(arr.copy()).unsqueeze(0)  # (H, W) -> (1, H, W)
    return torch.from_numpy(arr.copy()).permute(2, 0, 1).contiguous()  # (H, W, C) -> (C, H, W)


def _guess_channels(files: list[Path]) -> int:
    from PIL import Image

    for path in files[:32]:
        try:
            with Image.open(path) as img:
                if img.mode not in ("L", "1", "I", "I;16", "LA"):
                    return 3
        except Exception:  # unreadable files are reported when they are loaded
            continue
    return 1


def load_folder(folder: str | Path, *, size: tuple[int, int] = (64, 64), channels: int | None = None,
                val_split: float = 0.1, test_split: float = 0.2, seed: int = 0) -> Dataset:
    """Load ``folder/<class>/<image>`` files into memory.

    Args:
        folder: root folder; each subfolder is a class (sorted by name, like torchvision's ImageFolder).
        size: (H, W) every image is resized to.
        channels: 1 (grey) or 3 (RGB); ``None`` picks RGB if any sampled image is in colour.
        val_split, test_split: seeded fractions held out per dataset.

    Raises:
        DataError: no folder, no images, fewer than 2 classes.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"`folder:DIR` must be an existing folder; `{folder}` is not")
    class_dirs = sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    files_by_class = {d.name: sorted(f for f in d.rglob("*") if f.suffix.lower() in IMAGE_SUFFIXES and f.is_file())
                      for d in class_dirs}
    files_by_class = {k: v for k, v in files_by_class.items() if v}
    if not files_by_class:
        raise DataError(f"no images found in `{folder}` (expected one subfolder per class holding "
                        f"{'/'.join(s[1:] for s in IMAGE_SUFFIXES)} files)")
    if len(files_by_class) < 2:
        only = next(iter(files_by_class))
        raise DataError(f"`{folder}` needs at least 2 class subfolders with images; found 1 (`{only}`)")
    all_files = [f for fs in files_by_class.values() for f in fs]
    channels = channels or _guess_channels(all_files)
    images, labels, classes = [], [], list(files_by_class)
    for label, cls in enumerate(classes):
        for path in files_by_class[cls]:
            try:
                images.append(load_image(path, size, channels))
            except DataError:
                warnings.warn(f"skipping corrupt or unreadable image `{path}`", stacklevel=2)
                continue
            labels.append(label)
    present = sorted(set(labels))
    if len(present) < 2:
        raise DataError(f"`{folder}` needs readable images of at least 2 classes; found {len(present)}")
    x = torch.stack(images)  # (N, C, H, W)
    y = torch.tensor(labels, dtype=torch.int64)
    test_idx, val_idx, train_idx = random_split(len(y), (test_split, val_split), seed)
    return Dataset(f"folder:{folder}", x[train_idx], y[train_idx], x[val_idx], y[val_idx], x[test_idx], y[test_idx],
                   classes)
