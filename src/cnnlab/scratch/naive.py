"""Loop versions of convolution and pooling: each line reads like the formula of the lecture notes.

These are the teaching tier (d2l ``corr2d``, cs231n ``conv_forward_naive``): slow, obvious and
checked against the vectorised versions in :mod:`cnnlab.scratch.conv` / :mod:`cnnlab.scratch.pool`
and against torch. Arguments, returns and shapes are those of the vectorised functions; the caches
differ, so pair each forward with the backward of the same module.

The loops for the dense layer, activations, batch norm, dropout and softmax live in
:mod:`cnnlab.scratch.naive_layers` and are re-exported here.
"""

from __future__ import annotations

import numpy as np

from cnnlab.scratch import _args
from cnnlab.scratch.conv import conv_setup
from cnnlab.scratch.naive_layers import *  # noqa: F401,F403  (one namespace for all loop versions)
from cnnlab.scratch.naive_layers import __all__ as _layer_names
from cnnlab.scratch.pool import pool_setup

__all__ = ["correlate2d", "convolve2d", "conv2d", "conv2d_backward", "conv1d", "conv1d_backward",
           "max_pool2d", "max_pool2d_backward", "avg_pool2d", "avg_pool2d_backward",
           "lp_pool2d", "lp_pool2d_backward"] + list(_layer_names)


# -- textbook single-channel forms ------------------------------------------------------------------
def correlate2d(x, k):
    """Valid cross-correlation Y[i, j] = Σ_a Σ_b X[i + a, j + b]·K[a, b] (d2l ``corr2d``).

    Shape:
        x: (H, W), k: (KH, KW) -> (H − KH + 1, W − KW + 1)
    """
    H, W = x.shape
    KH, KW = k.shape
    y = np.zeros((H - KH + 1, W - KW + 1), dtype=np.result_type(x, k))
    for i in range(H - KH + 1):
        for j in range(W - KW + 1):
            for a in range(KH):
                for b in range(KW):
                    y[i, j] += x[i + a, j + b] * k[a, b]
    return y


def convolve2d(x, k):
    """Valid true convolution Y[i, j] = Σ_a Σ_b X[i + a, j + b]·K[KH−1−a, KW−1−b] (kernel rotated 180°).

    Shape:
        x: (H, W), k: (KH, KW) -> (H − KH + 1, W − KW + 1)
    """
    return correlate2d(x, k[::-1, ::-1])


# -- convolution ------------------------------------------------------------------------------------
def conv2d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """Loop form of :func:`cnnlab.scratch.conv2d`:
    out[n, f, oh, ow] = b[f] + Σ_{c,i,j} x̃[n, c0 + c, oh·sh + i·dh, ow·sw + j·dw] · w[f, c, i, j]."""
    (sh, sw), pads, (dh, dw), (OH, OW) = conv_setup(x, w, b, stride, padding, dilation, groups)
    N = x.shape[0]
    F, Cg, KH, KW = w.shape
    Fg = F // groups
    xp = np.pad(x, ((0, 0), (0, 0)) + pads)
    out = np.zeros((N, F, OH, OW), dtype=np.result_type(x, w))
    for n in range(N):
        for f in range(F):
            c0 = (f // Fg) * Cg                          # first input channel of filter f's group
            for oh in range(OH):
                for ow in range(OW):
                    window = xp[n, c0:c0 + Cg,
                                oh * sh: oh * sh + dh * (KH - 1) + 1: dh,
                                ow * sw: ow * sw + dw * (KW - 1) + 1: dw]          # (Cg, KH, KW)
                    out[n, f, oh, ow] = np.sum(window * w[f]) + (b[f] if b is not None else 0)
    return out, (x, xp, w, b is not None, (sh, sw), pads, (dh, dw), groups)


def conv2d_backward(dout, cache):
    """Loop form of the conv gradients: every output δ[n, f, oh, ow] sends δ·window to ∂L/∂w[f] and
    δ·w[f] back onto the window's pixels of ∂L/∂x (the scatter form of "δ full-convolved with the
    kernel rotated 180°"). Returns ``(dx, dw, db)``."""
    x, xp, w, has_b, (sh, sw), pads, (dh, dw_), groups = cache
    N, F, OH, OW = dout.shape
    _, Cg, KH, KW = w.shape
    Fg = F // groups
    dxp, dw = np.zeros_like(xp, dtype=dout.dtype), np.zeros_like(w, dtype=dout.dtype)
    db = np.zeros(F, dtype=dout.dtype) if has_b else None
    for n in range(N):
        for f in range(F):
            c0 = (f // Fg) * Cg
            for oh in range(OH):
                for ow in range(OW):
                    rows = slice(oh * sh, oh * sh + dh * (KH - 1) + 1, dh)
                    cols = slice(ow * sw, ow * sw + dw_ * (KW - 1) + 1, dw_)
                    delta = dout[n, f, oh, ow]
                    dw[f] += delta * xp[n, c0:c0 + Cg, rows, cols]
                    dxp[n, c0:c0 + Cg, rows, cols] += delta * w[f]
                    if has_b:
                        db[f] += delta
    (pt, _), (pl, _) = pads
    H, W = x.shape[2:]
    return dxp[:, :, pt:pt + H, pl:pl + W], dw, db


def conv1d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """Loop form of :func:`cnnlab.scratch.conv1d`:
    out[n, f, t] = b[f] + Σ_{c,k} x̃[n, c0 + c, t·s + k·d] · w[f, c, k]."""
    _args.array(x, "x", 3, "(N, C, L)")
    _args.array(w, "w", 3, "(F, C/groups, K)")
    (s,), (d,) = _args.ints(stride, "stride", 1), _args.ints(dilation, "dilation", 1)
    pad = padding if isinstance(padding, str) else (0, _args.ints(padding, "padding", 1, 0)[0])
    # the checks are those of a height-1 conv2d
    _, pads, _, (_, OL) = conv_setup(x[:, :, None], w[:, :, None], b, (1, s), pad, (1, d), groups,
                                     "conv1d")
    N = x.shape[0]
    F, Cg, K = w.shape
    Fg = F // groups
    xp = np.pad(x, ((0, 0), (0, 0), pads[1]))
    out = np.zeros((N, F, OL), dtype=np.result_type(x, w))
    for n in range(N):
        for f in range(F):
            c0 = (f // Fg) * Cg
            for t in range(OL):
                total = b[f] if b is not None else 0.0
                for c in range(Cg):
                    for k in range(K):
                        total += xp[n, c0 + c, t * s + k * d] * w[f, c, k]
                out[n, f, t] = total
    return out, (x, xp, w, b is not None, s, pads[1][0], d, groups)


def conv1d_backward(dout, cache):
    """Loop form of the conv1d gradients; returns ``(dx, dw, db)``."""
    x, xp, w, has_b, s, p, d, groups = cache
    N, F, OL = dout.shape
    _, Cg, K = w.shape
    Fg = F // groups
    dxp, dw = np.zeros_like(xp, dtype=dout.dtype), np.zeros_like(w, dtype=dout.dtype)
    for n in range(N):
        for f in range(F):
            c0 = (f // Fg) * Cg
            for t in range(OL):
                for c in range(Cg):
                    for k in range(K):
                        dw[f, c, k] += dout[n, f, t] * xp[n, c0 + c, t * s + k * d]
                        dxp[n, c0 + c, t * s + k * d] += dout[n, f, t] * w[f, c, k]
    db = dout.sum(axis=(0, 2)) if has_b else None
    return dxp[:, :, p:p + x.shape[2]], dw, db


# -- pooling ----------------------------------------------------------------------------------------
def max_pool2d(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    """Loop form of :func:`cnnlab.scratch.max_pool2d`; remembers the arg-max ("max id") of each
    window. Ties: the strict ``>`` keeps the first maximum in row-major window order."""
    (KH, KW), (sh, sw), (ph, pw), (dh, dw), (OH, OW), _ = pool_setup(
        x, kernel_size, stride, padding, dilation, ceil_mode, "max_pool2d")
    N, C, H, W = x.shape
    out = np.zeros((N, C, OH, OW), dtype=x.dtype)
    argmax = np.zeros((N, C, OH, OW, 2), dtype=np.int64)         # input (row, col) of each max
    for n in range(N):
        for c in range(C):
            for oh in range(OH):
                for ow in range(OW):
                    best, where = -np.inf, (0, 0)
                    for i in range(KH):
                        for j in range(KW):
                            r, q = oh * sh + i * dh - ph, ow * sw + j * dw - pw
                            if 0 <= r < H and 0 <= q < W and (x[n, c, r, q] > best or
                                                               np.isnan(x[n, c, r, q])):
                                best, where = x[n, c, r, q], (r, q)
                                if np.isnan(best):
                                    break
                    out[n, c, oh, ow], argmax[n, c, oh, ow] = best, where
    return out, (x.shape, argmax)


def max_pool2d_backward(dout, cache):
    """Loop form: dx[max id of window] += δ[window]; every other pixel gets nothing."""
    x_shape, argmax = cache
    dx = np.zeros(x_shape, dtype=dout.dtype)
    N, C, OH, OW = dout.shape
    for n in range(N):
        for c in range(C):
            for oh in range(OH):
                for ow in range(OW):
                    r, q = argmax[n, c, oh, ow]
                    dx[n, c, r, q] += dout[n, c, oh, ow]
    return dx


def _avg_windows(x_shape, kernel, stride, pad, out, count_include_pad):
    """Yield (oh, ow, in-input pixels, divisor) for every average-pooling window (torch's counting:
    the window is clipped to the padded input; padding counts in the divisor if asked)."""
    (H, W), (KH, KW), (sh, sw), (ph, pw), (OH, OW) = x_shape[2:], kernel, stride, pad, out
    for oh in range(OH):
        for ow in range(OW):
            pixels, count = [], 0
            for i in range(KH):
                for j in range(KW):
                    r, q = oh * sh + i - ph, ow * sw + j - pw
                    inside = 0 <= r < H and 0 <= q < W
                    in_padded = -ph <= r < H + ph and -pw <= q < W + pw
                    count += inside or (count_include_pad and in_padded)
                    if inside:
                        pixels.append((r, q))
            yield oh, ow, pixels, count


def avg_pool2d(x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """Loop form of :func:`cnnlab.scratch.avg_pool2d`: out = (Σ window) / count."""
    kernel, stride, pad, _, out_hw, _ = pool_setup(x, kernel_size, stride, padding, 1, ceil_mode,
                                                   "avg_pool2d")
    N, C = x.shape[:2]
    out = np.zeros((N, C) + out_hw, dtype=x.dtype)
    plan = list(_avg_windows(x.shape, kernel, stride, pad, out_hw, count_include_pad))
    for n in range(N):
        for c in range(C):
            for oh, ow, pixels, count in plan:
                out[n, c, oh, ow] = sum(x[n, c, r, q] for r, q in pixels) / count
    return out, (x.shape, plan)


def avg_pool2d_backward(dout, cache):
    """Loop form: each pixel of a window receives δ/count ("spread evenly, total unchanged")."""
    x_shape, plan = cache
    dx = np.zeros(x_shape, dtype=dout.dtype)
    N, C = x_shape[:2]
    for n in range(N):
        for c in range(C):
            for oh, ow, pixels, count in plan:
                for r, q in pixels:
                    dx[n, c, r, q] += dout[n, c, oh, ow] / count
    return dx


def lp_pool2d(x, norm_type, kernel_size, stride=None, ceil_mode=False):
    """Loop form of :func:`cnnlab.scratch.lp_pool2d`: out = (K/count · Σ_window x^p)^(1/p), where
    K/count only differs from 1 for windows clipped by ``ceil_mode`` (torch's rescaling)."""
    p = float(norm_type)
    kernel, stride, pad, _, out_hw, _ = pool_setup(x, kernel_size, stride, 0, 1, ceil_mode, "lp_pool2d")
    N, C = x.shape[:2]
    K = kernel[0] * kernel[1]
    out = np.zeros((N, C) + out_hw, dtype=x.dtype)
    plan = list(_avg_windows(x.shape, kernel, stride, pad, out_hw, True))
    for n in range(N):
        for c in range(C):
            for oh, ow, pixels, count in plan:
                out[n, c, oh, ow] = (K / count * sum(x[n, c, r, q] ** p for r, q in pixels)) ** (1 / p)
    return out, (x, p, K, out, plan)


def lp_pool2d_backward(dout, cache):
    """Loop form: ∂out/∂x = x^(p−1)·(K/count)·out^(1−p); for p = 2 that is x/out (0 where out = 0)."""
    x, p, K, out, plan = cache
    dx = np.zeros(x.shape, dtype=dout.dtype)
    N, C = x.shape[:2]
    for n in range(N):
        for c in range(C):
            for oh, ow, pixels, count in plan:
                if out[n, c, oh, ow] == 0:
                    continue
                for r, q in pixels:
                    dx[n, c, r, q] += (dout[n, c, oh, ow] * x[n, c, r, q] ** (p - 1) * (K / count)
                                       * out[n, c, oh, ow] ** (1 - p))
    return dx
