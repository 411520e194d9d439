"""The single-channel textbook forms: cross-correlation and true convolution, 2-D and 1-D.

What the lecture draws on the board: a kernel K slides over an image X and at each position the
overlapping entries are multiplied and summed. Deep-learning "convolution" is this
*cross-correlation*; the mathematician's convolution first rotates the kernel by 180°:

    correlate:  Y[i, j] = Σ_a Σ_b X[i + a, j + b] · K[a, b]
    convolve:   Y[i, j] = Σ_a Σ_b X[i + a, j + b] · K[KH−1−a, KW−1−b]

``mode`` is SciPy's: "valid" (no padding), "full" (every overlap; pads KH−1, KW−1 zeros on each side)
or "same" (output as large as X, centred as in ``scipy.signal.correlate2d``). Backprop through a conv
layer is made of these: ∂L/∂K = correlate(X, δ) and ∂L/∂X = convolve(δ, K, "full").
Loop versions: :func:`cnnlab.scratch.naive.correlate2d`.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from cnnlab.errors import ShapeError

_MODES = ("valid", "full", "same")


def _pad_for(mode, kh, kw, flipped):
    if mode == "valid":
        return (0, 0), (0, 0)
    if mode == "full":
        return (kh - 1, kh - 1), (kw - 1, kw - 1)
    # SciPy's "same": centre of the full output; the split of an even kernel depends on the flip
    th, tw = kh - 1, kw - 1
    if flipped:
        return (th - th // 2, th // 2), (tw - tw // 2, tw // 2)
    return (th // 2, th - th // 2), (tw // 2, tw - tw // 2)


def correlate2d(x, k, mode="valid"):
    """2-D cross-correlation of one image with one kernel (vectorised with a sliding-window view).

    Raises:
        ShapeError: not 2-D, unknown ``mode``, or a kernel larger than the image in "valid" mode.

    Shape:
        x: (H, W), k: (KH, KW) -> valid (H−KH+1, W−KW+1), full (H+KH−1, W+KW−1), same (H, W)

    Example:
        >>> correlate2d(np.arange(9.).reshape(3, 3), np.ones((2, 2)))
        array([[ 8., 12.],
               [20., 24.]])
    """
    return _corr2d(x, k, mode, flipped=False)


def convolve2d(x, k, mode="valid"):
    """2-D true convolution: :func:`correlate2d` with the kernel rotated by 180°.

    Shape:
        x: (H, W), k: (KH, KW) -> as :func:`correlate2d`
    """
    return _corr2d(x, np.asarray(k)[::-1, ::-1], mode, flipped=True)


def _corr2d(x, k, mode, flipped):
    x, k = np.asarray(x), np.asarray(k)
    if x.ndim != 2 or k.ndim != 2:
        raise ShapeError(f"`x` and `k` must be 2-D (H, W) and (KH, KW); got {x.shape} and {k.shape}")
    if mode not in _MODES:
        raise ShapeError(f"`mode` must be one of {', '.join(_MODES)}; got {mode!r}")
    KH, KW = k.shape
    if mode == "valid" and (KH > x.shape[0] or KW > x.shape[1]):
        raise ShapeError(f"`k` ({KH}×{KW}) must be ≤ the image ({x.shape[0]}×{x.shape[1]}) in "
                         f"'valid' mode")
    xp = np.pad(x, _pad_for(mode, KH, KW, flipped))
    win = sliding_window_view(xp, (KH, KW))                     # (OH, OW, KH, KW), no copy
    return np.einsum("ijab,ab->ij", win, k)


def _as_1d(x, k):
    x, k = np.asarray(x), np.asarray(k)
    if x.ndim != 1 or k.ndim != 1:
        raise ShapeError(f"`x` and `k` must be 1-D; got {x.shape} and {k.shape}")
    return x, k


def correlate1d(x, k, mode="valid"):
    """1-D cross-correlation y[t] = Σ_a x[t + a]·k[a] (``scipy.signal.correlate``'s modes).

    Shape:
        x: (L,), k: (K,) -> (L−K+1,) in "valid"
    """
    x, k = _as_1d(x, k)
    # scipy.signal.correlate centres "same" like a convolution with the reversed kernel
    return _corr2d(x[None, :], k[None, :], mode, flipped=True)[0]


def convolve1d(x, k, mode="valid"):
    """1-D true convolution y[t] = Σ_a x[t + a]·k[K−1−a] (``np.convolve`` for the same mode).

    Shape:
        x: (L,), k: (K,) -> (L−K+1,) in "valid"
    """
    x, k = _as_1d(x, k)
    return _corr2d(x[None, :], k[None, ::-1], mode, flipped=True)[0]
