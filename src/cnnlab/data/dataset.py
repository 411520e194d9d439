"""The in-memory dataset record every loader returns: tensors, class names, normalisation statistics.

``x`` may have any rank and dtype: float32 images N×C×H×W in [0, 1], int64 token ids N×L, spectrograms
N×1×F×T, board planes N×P×9×9, low-resolution images whose targets are high-resolution ones. ``y`` is any
tensor with one entry per example: int64 class indices (N,), target images, identities. For float images
(N×C×H×W) ``mean``/``std`` (per channel, from the training split) are computed and carried alongside; the
model's preprocessing (:class:`cnnlab.preprocess.Normalize`) applies them in ``fit``/``evaluate``/``predict``,
so a model takes inputs normalised like torchvision models do. Other inputs carry no statistics unless given.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from cnnlab.errors import DataError


@dataclass
class Dataset:
    """Train/validation/test tensors held in memory.

    Shape:
        ``x_*``: (N, ...) any dtype (images: (N, C, H, W) float32 in [0, 1]); ``y_*``: (N, ...) (class indices:
        (N,) int64).
    """

    name: str
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_val: torch.Tensor
    y_val: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    classes: list[str]
    mean: tuple[float, ...] = field(default=())
    std: tuple[float, ...] = field(default=())
    stream: bool = False  # tensors stay on disk (memory-mapped): fit gathers and normalises batch by batch

    def __post_init__(self) -> None:
        for split in ("train", "val", "test"):
            x, y = getattr(self, f"x_{split}"), getattr(self, f"y_{split}")
            if not isinstance(x, torch.Tensor) or not isinstance(y, torch.Tensor):
                raise DataError(f"`x_{split}` and `y_{split}` must be tensors; got {type(x).__name__} and {type(y).__name__}")
            if x.ndim < 1 or y.ndim < 1 or y.shape[0] != x.shape[0]:
                raise DataError(f"`y_{split}` must hold one target per example ({x.shape[0] if x.ndim else 0}); "
                                f"got shape {tuple(y.shape)}")
            if split != "train" and x.shape[1:] != self.x_train.shape[1:] and x.shape[0]:
                raise DataError(f"`x_{split}` examples have shape {tuple(x.shape[1:])} but training examples "
                                f"{tuple(self.x_train.shape[1:])}")
        if (not self.mean or not self.std) and self.is_image:
            self.mean, self.std = channel_stats(self.x_train)
        self.mean, self.std = tuple(self.mean), tuple(self.std)

    @property
    def is_image(self) -> bool:
        """Float N×C×H×W inputs (what per-channel normalisation and image augmentation apply to)."""
        return self.x_train.ndim == 4 and self.x_train.is_floating_point()

    @property
    def input_dtype(self) -> str:
        return str(self.x_train.dtype).replace("torch.", "")

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.x_train.shape[1:])

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    def split(self, which: str) -> tuple[torch.Tensor, torch.Tensor]:
        """``(x, y)`` of ``"train"``, ``"val"`` or ``"test"``."""
        if which not in ("train", "val", "test"):
            raise DataError(f"`split` must be one of train, val, test; got {which!r}")
        return getattr(self, f"x_{which}"), getattr(self, f"y_{which}")

    def subset(self, train: int | None = None, val: int | None = None, test: int | None = None) -> "Dataset":
        """The first ``train``/``val``/``test`` examples of each split (statistics kept): for quick runs."""
        return Dataset(self.name, self.x_train[:train], self.y_train[:train], self.x_val[:val], self.y_val[:val],
                       self.x_test[:test], self.y_test[:test], list(self.classes), self.mean, self.std)

    def __repr__(self) -> str:
        shape = "×".join(map(str, self.input_shape)) + ("" if self.x_train.is_floating_point() else f" {self.input_dtype}")
        targets = f"{self.num_classes} classes" if self.classes else f"targets {tuple(self.y_train.shape[1:]) or 'scalar'}"
        return (f"Dataset({self.name!r}, {shape}, {targets}, train={len(self.y_train)}, "
                f"val={len(self.y_val)}, test={len(self.y_test)})")


def channel_stats(x: torch.Tensor) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Per-channel mean and std of (N, C, H, W) images."""
    if x.ndim != 4:
        raise DataError(f"channel statistics need (N, C, H, W) images; got shape {tuple(x.shape)}")
    if x.shape[0] == 0:
        raise DataError("cannot compute normalisation statistics of an empty training split")
    # torch's reductions sum pairwise in float32, accurate to ~1e-6 here without a float64 copy
    std, mean = torch.std_mean(x, dim=(0, 2, 3))
    return tuple(float(v) for v in mean), tuple(float(v) for v in std.clamp_min(1e-6))


def random_split(n: int, fractions: tuple[float, ...], seed: int) -> list[torch.Tensor]:
    """Index tensors of a seeded random partition of ``range(n)``; the last part takes the remainder."""
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    parts, start = [], 0
    for frac in fractions:
        size = int(round(n * frac))
        parts.append(perm[start:start + size])
        start += size
    parts.append(perm[start:])
    return parts


def from_tensors(x_train, y_train, x_val=None, y_val=None, x_test=None, y_test=None, *, classes=None,
                 name: str = "tensors", val_split: float = 0.1, seed: int = 0, mean=(), std=()) -> Dataset:
    """Wrap user tensors as a :class:`Dataset`; without ``x_val`` a seeded ``val_split`` is held out.

    Float inputs become float32 ((N, H, W) grey images gain a channel axis), integer inputs int64 (token ids);
    integer targets int64 (``classes`` default to "0".."K-1"), float targets float32 (no classes).

    Example:
        >>> ds = from_tensors(torch.rand(20, 1, 8, 8), torch.arange(20) % 2)
        >>> ds.input_shape
        (1, 8, 8)
    """
    x_train, y_train = _as_x(x_train), _as_y(y_train)
    if x_val is None:
        val_idx, train_idx = random_split(len(y_train), (val_split,), seed)
        x_val, y_val = x_train[val_idx], y_train[val_idx]
        x_train, y_train = x_train[train_idx], y_train[train_idx]
    x_val, y_val = _as_x(x_val), _as_y(y_val)
    if x_test is None:
        x_test, y_test = x_val[:0], y_val[:0]
    x_test, y_test = _as_x(x_test), _as_y(y_test)
    if classes is None and y_train.ndim == 1 and not y_train.is_floating_point():
        n_classes = int(max(int(y_train.max()), int(y_val.max()) if len(y_val) else 0)) + 1 if len(y_train) else 0
        classes = [str(i) for i in range(n_classes)]
    return Dataset(name, x_train, y_train, x_val, y_val, x_test, y_test, list(classes or []), mean, std)


def _as_x(x) -> torch.Tensor:
    """Floats -> float32 ((N, H, W) grey images -> (N, 1, H, W)); integers (token ids, planes) -> int64."""
    x = torch.as_tensor(x)
    if x.is_floating_point():
        x = x.float()
        return x.unsqueeze(1) if x.ndim == 3 else x
    return x.long() if x.dtype != torch.bool else x.float()


def _as_y(y) -> torch.Tensor:
    """Integer targets -> int64 (labels, identities); float targets (images, values) -> float32."""
    y = torch.as_tensor(y)
    return y.float() if y.is_floating_point() else y.long()
