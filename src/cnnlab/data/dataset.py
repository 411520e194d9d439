"""The in-memory dataset record every loader returns: tensors, class names, normalisation statistics.

Images are float32 N×C×H×W in [0, 1] and labels int64 N; ``mean``/``std`` (per channel, from the training
split) are carried alongside and applied by ``fit``/``evaluate``, so a model takes inputs normalised like
torchvision models do.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from cnnlab.errors import DataError


@dataclass
class Dataset:
    """Train/validation/test tensors held in memory.

    Shape:
        ``x_*``: (N, C, H, W) float32 in [0, 1]; ``y_*``: (N,) int64 class indices.
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

    def __post_init__(self) -> None:
        for split in ("train", "val", "test"):
            x, y = getattr(self, f"x_{split}"), getattr(self, f"y_{split}")
            if x.ndim != 4:
                raise DataError(f"`x_{split}` must be N×C×H×W; got shape {tuple(x.shape)}")
            if y.ndim != 1 or y.shape[0] != x.shape[0]:
                raise DataError(f"`y_{split}` must hold one label per image ({x.shape[0]}); got shape {tuple(y.shape)}")
        if not self.mean or not self.std:
            self.mean, self.std = channel_stats(self.x_train)

    @property
    def input_shape(self) -> tuple[int, int, int]:
        return tuple(self.x_train.shape[1:])  # type: ignore[return-value]

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
        c, h, w = self.input_shape
        return (f"Dataset({self.name!r}, {c}×{h}×{w}, {self.num_classes} classes, train={len(self.y_train)}, "
                f"val={len(self.y_val)}, test={len(self.y_test)})")


def channel_stats(x: torch.Tensor) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Per-channel mean and std of (N, C, H, W) images."""
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
                 name: str = "tensors", val_split: float = 0.1, seed: int = 0) -> Dataset:
    """Wrap user tensors as a :class:`Dataset`; without ``x_val`` a seeded ``val_split`` is held out.

    Example:
        >>> ds = from_tensors(torch.rand(20, 1, 8, 8), torch.arange(20) % 2)
        >>> ds.input_shape
        (1, 8, 8)
    """
    x_train, y_train = torch.as_tensor(x_train, dtype=torch.float32), torch.as_tensor(y_train, dtype=torch.int64)
    if x_train.ndim == 3:  # (N, H, W) -> (N, 1, H, W)
        x_train = x_train.unsqueeze(1)
    if x_val is None:
        val_idx, train_idx = random_split(len(y_train), (val_split,), seed)
        x_val, y_val = x_train[val_idx], y_train[val_idx]
        x_train, y_train = x_train[train_idx], y_train[train_idx]
    x_val, y_val = torch.as_tensor(x_val, dtype=torch.float32), torch.as_tensor(y_val, dtype=torch.int64)
    if x_val.ndim == 3:
        x_val = x_val.unsqueeze(1)
    if x_test is None:
        x_test, y_test = x_val[:0], y_val[:0]
    x_test, y_test = torch.as_tensor(x_test, dtype=torch.float32), torch.as_tensor(y_test, dtype=torch.int64)
    if x_test.ndim == 3:
        x_test = x_test.unsqueeze(1)
    n_classes = int(max(int(y_train.max()), int(y_val.max()) if len(y_val) else 0)) + 1 if len(y_train) else 0
    classes = list(classes) if classes is not None else [str(i) for i in range(n_classes)]
    return Dataset(name, x_train, y_train, x_val, y_val, x_test, y_test, classes)
