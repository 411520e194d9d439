"""Convolution layers: :class:`Conv2D` -> ``nn.Conv2d``, :class:`Conv1D` -> ``nn.Conv1d`` (Keras arguments,
TF "same" padding with the extra pixel after, as an explicit pad module when it is asymmetric).
"""

from __future__ import annotations

from typing import ClassVar, List, Optional, Tuple

from torch import nn

from cnnlab import shapes
from cnnlab.layers.core import (Layer, _activation_arg, _jsonable, _pad_module, _padding_arg, _positive_int,
                                _positive_tuple, _resolve_padding, fmt_shape, make_activation)

__all__ = ["Conv2D", "Conv1D"]


class _Conv(Layer):
    dims: ClassVar[int] = 2

    def __init__(self, filters: int, kernel_size, strides=1, padding="valid", dilation_rate=1, groups: int = 1,
                 activation: Optional[str] = None, use_bias: bool = True, name: Optional[str] = None):
        super().__init__(name)
        owner, n = type(self).__name__, self.dims
        self.filters = _positive_int(filters, "filters", owner)
        self.kernel_size = _positive_tuple(kernel_size, "kernel_size", owner, n)
        self.strides = _positive_tuple(strides, "strides", owner, n)
        self.padding = _padding_arg(padding, owner, n)
        self.dilation_rate = _positive_tuple(dilation_rate, "dilation_rate", owner, n)
        self.groups = _positive_int(groups, "groups", owner)
        self.activation = _activation_arg(activation, owner)
        self.use_bias = bool(use_bias)

    def get_config(self):
        return {"filters": self.filters, "kernel_size": list(self.kernel_size), "strides": list(self.strides),
                "padding": _jsonable(self.padding), "dilation_rate": list(self.dilation_rate),
                "groups": self.groups, "activation": self.activation, "use_bias": self.use_bias,
                **super().get_config()}

    def build(self, shape, where):
        n = self.dims
        where.need_rank([n + 1], "(C, H, W)" if n == 2 else "(C, L)")
        channels, spatial = shape[0], shape[1:]
        if channels % self.groups:
            raise where.error(f"input channels ({channels}) must be divisible by `groups`={self.groups}")
        if self.filters % self.groups:
            raise where.error(f"`filters` ({self.filters}) must be divisible by `groups`={self.groups}")
        if self.padding == "same" and any(s > 1 for s in self.strides) and any(d > 1 for d in self.dilation_rate):
            raise where.config_error("\"same\" padding with both `strides` > 1 and `dilation_rate` > 1 is not "
                                     "supported (as in Keras)")
        pads = _resolve_padding(self.padding, spatial, self.kernel_size, self.strides, self.dilation_rate)
        eff = [d * (k - 1) + 1 for k, d in zip(self.kernel_size, self.dilation_rate)]
        padded = [s + a + b for s, (a, b) in zip(spatial, pads)]
        if any(e > p for e, p in zip(eff, padded)):
            what = "kernel_size" if all(d == 1 for d in self.dilation_rate) else "kernel_size` with `dilation_rate"
            raise where.error(f"`{what}` {fmt_shape(eff)} is larger than the input {fmt_shape(padded)} (with padding)")
        out = tuple(shapes.conv_output_size(s, k, st, a, d, padding_end=b) for s, k, st, d, (a, b)
                    in zip(spatial, self.kernel_size, self.strides, self.dilation_rate, pads))
        parts: List[Tuple[str, nn.Module]] = []
        symmetric = all(a == b for a, b in pads)
        if not symmetric:
            parts.append(("_pad", _pad_module(pads)))
        conv_cls = nn.Conv2d if n == 2 else nn.Conv1d
        conv = conv_cls(channels, self.filters, self.kernel_size, stride=self.strides,
                        padding=tuple(a for a, _ in pads) if symmetric else 0,
                        dilation=self.dilation_rate, groups=self.groups, bias=self.use_bias)
        parts.append(("", conv))
        out_shape = (self.filters,) + out
        if self.activation:
            parts.append((f"_{self.activation}", make_activation(self.activation, self.filters, where)))
            if self.activation == "maxout":
                out_shape = (self.filters // 2,) + out
        return parts, out_shape


class Conv2D(_Conv):
    """2-D convolution (Keras ``Conv2D``) -> ``nn.Conv2d`` (+ ``nn.ZeroPad2d`` for asymmetric "same").

    Args:
        filters: output channels F.
        kernel_size: int or (KH, KW).
        strides: int or pair.
        padding: "valid", "same" (TF rule, output ⌈n/s⌉), an int or a pair.
        dilation_rate: int or pair.
        groups: channel groups (``groups == C`` is a depthwise conv).
        activation: one of :data:`ACTIVATIONS`, "linear" or None.
        use_bias: add a bias.
        name: attribute name in the model (default ``conv2d``, ``conv2d_1``, ...).

    Shape: (C, H, W) -> (F, OH, OW) with OH = ⌊(H + pt + pb − d·(KH−1) − 1)/s⌋ + 1.

    Example:
        >>> Sequential([Conv2D(32, 3, activation="relu")], input_shape=(1, 28, 28)).output_shape
        (32, 26, 26)
    """

    kind = "conv2d"
    dims = 2


class Conv1D(_Conv):
    """1-D convolution (Keras ``Conv1D``) -> ``nn.Conv1d``. Shape: (C, L) -> (F, OL). Args as :class:`Conv2D`."""

    kind = "conv1d"
    dims = 1
