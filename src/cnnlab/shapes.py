"""Pure output-size / padding / parameter / receptive-field arithmetic, shared by everything.

The formulas of the lecture notes, as functions of plain ints (no torch import):

- output size of a convolution or pooling window: ⌊(n + 2p − d·(f−1) − 1)/s⌋ + 1, which is the
  lecture's ⌊(n + 2p − f)/s⌋ + 1 for dilation d = 1 (``ceil_mode`` rounds up, as torch does);
- "same" padding (TF/Keras rule, possibly asymmetric) and "valid" padding;
- parameters of a conv layer n·m·k² + m (with groups: m·(n/g)·kh·kw + m) and of a dense layer;
- receptive field r, jump j (effective stride) and start (centre of the first output's field), after
  Araujo et al. (Distill 2019, "Computing receptive fields of CNNs"): r' = r + (k−1)·d·j,
  j' = j·s, start' = start + ((k−1)·d/2 − p)·j.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence, Tuple, Union

IntOrPair = Union[int, Sequence[int]]


def pair(value: IntOrPair, name: str = "value", n: int = 2) -> Tuple[int, ...]:
    """Return ``value`` as an ``n``-tuple of ints (an int is repeated)."""
    if isinstance(value, bool):
        raise TypeError(f"`{name}` must be an int or a tuple of {n} ints; got {value!r}")
    if isinstance(value, int):
        return (value,) * n
    try:
        out = tuple(int(v) for v in value)
    except TypeError:
        raise TypeError(f"`{name}` must be an int or a tuple of {n} ints; got {value!r}") from None
    if len(out) != n:
        raise ValueError(f"`{name}` must have {n} values; got {len(out)} ({value!r})")
    return out


def conv_output_size(n: int, kernel: int, stride: int = 1, padding: int = 0, dilation: int = 1,
                     ceil_mode: bool = False, padding_end: int | None = None) -> int:
    """Output length of a conv/pool window along one axis.

    ``padding`` is added at the start and ``padding_end`` (default: the same) at the end.

    >>> conv_output_size(28, 3)
    26
    >>> conv_output_size(100, 3, padding=2)
    102
    """
    if stride < 1 or dilation < 1 or kernel < 1:
        raise ValueError(f"kernel, stride and dilation must be ≥ 1; got {kernel}, {stride}, {dilation}")
    pad_end = padding if padding_end is None else padding_end
    span = n + padding + pad_end - dilation * (kernel - 1) - 1
    if span < 0:
        return 0
    if ceil_mode:
        out = math.ceil(span / stride) + 1
        # torch: the last window must start inside the input or the left padding
        if (out - 1) * stride >= n + padding:
            out -= 1
        return out
    return span // stride + 1


def same_padding(n: int, kernel: int, stride: int = 1, dilation: int = 1) -> Tuple[int, int]:
    """TF/Keras "same" padding (before, after) so that the output is ⌈n/s⌉; the extra pixel goes after."""
    out = math.ceil(n / stride)
    total = max((out - 1) * stride + dilation * (kernel - 1) + 1 - n, 0)
    return total // 2, total - total // 2


def conv_params(in_channels: int, out_channels: int, kernel_size: IntOrPair, groups: int = 1,
                bias: bool = True, dims: int = 2) -> int:
    """Parameters of a conv layer: m·(n/g)·Πk + m. ``conv_params(3, 10, 3) == 280``."""
    ks = pair(kernel_size, "kernel_size", dims)
    if in_channels % groups or out_channels % groups:
        raise ValueError(f"channels ({in_channels}→{out_channels}) must be divisible by groups={groups}")
    return out_channels * (in_channels // groups) * math.prod(ks) + (out_channels if bias else 0)


def dense_params(in_features: int, out_features: int, bias: bool = True) -> int:
    """Parameters of a fully connected layer: n·m + m. ``dense_params(3*256*256, 1000) == 196609000``."""
    return in_features * out_features + (out_features if bias else 0)


@dataclass(frozen=True)
class Field:
    """Receptive field along one axis: size ``rf``, effective stride ``jump`` and ``start``.

    ``start`` is the input coordinate of the centre of the first output unit's field (it may be
    negative when padding is used).
    """

    rf: float = 1
    jump: float = 1
    start: float = 0.5

    def through(self, kernel: int, stride: int = 1, padding: int = 0, dilation: int = 1) -> "Field":
        """The field after one more conv/pool layer."""
        eff = dilation * (kernel - 1)
        return Field(rf=self.rf + eff * self.jump, jump=self.jump * stride,
                     start=self.start + (eff / 2 - padding) * self.jump)

    def scaled(self, factor: float) -> "Field":
        """The field after upsampling by ``factor`` (the jump shrinks, the field does not grow)."""
        return Field(rf=self.rf, jump=self.jump / factor, start=self.start)


def receptive_field(layers: Sequence[Tuple[int, int, int, int]]) -> Field:
    """Receptive field of a chain of (kernel, stride, padding, dilation) layers.

    >>> receptive_field([(3, 1, 0, 1)] * 3).rf
    7
    """
    field = Field()
    for k, s, p, d in layers:
        field = field.through(k, s, p, d)
    return field
