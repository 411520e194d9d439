"""Vectorised pooling: max, average and L2 (power-average) pooling, forward and backward.

Pooling looks at each channel on its own ("the output has as many channels as the input"). Its
gradients follow the lecture's rule that pooling must keep the total gradient:

- max pooling routes δ only to the stored arg-max of each window ("max id"), every other pixel gets 0;
- mean pooling spreads δ evenly over the window (δ/k² to each pixel), so the sum is unchanged;
- L2 pooling out = √(Σ x²) sends δ·x/out to each pixel.

**Ties in max pooling**: the first maximum in row-major order of the window (smallest (i, j), i.e. the
smallest kernel row, then column) receives the whole gradient. That is what torch's CPU kernel does
(``val > maxval`` keeps the first), checked in ``tests/scratch/test_pool.py``. A NaN in a window makes
the output NaN (as in torch); its gradient is then dropped.

Semantics equal ``torch.nn.functional.max_pool2d`` (with dilation and ``ceil_mode``), ``avg_pool2d``
(``count_include_pad``, ``ceil_mode``) and ``lp_pool2d``. Loop versions: :mod:`cnnlab.scratch.naive`.
"""

from __future__ import annotations

import numpy as np

from cnnlab.errors import ShapeError
from cnnlab.scratch import _args
from cnnlab.scratch.im2col import col2im, windows


def pool_setup(x, kernel_size, stride, padding, dilation, ceil_mode, what):
    """Validate pooling arguments (torch's rules); returns (kernel, stride, pad, dilation, out, end_pad).

    ``end_pad`` is the extra padding at the end that ``ceil_mode`` needs for the last window.
    """
    _args.array(x, "x", 4, "(N, C, H, W)")
    kernel = _args.ints(kernel_size, "kernel_size", 2)
    stride = kernel if stride is None else _args.ints(stride, "stride", 2)
    dilation = _args.ints(dilation, "dilation", 2)
    pad = _args.ints(padding, "padding", 2, minimum=0)
    for p, k, d in zip(pad, kernel, dilation):
        if 2 * p > d * (k - 1) + 1:
            raise ShapeError(f"{what}: `padding` must be at most half the (dilated) kernel size; got "
                             f"padding {pad} for kernel_size {kernel}")
    H, W = x.shape[2:]
    out = _args.out_sizes((H, W), kernel, stride, tuple((p, p) for p in pad), dilation, what, ceil_mode)
    end_pad = tuple(max(0, (o - 1) * s + d * (k - 1) + 1 - (n + 2 * p))
                    for o, s, d, k, n, p in zip(out, stride, dilation, kernel, (H, W), pad))
    return kernel, stride, pad, dilation, out, end_pad


def _pad(x, pad, end_pad, value):
    """(N, C, H, W) -> (N, C, H + 2·ph + eh, W + 2·pw + ew)"""
    (ph, pw), (eh, ew) = pad, end_pad
    return np.pad(x, ((0, 0), (0, 0), (ph, ph + eh), (pw, pw + ew)), constant_values=value)


def max_pool2d(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    """Max pooling; ``stride`` defaults to ``kernel_size``; implicit padding is −∞.

    Vectorised over the batch, looping over the KH·KW kernel offsets only (a running
    ``np.maximum``). The arg-max is not stored: the backward pass finds it again by comparing each
    offset with the output, in row-major offset order, so ties go to the first maximum.

    Returns:
        ``(out, cache)`` for :func:`max_pool2d_backward`.

    Raises:
        ShapeError: kernel larger than the padded input, padding above half the kernel, bad sizes.

    Shape:
        x: (N, C, H, W) -> out: (N, C, OH, OW)
    """
    kernel, stride, pad, dilation, (OH, OW), end_pad = pool_setup(
        x, kernel_size, stride, padding, dilation, ceil_mode, "max_pool2d")
    KH, KW = kernel
    xp = _pad(x, pad, end_pad, -np.inf)
    view = windows(xp, kernel, stride, dilation, (OH, OW))                  # (N, C, KH, KW, OH, OW)
    out = view[:, :, 0, 0].copy()                                            # (N, C, OH, OW)
    for k in range(1, KH * KW):
        np.maximum(out, view[:, :, k // KW, k % KW], out=out)               # NaN propagates
    return out, (x.shape, xp.shape[2:], view, out, stride, pad, dilation)


def max_pool2d_backward(dout, cache):
    """∂L/∂x of :func:`max_pool2d`: each δ goes to its window's arg-max ("max id"), nothing elsewhere.

    Shape:
        dout: (N, C, OH, OW) -> dx: (N, C, H, W)
    """
    (N, C, H, W), padded_hw, view, out, (sh, sw), (ph, pw), (dh, dw) = cache
    _, _, KH, KW, OH, OW = view.shape
    dxp = np.zeros((N, C) + tuple(padded_hw), dtype=dout.dtype)
    taken = np.zeros(out.shape, dtype=bool)                  # windows whose max id is already found
    for k in range(KH * KW):
        i, j = divmod(k, KW)
        is_max = view[:, :, i, j] == out
        is_max &= ~taken                                     # ties: an earlier offset already won
        taken |= is_max
        # pixel (oh*sh + i*dh, ow*sw + j*dw) of every window gets δ where it was the max
        dxp[:, :, i * dh: i * dh + sh * (OH - 1) + 1: sh,
            j * dw: j * dw + sw * (OW - 1) + 1: sw] += dout * is_max
    return np.ascontiguousarray(dxp[:, :, ph:ph + H, pw:pw + W])


def _divisor(n, k, s, p, out, include_pad):
    """Per-output count of the window's pixels that lie in the input (or in the padded input)."""
    lo, hi = (-p, n + p) if include_pad else (0, n)
    start = np.arange(out) * s - p                            # first pixel of each window, input coords
    return np.minimum(start + k, hi) - np.maximum(start, lo)


def avg_pool2d(x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """Average pooling; zero padding counts in the mean when ``count_include_pad`` (torch default).

    Returns:
        ``(out, cache)`` for :func:`avg_pool2d_backward`.

    Shape:
        x: (N, C, H, W) -> out: (N, C, OH, OW)
    """
    kernel, stride, pad, dilation, (OH, OW), end_pad = pool_setup(
        x, kernel_size, stride, padding, 1, ceil_mode, "avg_pool2d")
    H, W = x.shape[2:]
    xp = _pad(x, pad, end_pad, 0.0)
    view = windows(xp, kernel, stride, dilation, (OH, OW))                  # (N, C, KH, KW, OH, OW)
    div = np.outer(_divisor(H, kernel[0], stride[0], pad[0], OH, count_include_pad),
                   _divisor(W, kernel[1], stride[1], pad[1], OW, count_include_pad))   # (OH, OW)
    out = view.sum(axis=(2, 3)) / div
    return out.astype(x.dtype, copy=False), (x.shape, xp.shape[2:], div, kernel, stride, pad)


def avg_pool2d_backward(dout, cache):
    """∂L/∂x of :func:`avg_pool2d`: δ/count spread evenly over each window.

    Shape:
        dout: (N, C, OH, OW) -> dx: (N, C, H, W)
    """
    (N, C, H, W), padded_hw, div, (KH, KW), stride, (ph, pw) = cache
    OH, OW = dout.shape[2:]
    share = (dout / div).astype(dout.dtype, copy=False)                    # (N, C, OH, OW)
    dcols = np.broadcast_to(share[:, :, None, None], (N, C, KH, KW, OH, OW))
    dxp = col2im(dcols, padded_hw, stride, (1, 1))
    return np.ascontiguousarray(dxp[:, :, ph:ph + H, pw:pw + W])


def lp_pool2d(x, norm_type, kernel_size, stride=None, ceil_mode=False):
    """Power-average pooling out = (Σ_window x^p)^(1/p); ``norm_type=2`` is L2 pooling.

    Computed as torch does: ``(avg_pool2d(x**p) · KH·KW) ** (1/p)`` (so with ``ceil_mode`` a clipped
    window is rescaled to the full window size, as in torch).

    Returns:
        ``(out, cache)`` for :func:`lp_pool2d_backward`.

    Shape:
        x: (N, C, H, W) -> out: (N, C, OH, OW)
    """
    p = float(norm_type)
    if not p > 0:
        raise ShapeError(f"lp_pool2d: `norm_type` must be > 0; got {norm_type!r}")
    _args.array(x, "x", 4, "(N, C, H, W)")
    KH, KW = _args.ints(kernel_size, "kernel_size", 2)
    mean, avg_cache = avg_pool2d(x ** p, (KH, KW), stride, 0, ceil_mode, True)
    total = mean * (KH * KW)                                                  # Σ x^p per window
    out = total ** (1.0 / p)
    return out, (x, p, total, out, KH * KW, avg_cache)


def lp_pool2d_backward(dout, cache):
    """∂L/∂x of :func:`lp_pool2d`: for p = 2, δ·x/out to each pixel of the window (0 where out = 0).

    Shape:
        dout: (N, C, OH, OW) -> dx: (N, C, H, W)
    """
    x, p, total, out, K, avg_cache = cache
    with np.errstate(divide="ignore", invalid="ignore"):
        dtotal = np.where(total != 0, dout * out / (p * total), 0.0)          # d(S^(1/p))/dS = S^(1/p)/(p·S)
    dpow = avg_pool2d_backward((dtotal * K).astype(x.dtype, copy=False), avg_cache)
    return dpow * p * x ** (p - 1)
