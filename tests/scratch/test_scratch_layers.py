"""Dense, activations, softmax + cross-entropy, batch norm, dropout, flatten and pad against torch
(float64), finite differences and the loop versions."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from scratch_helpers import (BACKWARD_TOL, FORWARD_TOL, TIERS_TOL, assert_close, check_fd, t64,
                             torch_reference)

from cnnlab import scratch
from cnnlab.errors import ShapeError
from cnnlab.scratch import naive


@pytest.mark.parametrize("bias", [True, False])
def test_linear(bias):
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((4, 5)), rng.standard_normal((3, 5))
    b = rng.standard_normal(3) if bias else None
    out, cache = scratch.linear(x, w, b)
    dout = rng.standard_normal(out.shape)
    ref, rgrads = torch_reference(F.linear, dout, x, w, b)
    assert_close(out, ref, FORWARD_TOL, "forward")
    grads = scratch.linear_backward(dout, cache)
    lout, lcache = naive.linear(x, w, b)
    assert_close(lout, out, TIERS_TOL, "loop forward")
    for ours, theirs, loop, name in zip(grads, rgrads, naive.linear_backward(dout, lcache), "xwb"):
        if theirs is None:
            assert ours is None and loop is None
            continue
        assert_close(ours, theirs, BACKWARD_TOL, f"d{name}")
        assert_close(loop, ours, TIERS_TOL, f"loop d{name}")
    check_fd(lambda a, c: scratch.linear(a, c, b)[0], grads[:2], [x, w], dout, "xw")


ACTIVATIONS = [("relu", torch.relu), ("sigmoid", torch.sigmoid), ("tanh", torch.tanh)]


@pytest.mark.parametrize("name, ref_fn", ACTIVATIONS)
def test_activations(name, ref_fn):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((3, 2, 4)) * 3
    x[0, 0, :2] = [40.0, -40.0]                   # sigmoid must not overflow nor lose precision
    fwd, bwd = getattr(scratch, name), getattr(scratch, f"{name}_backward")
    out, cache = fwd(x)
    dout = rng.standard_normal(out.shape)
    ref, (rdx,) = torch_reference(ref_fn, dout, x)
    assert_close(out, ref, FORWARD_TOL, "forward")
    dx = bwd(dout, cache)
    assert_close(dx, rdx, BACKWARD_TOL, "dx")
    lfwd, lbwd = getattr(naive, name), getattr(naive, f"{name}_backward")
    lout, lcache = lfwd(x)
    assert_close(lout, out, TIERS_TOL, "loop forward")
    assert_close(lbwd(dout, lcache), dx, TIERS_TOL, "loop dx")
    smooth = x[1:]                                # keep finite differences away from relu's kink
    smooth = np.where(np.abs(smooth) < 1e-3, 0.5, smooth)
    dsm = dout[1:]
    check_fd(lambda a: fwd(a)[0], [bwd(dsm, fwd(smooth)[1])], [smooth], dsm, ["x"])


def test_sigmoid_tail_is_relatively_exact():
    out, _ = scratch.sigmoid(np.array([-30.0, -700.0]))
    ref = torch.sigmoid(t64([-30.0, -700.0])).numpy()
    assert np.allclose(out, ref, rtol=1e-14, atol=0)


def test_softmax():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((3, 5)) * 4
    out, cache = scratch.softmax(x, axis=1)
    dout = rng.standard_normal(out.shape)
    ref, (rdx,) = torch_reference(lambda t: torch.softmax(t, dim=1), dout, x)
    assert_close(out, ref, FORWARD_TOL, "forward")
    assert_close(scratch.softmax_backward(dout, cache), rdx, BACKWARD_TOL, "dx")


def test_softmax_cross_entropy():
    rng = np.random.default_rng(3)
    logits, labels = rng.standard_normal((6, 4)) * 5, rng.integers(0, 4, size=6)
    logits[0, 0] = 800.0                          # stable: no overflow
    loss, cache = scratch.softmax_cross_entropy(logits, labels)
    t = t64(logits, grad=True)
    ref = F.cross_entropy(t, torch.tensor(labels))
    ref.backward()
    assert abs(loss - ref.item()) <= FORWARD_TOL * abs(ref.item())
    d = scratch.softmax_cross_entropy_backward(1.0, cache)
    assert_close(d, t.grad.numpy(), BACKWARD_TOL, "dlogits")
    lloss, lcache = naive.softmax_cross_entropy(logits, labels)
    assert abs(lloss - loss) <= TIERS_TOL * loss
    assert_close(naive.softmax_cross_entropy_backward(1.0, lcache), d, TIERS_TOL, "loop dlogits")
    small = logits.copy()
    small[0, 0] = 1.0
    numeric = scratch.numerical_gradient(lambda z: scratch.softmax_cross_entropy(z, labels)[0], small)
    analytic = scratch.softmax_cross_entropy_backward(1.0, scratch.softmax_cross_entropy(small, labels)[1])
    assert_close(analytic, numeric, 1e-6, "finite differences")


@pytest.mark.parametrize("shape", [(5, 3), (4, 3, 2, 5), (3, 2, 6)])
@pytest.mark.parametrize("training", [True, False])
def test_batch_norm(shape, training):
    rng = np.random.default_rng(4)
    C = shape[1]
    x = rng.standard_normal(shape) * 2 + 1
    gamma, beta = rng.standard_normal(C), rng.standard_normal(C)
    rm, rv = rng.standard_normal(C), rng.random(C) + 0.5
    ours_rm, ours_rv = rm.copy(), rv.copy()
    out, cache = scratch.batch_norm(x, ours_rm, ours_rv, gamma, beta, training, 0.2, 1e-5)
    dout = rng.standard_normal(out.shape)
    t_rm, t_rv = torch.tensor(rm), torch.tensor(rv)
    ref, rgrads = torch_reference(
        lambda a, g, b: F.batch_norm(a, t_rm, t_rv, g, b, training, 0.2, 1e-5), dout, x, gamma, beta)
    assert_close(out, ref, FORWARD_TOL, "forward")
    assert_close(ours_rm, t_rm.numpy(), FORWARD_TOL, "running_mean update")
    assert_close(ours_rv, t_rv.numpy(), FORWARD_TOL, "running_var update (unbiased)")
    grads = scratch.batch_norm_backward(dout, cache)
    for ours, theirs, name in zip(grads, rgrads, ("dx", "dweight", "dbias")):
        assert_close(ours, theirs, BACKWARD_TOL, name)
    l_rm, l_rv = rm.copy(), rv.copy()
    lout, lcache = naive.batch_norm(x, l_rm, l_rv, gamma, beta, training, 0.2, 1e-5)
    assert_close(lout, out, TIERS_TOL, "loop forward")
    assert_close(l_rm, ours_rm, TIERS_TOL, "loop running_mean")
    for loop, ours, name in zip(naive.batch_norm_backward(dout, lcache), grads, ("dx", "dw", "db")):
        assert_close(loop, ours, TIERS_TOL, f"loop {name}")
    check_fd(lambda a, g, b: scratch.batch_norm(a, rm.copy(), rv.copy(), g, b, training, 0.2)[0],
             grads, [x, gamma, beta], dout, ("x", "gamma", "beta"))


def test_batch_norm_errors():
    with pytest.raises(ShapeError, match=r"`weight` must have shape \(3,\) for 3 channels; got \(2,\)"):
        scratch.batch_norm(np.zeros((4, 3)), np.zeros(3), np.ones(3), np.ones(2))
    with pytest.raises(ShapeError, match="eval mode needs `running_mean`"):
        scratch.batch_norm(np.zeros((4, 3)))
    with pytest.raises(ShapeError, match="more than 1 value per channel"):
        scratch.batch_norm(np.zeros((1, 3)), training=True)


def test_dropout_is_inverted_and_reproducible():
    x = np.random.default_rng(5).standard_normal((200, 50)) + 3
    out, cache = scratch.dropout(x, 0.3, True, rng=42)
    kept = out != 0
    assert abs(kept.mean() - 0.7) < 0.01
    assert np.allclose(out[kept], x[kept] / 0.7)
    assert abs(out.mean() / x.mean() - 1) < 0.02                    # expectation unchanged
    dout = np.ones_like(x)
    assert np.array_equal(scratch.dropout_backward(dout, cache), kept / 0.7)
    lout, lcache = naive.dropout(x, 0.3, True, rng=42)              # same mask from the same seed
    assert_close(lout, out, TIERS_TOL, "loop forward")
    assert_close(naive.dropout_backward(dout, lcache), dout * kept / 0.7, TIERS_TOL, "loop dx")
    # eval mode is the identity and p = 1 drops everything, as torch
    assert scratch.dropout(x, 0.3, False)[0] is x
    assert not scratch.dropout(x, 1.0, True)[0].any()
    assert not F.dropout(t64(x), 1.0, True).numpy().any()
    with pytest.raises(ShapeError, match=r"`p` must be in \[0, 1\]; got 1.5"):
        scratch.dropout(x, 1.5)


def test_flatten_and_pad():
    x = np.arange(24.0).reshape(2, 3, 2, 2)
    out, cache = scratch.flatten(x)
    assert np.array_equal(out, torch.nn.Flatten()(torch.tensor(x)).numpy())
    assert scratch.flatten_backward(out, cache).shape == x.shape
    padded, pcache = scratch.pad2d(x, (1, 2, 0, 3))
    assert np.array_equal(padded, F.pad(torch.tensor(x), (1, 2, 0, 3)).numpy())
    assert np.array_equal(scratch.pad2d_backward(padded, pcache), x)


def test_linear_and_label_errors():
    with pytest.raises(ShapeError, match="linear: `x` has 4 features but `w` expects 5"):
        scratch.linear(np.zeros((2, 4)), np.zeros((3, 5)))
    with pytest.raises(ShapeError, match=r"`labels` must be in \[0, 3\); got \[0, 3\]"):
        scratch.softmax_cross_entropy(np.zeros((2, 3)), np.array([0, 3]))
    with pytest.raises(ShapeError, match="`labels` must be 2 integers"):
        scratch.softmax_cross_entropy(np.zeros((2, 3)), np.array([0.0, 1.0]))
