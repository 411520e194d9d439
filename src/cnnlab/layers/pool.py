"""Pooling layers: max/average pooling in 1-D and 2-D, and global pooling (one value per channel).

Keras conventions: ``strides`` default to ``pool_size``; "same" padding follows TF (padded cells never
win a max and are left out of an average).
"""

from __future__ import annotations

from typing import ClassVar, List, Optional, Tuple

from torch import nn

from cnnlab import shapes
from cnnlab.errors import ConfigError
from cnnlab.layers.core import (Layer, _jsonable, _pad_module, _padding_arg, _positive_tuple, _resolve_padding,
                                fmt_shape)
from cnnlab.layers.modules import SameAvgPool2d

__all__ = ["MaxPooling2D", "MaxPooling1D", "AveragePooling2D", "AveragePooling1D", "GlobalAveragePooling2D",
           "GlobalMaxPooling2D", "GlobalAveragePooling1D", "GlobalMaxPooling1D"]


class _Pool(Layer):
    dims: ClassVar[int] = 2
    mode: ClassVar[str] = "max"

    def __init__(self, pool_size=2, strides=None, padding="valid", name: Optional[str] = None):
        super().__init__(name)
        owner, n = type(self).__name__, self.dims
        self.pool_size = _positive_tuple(pool_size, "pool_size", owner, n)
        self.strides = self.pool_size if strides is None else _positive_tuple(strides, "strides", owner, n)
        self.padding = _padding_arg(padding, owner, n)
        if isinstance(self.padding, tuple) and any(2 * p > k for p, k in zip(self.padding, self.pool_size)):
            raise ConfigError(f"`padding` must be at most half of `pool_size` {fmt_shape(self.pool_size)}; "
                              f"got {fmt_shape(self.padding)} ({owner})")

    def get_config(self):
        return {"pool_size": list(self.pool_size), "strides": list(self.strides),
                "padding": _jsonable(self.padding), **super().get_config()}

    def build(self, shape, where):
        n = self.dims
        where.need_rank([n + 1], "(C, H, W)" if n == 2 else "(C, L)")
        spatial = shape[1:]
        pads = _resolve_padding(self.padding, spatial, self.pool_size, self.strides, (1,) * n)
        padded = [s + a + b for s, (a, b) in zip(spatial, pads)]
        if any(k > p for k, p in zip(self.pool_size, padded)):
            raise where.error(f"`pool_size` {fmt_shape(self.pool_size)} is larger than the input "
                              f"{fmt_shape(padded)} (with padding)")
        out = tuple(shapes.conv_output_size(s, k, st, a, padding_end=b)
                    for s, k, st, (a, b) in zip(spatial, self.pool_size, self.strides, pads))
        symmetric = all(a == b for a, b in pads)
        same = self.padding == "same"
        parts: List[Tuple[str, nn.Module]] = []
        if self.mode == "max":
            if not symmetric:  # -inf padding never wins a max, as TF ignores padded cells
                parts.append(("_pad", _pad_module(pads, float("-inf"))))
            pool_cls = nn.MaxPool2d if n == 2 else nn.MaxPool1d
            parts.append(("", pool_cls(self.pool_size, self.strides,
                                       padding=tuple(a for a, _ in pads) if symmetric else 0)))
        else:
            if not symmetric and n == 2:
                parts.append(("", SameAvgPool2d(self.pool_size, self.strides,
                                                (pads[1][0], pads[1][1], pads[0][0], pads[0][1]))))
            elif not symmetric:
                raise where.config_error("asymmetric \"same\" padding for AveragePooling1D is not supported; "
                                         "use an odd `pool_size` with `strides`=1 or \"valid\"")
            else:
                pool_cls = nn.AvgPool2d if n == 2 else nn.AvgPool1d
                parts.append(("", pool_cls(self.pool_size, self.strides, padding=tuple(a for a, _ in pads),
                                           count_include_pad=not same)))
        return parts, (shape[0],) + out


class MaxPooling2D(_Pool):
    """2-D max pooling (Keras) -> ``nn.MaxPool2d``. ``strides`` default to ``pool_size``.

    Shape: (C, H, W) -> (C, OH, OW).
    """

    kind = "max_pooling2d"


class MaxPooling1D(_Pool):
    """1-D max pooling -> ``nn.MaxPool1d``. Shape: (C, L) -> (C, OL)."""

    kind = "max_pooling1d"
    dims = 1


class AveragePooling2D(_Pool):
    """2-D average pooling -> ``nn.AvgPool2d`` ("same" padding excludes padded cells, as TF does)."""

    kind = "average_pooling2d"
    mode = "avg"


class AveragePooling1D(_Pool):
    """1-D average pooling -> ``nn.AvgPool1d``."""

    kind = "average_pooling1d"
    dims = 1
    mode = "avg"


class _GlobalPool(Layer):
    adaptive: ClassVar[type] = nn.AdaptiveAvgPool2d

    def build(self, shape, where):
        where.need_rank([3], "(C, H, W)")
        return [("", self.adaptive(1)), ("_flatten", nn.Flatten())], (shape[0],)


class GlobalAveragePooling2D(_GlobalPool):
    """Mean over H and W -> ``nn.AdaptiveAvgPool2d(1)`` + ``nn.Flatten``. Shape: (C, H, W) -> (C,)."""

    kind = "global_average_pooling2d"
    adaptive = nn.AdaptiveAvgPool2d


class GlobalMaxPooling2D(_GlobalPool):
    """Max over H and W -> ``nn.AdaptiveMaxPool2d(1)`` + ``nn.Flatten``. Shape: (C, H, W) -> (C,)."""

    kind = "global_max_pooling2d"
    adaptive = nn.AdaptiveMaxPool2d


class _GlobalPool1D(Layer):
    adaptive: ClassVar[type] = nn.AdaptiveAvgPool1d

    def __init__(self, keepdims: bool = False, name: Optional[str] = None):
        super().__init__(name)
        if not isinstance(keepdims, bool):
            raise ConfigError(f"`keepdims` must be True or False; got {keepdims!r} ({type(self).__name__})")
        self.keepdims = keepdims

    def get_config(self):
        return {"keepdims": self.keepdims, **super().get_config()}

    def build(self, shape, where):
        where.need_rank([2], "(C, L)")
        if self.keepdims:
            return [("", self.adaptive(1))], (shape[0], 1)
        return [("", self.adaptive(1)), ("_flatten", nn.Flatten())], (shape[0],)


class GlobalAveragePooling1D(_GlobalPool1D):
    """Mean over the steps (Keras ``GlobalAveragePooling1D``) -> ``nn.AdaptiveAvgPool1d(1)`` + ``nn.Flatten``.

    Channels first, as everywhere in the builder: Keras's (steps, features) -> (features,) is (C, L) -> (C,) here.

    Args:
        keepdims: keep the step axis: (C, L) -> (C, 1) (no ``nn.Flatten``).

    Shape: (C, L) -> (C,), or (C, 1) with ``keepdims=True``.
    """

    kind = "global_average_pooling1d"
    adaptive = nn.AdaptiveAvgPool1d


class GlobalMaxPooling1D(_GlobalPool1D):
    """Max over the steps (Keras ``GlobalMaxPooling1D``; "max-over-time" pooling of Kim 2014's text CNN)
    -> ``nn.AdaptiveMaxPool1d(1)`` + ``nn.Flatten``.

    Args:
        keepdims: keep the step axis: (C, L) -> (C, 1) (no ``nn.Flatten``).

    Shape: (C, L) -> (C,), or (C, 1) with ``keepdims=True``.

    Example:
        >>> from cnnlab.layers import Conv1D, Embedding, Sequential
        >>> Sequential([Embedding(1000, 16), Conv1D(32, 3), GlobalMaxPooling1D()], input_shape=(50,)).output_shape
        (32,)
    """

    kind = "global_max_pooling1d"
    adaptive = nn.AdaptiveMaxPool1d
