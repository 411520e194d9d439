"""Argument normalisation and shape checks shared by the NumPy engine (no torch import).

``stride``, ``padding``, ``dilation`` and ``kernel_size`` accept an int or a pair, like
``torch.nn.functional``; ``padding`` also accepts ``"valid"`` and ``"same"`` (torch's rule: stride 1,
the odd pixel of an even kernel goes after). Every check raises :class:`cnnlab.errors.ShapeError` (a
``ValueError``) or ``TypeError`` with a one-line message naming the argument, what was expected and
what was received.
"""

from __future__ import annotations

from typing import Tuple

import numpy as np

from cnnlab.errors import ShapeError
from cnnlab.shapes import conv_output_size, pair

Pads = Tuple[Tuple[int, int], ...]  # ((before, after), ...) per spatial axis


def ints(value, name: str, n: int, minimum: int = 1) -> Tuple[int, ...]:
    """``value`` as an ``n``-tuple of ints, each ≥ ``minimum``."""
    out = pair(value, name, n)
    if any(v < minimum for v in out):
        raise ShapeError(f"`{name}` must be ≥ {minimum}; got {value!r}")
    return out


def paddings(padding, kernel: Tuple[int, ...], dilation: Tuple[int, ...], stride: Tuple[int, ...]) -> Pads:
    """Normalise ``padding`` (int, tuple, "valid" or "same") to ((before, after), ...) per axis."""
    n = len(kernel)
    if isinstance(padding, str):
        mode = padding.lower()
        if mode == "valid":
            return ((0, 0),) * n
        if mode == "same":
            if any(s != 1 for s in stride):
                raise ShapeError(f"`padding`='same' needs stride 1 (as in torch); got stride {stride}")
            total = [d * (k - 1) for k, d in zip(kernel, dilation)]
            return tuple((t // 2, t - t // 2) for t in total)
        raise ShapeError(f"`padding` must be an int, a tuple, 'valid' or 'same'; got {padding!r}")
    return tuple((p, p) for p in ints(padding, "padding", n, minimum=0))


def array(x, name: str, ndim: int, layout: str) -> np.ndarray:
    """Check that ``x`` is a floating NumPy array with ``ndim`` dims (layout named in the message)."""
    if not isinstance(x, np.ndarray):
        raise TypeError(f"`{name}` must be a NumPy array {layout}; got {type(x).__name__}")
    if x.ndim != ndim:
        raise ShapeError(f"`{name}` must have {ndim} dims {layout}; got shape {tuple(x.shape)}")
    return x


def out_sizes(sizes, kernel, stride, pads: Pads, dilation, what: str, ceil_mode: bool = False):
    """Output sizes per spatial axis; raises if the (dilated) kernel is larger than the padded input."""
    out = []
    for n, k, s, (p0, p1), d in zip(sizes, kernel, stride, pads, dilation):
        span = d * (k - 1) + 1
        if span > n + p0 + p1:
            shown_k = "×".join(str(d_ * (k_ - 1) + 1) for k_, d_ in zip(kernel, dilation))
            shown_x = "×".join(str(n_ + a + b) for n_, (a, b) in zip(sizes, pads))
            raise ShapeError(f"{what}: the (dilated) kernel {shown_k} is larger than the padded input "
                             f"{shown_x}")
        if ceil_mode:
            if p0 != p1:
                raise ShapeError(f"{what}: `ceil_mode` needs symmetric padding; got {pads}")
            out.append(conv_output_size(n, k, s, p0, d, ceil_mode=True))
        else:
            out.append((n + p0 + p1 - span) // s + 1)
    return tuple(out)
