"""The one input pipeline: from raw data (images in [0, 1], token ids, ...) to what a model takes.

A :class:`Normalize` is saved with the model (its :meth:`to_config` goes into the run folder and the model
bundle), so training, ``evaluate``, ``predict``, ``explain``, ``art`` and the applications apply exactly the
same arithmetic. ImageNet/torchvision: ``Normalize((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))``; Caffe
(HED's VGG16): ``Normalize((104.007, 116.669, 122.679), (1, 1, 1), scale=255, bgr=True)`` (mean/std in the
model's channel order); a dataset's own statistics: ``Normalize(ds.mean, ds.std)``. Inputs that are not
images (token ids, board planes) use :class:`Identity`.

Example:
    >>> pre = Normalize((0.5,), (0.25,))
    >>> pre(torch.tensor([[[[1.0]]]])).item()
    2.0
    >>> from_config(pre.to_config()).std
    (0.25,)
"""

from __future__ import annotations

from typing import Any, Sequence

import torch
from torch import nn

from cnnlab.errors import ConfigError, ShapeError

__all__ = ["Normalize", "Identity", "from_config", "for_stats"]


class Identity(nn.Identity):
    """Raw data is the model input (token ids, board planes, data already scaled)."""

    def inverse(self, x: torch.Tensor) -> torch.Tensor:
        return x

    def to_config(self) -> dict:
        return {"kind": "identity"}


class Normalize(nn.Module):
    """Map (N, C, ...) inputs in [0, 1] to ``(x·scale − mean) / std`` per channel (dim -3 for images).

    Args:
        mean, std: one value per channel (or one value for all channels), in the model's channel order
            (``std`` defaults to ones).
        scale: multiply first (255 for Caffe models).
        bgr: flip RGB -> BGR first.

    The arithmetic is ``(x − mean) · (1/std)`` with the reciprocal computed once in float32: the same
    numbers ``fit`` has always fed to models.
    """

    def __init__(self, mean: Sequence[float], std: Sequence[float] | None = None, *, scale: float = 1.0,
                 bgr: bool = False):
        super().__init__()
        mean = _floats(mean, "mean")
        std = _floats(std, "std") if std is not None else (1.0,) * len(mean)
        if len(mean) != len(std):
            raise ConfigError(f"`mean` and `std` must have the same length; got {len(mean)} and {len(std)}")
        if any(s <= 0 for s in std):
            raise ConfigError(f"`std` must be > 0; got {std}")
        self.mean, self.std = mean, std
        self.scale, self.bgr = float(scale), bool(bgr)
        m = torch.tensor(mean, dtype=torch.float32).view(-1, 1, 1)
        self.register_buffer("_mean", m, persistent=False)
        self.register_buffer("_inv_std", 1.0 / torch.tensor(std, dtype=torch.float32).view(-1, 1, 1),
                             persistent=False)

    @property
    def channels(self) -> int:
        return len(self.mean)

    def _check(self, x: torch.Tensor) -> None:
        if x.dim() < 3 or (self.channels != 1 and x.shape[-3] != self.channels):
            raise ShapeError(f"Normalize expects (..., {self.channels}, H, W) images; got shape {tuple(x.shape)}")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self._check(x)
        if self.bgr:
            x = x.flip(-3)
        if self.scale != 1.0:
            x = x * self.scale
        return (x - self._mean.to(x.device, x.dtype)) * self._inv_std.to(x.device, x.dtype)

    def inverse(self, z: torch.Tensor) -> torch.Tensor:
        """Model input -> image in [0, 1] (up to rounding)."""
        self._check(z)
        x = z / self._inv_std.to(z.device, z.dtype) + self._mean.to(z.device, z.dtype)
        if self.scale != 1.0:
            x = x / self.scale
        return x.flip(-3) if self.bgr else x

    def to_config(self) -> dict:
        return {"kind": "normalize", "mean": list(self.mean), "std": list(self.std), "scale": self.scale,
                "bgr": self.bgr}

    def extra_repr(self) -> str:
        extra = (f", scale={self.scale:g}" if self.scale != 1.0 else "") + (", bgr=True" if self.bgr else "")
        return f"mean={self.mean}, std={self.std}{extra}"


def _floats(values: Any, name: str) -> tuple[float, ...]:
    try:
        out = tuple(float(v) for v in (values if isinstance(values, (list, tuple)) else
                                       torch.as_tensor(values).flatten().tolist()))
    except (TypeError, ValueError):
        raise ConfigError(f"`{name}` must be a sequence of numbers; got {values!r}") from None
    if not out:
        raise ConfigError(f"`{name}` must not be empty")
    return out


def for_stats(mean: Sequence[float] | None, std: Sequence[float] | None) -> nn.Module:
    """``Normalize(mean, std)`` when statistics are given, else :class:`Identity`."""
    if mean is None or std is None or len(mean) == 0 or len(std) == 0:
        return Identity()
    return Normalize(mean, std)


def from_config(cfg: dict | None) -> nn.Module:
    """Inverse of ``to_config``; ``None`` means :class:`Identity`.

    Raises:
        ConfigError: an unknown ``kind``.
    """
    if cfg is None:
        return Identity()
    if not isinstance(cfg, dict) or cfg.get("kind") not in ("normalize", "identity"):
        raise ConfigError(f"a preprocessing description needs kind 'normalize' or 'identity'; got {cfg!r}")
    if cfg["kind"] == "identity":
        return Identity()
    return Normalize(cfg["mean"], cfg["std"], scale=cfg.get("scale", 1.0), bgr=cfg.get("bgr", False))
