"""Numerical gradient checking: centred finite differences and the relative error (cs231n
``gradient_check.py``).

    ∂f/∂x_i ≈ (f(x + h·e_i) − f(x − h·e_i)) / 2h          (error O(h²))

and the relative error max |a − b| / max(|a| + |b|, tiny) that is ~1e-10 for a correct float64
gradient and ≥ 1e-3 for a wrong one.
"""

from __future__ import annotations

import numpy as np


def numerical_gradient(f, x, dout=None, h=1e-6):
    """Centred-difference gradient of ``L = Σ f(x)·dout`` (or of a scalar ``f(x)``) w.r.t. ``x``.

    ``x`` is perturbed in place and restored, so closures over it see the perturbation.

    Shape:
        x: any -> gradient: same as x
    """
    grad = np.zeros_like(x, dtype=np.float64)
    for idx in np.ndindex(x.shape):
        old = x[idx]
        x[idx] = old + h
        plus = f(x)
        x[idx] = old - h
        minus = f(x)
        x[idx] = old
        diff = np.asarray(plus, dtype=np.float64) - np.asarray(minus, dtype=np.float64)
        grad[idx] = (diff if dout is None else (diff * dout)).sum() / (2 * h)
    return grad


def rel_error(a, b) -> float:
    """max |a − b| / max(|a| + |b|) over all entries: a scale-free distance between two arrays."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    scale = max(float(np.max(np.abs(a) + np.abs(b), initial=0.0)), 1e-300)
    return float(np.max(np.abs(a - b), initial=0.0)) / scale
