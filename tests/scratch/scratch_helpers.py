"""Helpers shared by the scratch-engine tests: torch references in float64 and error metrics."""

from __future__ import annotations

import numpy as np
import torch

from cnnlab.scratch import numerical_gradient, rel_error

FORWARD_TOL = 1e-10      # float64 forward vs torch.nn.functional (relative)
BACKWARD_TOL = 1e-10     # float64 backward vs torch autograd (relative)
FD_TOL = 1e-6            # backward vs centred finite differences (relative)
TIERS_TOL = 1e-12        # loop version vs vectorised version


def t64(a, grad=False):
    return torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


def torch_reference(fn, dout, *arrays):
    """Run ``fn`` on float64 leaf tensors; returns (output, [grad of each array]) for seed ``dout``."""
    leaves = [None if a is None else t64(a, grad=True) for a in arrays]
    out = fn(*leaves)
    out.backward(t64(dout))
    grads = [None if leaf is None else leaf.grad.numpy() for leaf in leaves]
    return out.detach().numpy(), grads


def assert_close(ours, ref, tol, what, atol=0.0):
    """Relative error ≤ tol, or max |difference| ≤ atol (for tensors that are zero up to rounding)."""
    assert ours is not None and ref is not None, what
    assert np.shape(ours) == np.shape(ref), f"{what}: shape {np.shape(ours)} vs {np.shape(ref)}"
    err = rel_error(ours, ref)
    if atol and np.max(np.abs(np.asarray(ours) - np.asarray(ref)), initial=0.0) <= atol:
        return
    assert err <= tol, f"{what}: relative error {err:.3e} > {tol:g}"


def check_fd(forward, backward_grads, arrays, dout, names, tol=FD_TOL):
    """Compare analytic gradients with centred finite differences of Σ forward(...)·dout."""
    for k, name in enumerate(names):
        def f(v, k=k):
            args = list(arrays)
            args[k] = v
            return forward(*args)
        numeric = numerical_gradient(f, arrays[k].copy(), dout)
        assert_close(backward_grads[k], numeric, tol, f"finite differences of {name}")
