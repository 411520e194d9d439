"""Vectorised dense layer, activations, softmax + cross-entropy, batch norm, inverted dropout, flatten, pad.

Every op is a ``forward(...) -> (out, cache)`` / ``*_backward(dout, cache) -> grads`` pair with the
semantics of ``torch.nn.functional`` (cs231n ``layers.py`` style). The loop versions that read like the
formulas are in :mod:`cnnlab.scratch.naive_layers`.
"""

from __future__ import annotations

import numpy as np

from cnnlab.errors import ShapeError
from cnnlab.scratch import _args


# -- dense ------------------------------------------------------------------------------------------
def linear(x, w, b=None):
    """Fully connected layer y = x·wᵀ + b (torch's weight layout: one row per output unit).

    Shape:
        x: (N, I), w: (O, I), b: (O,) -> out: (N, O)
    """
    _args.array(x, "x", 2, "(N, in_features)")
    _args.array(w, "w", 2, "(out_features, in_features)")
    if x.shape[1] != w.shape[1]:
        raise ShapeError(f"linear: `x` has {x.shape[1]} features but `w` expects {w.shape[1]} "
                         f"(w has shape {tuple(w.shape)})")
    if b is not None and tuple(np.shape(b)) != (w.shape[0],):
        raise ShapeError(f"linear: `b` must have shape ({w.shape[0]},); got {tuple(np.shape(b))}")
    out = x @ w.T
    if b is not None:
        out += b
    return out, (x, w, b is not None)


def linear_backward(dout, cache):
    """Gradients of :func:`linear`: ``(dx, dw, db)``.

    Shape:
        dout: (N, O) -> dx: (N, I), dw: (O, I), db: (O,)
    """
    x, w, has_b = cache
    return dout @ w, dout.T @ x, (dout.sum(axis=0) if has_b else None)


# -- activations ------------------------------------------------------------------------------------
def relu(x):
    """ReLU max(x, 0). Shape: any -> same."""
    out = np.maximum(x, 0)
    return out, x > 0


def relu_backward(dout, cache):
    """δ where x > 0, else 0 (torch's choice at x = 0). Shape: any -> same."""
    return dout * cache


def sigmoid(x):
    """σ(x) = 1/(1 + e^(−x)), computed without overflow. Shape: any -> same."""
    e = np.exp(-np.abs(x))
    out = np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(x.dtype, copy=False)
    return out, out


def sigmoid_backward(dout, cache):
    """δ·σ(x)·(1 − σ(x)); note σ' ≤ 1/4, the root of vanishing gradients. Shape: any -> same."""
    return dout * cache * (1 - cache)


def tanh(x):
    """tanh(x). Shape: any -> same."""
    out = np.tanh(x)
    return out, out


def tanh_backward(dout, cache):
    """δ·(1 − tanh²(x)). Shape: any -> same."""
    return dout * (1 - cache * cache)


def softmax(x, axis=1):
    """Softmax along ``axis`` (max subtracted first for stability). Shape: any -> same."""
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    out = e / e.sum(axis=axis, keepdims=True)
    return out, (out, axis)


def softmax_backward(dout, cache):
    """Jacobian-vector product of softmax: s ⊙ (δ − Σ δ⊙s). Shape: any -> same."""
    s, axis = cache
    return s * (dout - (dout * s).sum(axis=axis, keepdims=True))


def softmax_cross_entropy(logits, labels):
    """Mean cross-entropy of softmax(logits) against integer labels (``F.cross_entropy``).

    Returns:
        ``(loss, cache)``: a float and the cache for :func:`softmax_cross_entropy_backward`.

    Shape:
        logits: (N, K), labels: (N,) ints in [0, K) -> loss: scalar
    """
    _args.array(logits, "logits", 2, "(N, classes)")
    labels = np.asarray(labels)
    N, K = logits.shape
    if labels.shape != (N,) or not np.issubdtype(labels.dtype, np.integer):
        raise ShapeError(f"softmax_cross_entropy: `labels` must be {N} integers; got {labels.dtype} "
                         f"shape {labels.shape}")
    if N and (labels.min() < 0 or labels.max() >= K):
        raise ShapeError(f"softmax_cross_entropy: `labels` must be in [0, {K}); got "
                         f"[{labels.min()}, {labels.max()}]")
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))      # log-softmax
    loss = -log_probs[np.arange(N), labels].mean()
    return float(loss), (np.exp(log_probs), labels)


def softmax_cross_entropy_backward(dloss, cache):
    """∂L/∂logits = dloss·(softmax − one_hot)/N.

    Shape:
        dloss: scalar -> dlogits: (N, K)
    """
    probs, labels = cache
    N = probs.shape[0]
    d = probs.copy()
    d[np.arange(N), labels] -= 1
    return d * (dloss / N)


# -- batch norm -------------------------------------------------------------------------------------
def batch_norm(x, running_mean=None, running_var=None, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    """Batch normalisation (Ioffe & Szegedy 2015), argument order of ``F.batch_norm``.

    Training: normalise with the batch mean and biased variance over every axis but the channel, and
    update ``running_mean``/``running_var`` *in place* (unbiased variance, as torch) when given.
    Eval: normalise with the running statistics.

    Returns:
        ``(out, cache)`` for :func:`batch_norm_backward`.

    Shape:
        x: (N, C) or (N, C, L) or (N, C, H, W); running stats, weight, bias: (C,) -> out: like x
    """
    if not isinstance(x, np.ndarray) or x.ndim < 2:
        raise ShapeError(f"batch_norm: `x` must be an array (N, C, ...); got shape {np.shape(x)}")
    C = x.shape[1]
    for name, v in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):
        if v is not None and tuple(np.shape(v)) != (C,):
            raise ShapeError(f"batch_norm: `{name}` must have shape ({C},) for {C} channels; "
                             f"got {tuple(np.shape(v))}")
    axes = (0,) + tuple(range(2, x.ndim))
    shape = (1, C) + (1,) * (x.ndim - 2)                          # broadcast a (C,) vector over x
    if training:
        m = x.size // C
        if m < 2:
            raise ShapeError(f"batch_norm: training needs more than 1 value per channel; got {x.shape}")
        mean, var = x.mean(axis=axes), x.var(axis=axes)
        if running_mean is not None:
            running_mean *= 1 - momentum
            running_mean += momentum * mean
        if running_var is not None:
            running_var *= 1 - momentum
            running_var += momentum * var * m / (m - 1)
    else:
        if running_mean is None or running_var is None:
            raise ShapeError("batch_norm: eval mode needs `running_mean` and `running_var`")
        mean, var = running_mean, running_var
    inv_std = 1.0 / np.sqrt(var + eps)
    xhat = (x - mean.reshape(shape)) * inv_std.reshape(shape)
    gamma = np.ones(C, dtype=x.dtype) if weight is None else weight
    out = xhat * gamma.reshape(shape)
    if bias is not None:
        out = out + bias.reshape(shape)
    return out, (xhat, inv_std, gamma, training, axes, shape, weight is not None, bias is not None)


def batch_norm_backward(dout, cache):
    """Gradients of :func:`batch_norm`: ``(dx, dweight, dbias)`` (None for absent affine params).

    Training mode uses the simplified closed form
    dx = (1/m)·γ·σ⁻¹·(m·δ − Σδ − x̂·Σ(δ·x̂)) (the step-by-step graph is in ``naive_layers``).

    Shape:
        dout: like x -> dx: like x, dweight, dbias: (C,)
    """
    xhat, inv_std, gamma, training, axes, shape, has_w, has_b = cache
    dbias = dout.sum(axis=axes)
    dweight = (dout * xhat).sum(axis=axes)
    g = (gamma * inv_std).reshape(shape)
    if training:
        m = dout.size // dout.shape[1]
        dx = g / m * (m * dout - dbias.reshape(shape) - xhat * dweight.reshape(shape))
    else:
        dx = dout * g
    return dx, (dweight if has_w else None), (dbias if has_b else None)


# -- dropout, flatten, pad --------------------------------------------------------------------------
def _generator(rng):
    return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)


def dropout(x, p=0.5, training=True, rng=None):
    """Inverted dropout (Srivastava et al. 2014): zero each value with probability ``p`` and scale the
    survivors by 1/(1−p) so that the expectation is unchanged; identity in eval mode.

    Args:
        rng: a ``np.random.Generator`` or a seed (the mask is ``rng.random(x.shape) >= p``).

    Shape:
        x: any -> out: same
    """
    if not 0 <= p <= 1:
        raise ShapeError(f"dropout: `p` must be in [0, 1]; got {p}")
    if not training or p == 0:
        return x, None
    if p == 1:
        return np.zeros_like(x), np.zeros_like(x)
    keep = _generator(rng).random(x.shape) >= p
    scale = (keep / (1 - p)).astype(x.dtype)
    return x * scale, scale


def dropout_backward(dout, cache):
    """δ·mask/(1−p) (δ itself in eval mode). Shape: any -> same."""
    return dout if cache is None else dout * cache


def flatten(x, start_dim=1):
    """Flatten all axes from ``start_dim`` on (``nn.Flatten``). Shape: (N, C, H, W) -> (N, C·H·W)"""
    return x.reshape(x.shape[:start_dim] + (-1,)), x.shape


def flatten_backward(dout, cache):
    """Reshape δ back. Shape: (N, C·H·W) -> (N, C, H, W)"""
    return dout.reshape(cache)


def pad2d(x, padding, value=0.0):
    """Constant padding of the last two axes; ``padding`` = (left, right, top, bottom) as ``F.pad``,
    or an int for all four (``nn.ZeroPad2d``).

    Shape:
        x: (N, C, H, W) -> (N, C, H + top + bottom, W + left + right)
    """
    left, right, top, bottom = _args.ints(padding, "padding", 4, minimum=0)
    out = np.pad(x, ((0, 0),) * (x.ndim - 2) + ((top, bottom), (left, right)), constant_values=value)
    return out, (left, right, top, bottom)


def pad2d_backward(dout, cache):
    """Crop δ back to the unpadded size. Shape: (N, C, Hp, Wp) -> (N, C, H, W)"""
    left, right, top, bottom = cache
    H, W = dout.shape[-2] - top - bottom, dout.shape[-1] - left - right
    return dout[..., top:top + H, left:left + W]
