"""Loop versions of the dense layer, activations, softmax + cross-entropy, batch norm and dropout.

The teaching tier next to :mod:`cnnlab.scratch.layers`: same arguments and semantics, every sum
written as a loop (or, for batch norm, the computational graph walked backwards one node at a time,
cs231n's ``batchnorm_backward``). Pair each forward with the backward from this module.
"""

from __future__ import annotations

import math

import numpy as np

from cnnlab.scratch import layers as _fast

__all__ = ["linear", "linear_backward", "relu", "relu_backward", "sigmoid", "sigmoid_backward",
           "tanh", "tanh_backward", "softmax_cross_entropy", "softmax_cross_entropy_backward",
           "batch_norm", "batch_norm_backward", "dropout", "dropout_backward"]


def linear(x, w, b=None):
    """out[n, o] = b[o] + Σ_i x[n, i]·w[o, i]. Shape: x (N, I), w (O, I) -> (N, O)"""
    _fast.linear(x[:1], w, b)                                     # same argument checks
    N, I = x.shape
    O = w.shape[0]
    out = np.zeros((N, O), dtype=np.result_type(x, w))
    for n in range(N):
        for o in range(O):
            total = b[o] if b is not None else 0.0
            for i in range(I):
                total += x[n, i] * w[o, i]
            out[n, o] = total
    return out, (x, w, b is not None)


def linear_backward(dout, cache):
    """dx[n, i] = Σ_o δ[n, o]·w[o, i]; dw[o, i] = Σ_n δ[n, o]·x[n, i]; db[o] = Σ_n δ[n, o]."""
    x, w, has_b = cache
    N, I = x.shape
    O = w.shape[0]
    dx, dw = np.zeros_like(x, dtype=dout.dtype), np.zeros_like(w, dtype=dout.dtype)
    db = np.zeros(O, dtype=dout.dtype) if has_b else None
    for n in range(N):
        for o in range(O):
            for i in range(I):
                dx[n, i] += dout[n, o] * w[o, i]
                dw[o, i] += dout[n, o] * x[n, i]
            if has_b:
                db[o] += dout[n, o]
    return dx, dw, db


def _elementwise(f, *arrays):
    out = np.empty_like(arrays[0])
    for idx in np.ndindex(out.shape):
        out[idx] = f(*(a[idx] for a in arrays))
    return out


def relu(x):
    """out = x if x > 0 else 0, one element at a time."""
    return _elementwise(lambda v: v if v > 0 else 0.0, x), x


def relu_backward(dout, cache):
    """δ if x > 0 else 0."""
    return _elementwise(lambda d, v: d if v > 0 else 0.0, dout, cache)


def _sigma(v):
    return 1 / (1 + math.exp(-v)) if v >= 0 else math.exp(v) / (1 + math.exp(v))


def sigmoid(x):
    """σ(x) = 1/(1 + e^(−x))."""
    out = _elementwise(_sigma, x)
    return out, out


def sigmoid_backward(dout, cache):
    """δ·σ·(1 − σ)."""
    return _elementwise(lambda d, s: d * s * (1 - s), dout, cache)


def tanh(x):
    """tanh(x) = (e^x − e^(−x))/(e^x + e^(−x))."""
    out = _elementwise(math.tanh, x)
    return out, out


def tanh_backward(dout, cache):
    """δ·(1 − tanh²)."""
    return _elementwise(lambda d, t: d * (1 - t * t), dout, cache)


def softmax_cross_entropy(logits, labels):
    """L = (1/N) Σ_n −log(e^{z[n, y_n]} / Σ_k e^{z[n, k]}), one sample at a time."""
    _fast.softmax_cross_entropy(logits, labels)                   # same argument checks
    N, K = logits.shape
    probs = np.zeros_like(logits)
    loss = 0.0
    for n in range(N):
        top = max(logits[n])                                      # shift: e^z never overflows
        exps = [math.exp(logits[n, k] - top) for k in range(K)]
        total = sum(exps)
        for k in range(K):
            probs[n, k] = exps[k] / total
        loss += -(logits[n, labels[n]] - top - math.log(total))
    return loss / N, (probs, np.asarray(labels))


def softmax_cross_entropy_backward(dloss, cache):
    """∂L/∂z[n, k] = dloss·(p[n, k] − [k = y_n])/N."""
    probs, labels = cache
    N, K = probs.shape
    d = np.zeros_like(probs)
    for n in range(N):
        for k in range(K):
            d[n, k] = dloss * (probs[n, k] - (1.0 if k == labels[n] else 0.0)) / N
    return d


def batch_norm(x, running_mean=None, running_var=None, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    """Per channel c: μ = mean, σ² = mean((x − μ)²), x̂ = (x − μ)/√(σ² + ε), y = γ·x̂ + β."""
    _fast.batch_norm(x, None if training else running_mean, None if training else running_var,
                     weight, bias, training, momentum, eps)       # same argument checks, no update
    C = x.shape[1]
    out = np.empty_like(x)
    steps = []
    for c in range(C):
        xc = x[:, c]                                              # every value of channel c
        m = xc.size
        if training:
            mu = xc.sum() / m
            centred = xc - mu
            var = (centred ** 2).sum() / m
            if running_mean is not None:
                running_mean[c] = (1 - momentum) * running_mean[c] + momentum * mu
            if running_var is not None:
                running_var[c] = (1 - momentum) * running_var[c] + momentum * var * m / (m - 1)
        else:
            centred, var = xc - running_mean[c], running_var[c]
        std = math.sqrt(var + eps)
        xhat = centred / std
        gamma = 1.0 if weight is None else weight[c]
        out[:, c] = gamma * xhat + (0.0 if bias is None else bias[c])
        steps.append((centred, std, xhat, gamma))
    return out, (steps, training, weight is not None, bias is not None)


def batch_norm_backward(dout, cache):
    """Walk the graph y ← x̂ ← (centred, std) ← (μ, σ²) ← x backwards, one channel at a time."""
    steps, training, has_w, has_b = cache
    C = dout.shape[1]
    dx = np.empty_like(dout)
    dweight, dbias = np.zeros(C, dtype=dout.dtype), np.zeros(C, dtype=dout.dtype)
    for c, (centred, std, xhat, gamma) in enumerate(steps):
        d = dout[:, c]
        dbias[c] = d.sum()
        dweight[c] = (d * xhat).sum()
        dxhat = d * gamma
        if not training:                                          # μ, σ² are constants
            dx[:, c] = dxhat / std
            continue
        m = d.size
        dcentred = dxhat / std                                    # through x̂ = centred / std
        dstd = -(dxhat * centred).sum() / std ** 2
        dvar = dstd / (2 * std)                                   # std = √(σ² + ε)
        dcentred += dvar * 2 * centred / m                        # σ² = Σ centred² / m
        dmu = -dcentred.sum()                                     # centred = x − μ
        dx[:, c] = dcentred + dmu / m                             # μ = Σ x / m
    return dx, (dweight if has_w else None), (dbias if has_b else None)


def dropout(x, p=0.5, training=True, rng=None):
    """Inverted dropout, element by element: keep with probability 1 − p and scale by 1/(1 − p).
    Draws the same mask as :func:`cnnlab.scratch.dropout` for the same ``rng``."""
    _fast.dropout(x[:0], p, training)                             # same argument checks
    if not training or p == 0:
        return x, None
    draws = _fast._generator(rng).random(x.shape)
    scale = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        if p < 1 and draws[idx] >= p:
            scale[idx] = 1 / (1 - p)
    return x * scale, scale


def dropout_backward(dout, cache):
    """δ·mask/(1 − p)."""
    return dout if cache is None else dout * cache
