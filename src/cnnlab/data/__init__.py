"""Datasets held in memory as tensors, and batched augmentation.

``load(name)`` accepts ``mnist``, ``fashion-mnist``, ``digits``, ``idx:DIR``, ``folder:DIR`` (float32 N×C×H×W
images in [0, 1] plus per-channel ``mean``/``std``) and ``tensors:FILE`` (any dataset saved with
:func:`save_tensors`: inputs and targets of any rank and dtype) and ``arrays:DIR`` (the same, memory-mapped
from ``.npy`` files written by :func:`save_arrays`: ``fit`` streams batches from disk).

Example:
    >>> from cnnlab import data
    >>> ds = data.load("digits")
    >>> ds.input_shape
    (1, 8, 8)
"""

from __future__ import annotations

from cnnlab.data.augment import PixelShifts, RandomAffine, expand_shifts, is_augmenter, make_augment
from cnnlab.data.dataset import Dataset, channel_stats, from_tensors
from cnnlab.data.folder import load_folder, load_image
from cnnlab.data.tensors import load_tensors, open_arrays, save_arrays, save_tensors
from cnnlab.errors import UnknownNameError

__all__ = ["Dataset", "PixelShifts", "RandomAffine", "expand_shifts", "channel_stats", "from_tensors", "load", "load_image", "load_tensors",
           "is_augmenter", "make_augment", "names", "open_arrays", "save_arrays", "save_tensors"]

_NAMES = ("mnist", "fashion-mnist", "digits", "idx:DIR", "folder:DIR", "tensors:FILE", "arrays:DIR")


def names() -> list[str]:
    """Dataset names ``load`` understands."""
    return list(_NAMES)


def load(name: str, *, val_split: float | None = None, seed: int = 0, size: tuple[int, int] | None = None,
         channels: int | None = None) -> Dataset:
    """Load a dataset by name into memory.

    Args:
        name: ``mnist`` | ``fashion-mnist`` | ``digits`` | ``idx:DIR`` | ``folder:DIR`` | ``tensors:FILE``.
        val_split: fraction of the training data held out for validation (MNIST has a fixed 10k split and
            ignores it); ``None`` keeps each dataset's default.
        seed: seed of the fixed train/validation(/test) split.
        size, channels: target (H, W) and channel count of ``folder:DIR`` images (default 64×64, guessed).

    Raises:
        UnknownNameError: unknown name. MissingDependencyError: the offline data is not installed (the message
        gives the install command). DataError: empty or malformed data.
    """
    if not isinstance(name, str):
        raise TypeError(f"`data` must be a dataset name string; got {type(name).__name__}")
    from cnnlab.data import sources

    kw = {} if val_split is None else {"val_split": val_split}
    key = name.strip()
    low = key.lower()
    if low == "mnist":
        return sources.load_mnist()
    if low in ("fashion-mnist", "fashion_mnist", "fashionmnist"):
        return sources.load_fashion_mnist(seed=seed, **kw)
    if low == "digits":
        return sources.load_digits(seed=seed, **kw)
    if low.startswith("idx:"):
        return sources.load_idx(key[4:], seed=seed, **kw)
    if low.startswith("tensors:"):
        return load_tensors(key[8:])
    if low.startswith("arrays:"):
        return open_arrays(key[7:])
    if low.startswith("folder:"):
        return load_folder(key[7:], size=tuple(size) if size else (64, 64), channels=channels, seed=seed, **kw)
    raise UnknownNameError(f"unknown dataset {name!r}; expected one of: {', '.join(_NAMES)}")
