"""The lecture's worked examples: edge kernel, learning it back, formulas, vanishing gradients;
the textbook correlate/convolve forms and the backprop identities they express."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.signal

from cnnlab import scratch
from cnnlab.errors import ShapeError
from cnnlab.scratch import examples, naive

GOLDEN = [[-5, -4, 0, 8], [-10, -2, 2, 3], [0, -2, -4, -7], [-3, -2, -3, -16]]


def test_vertical_edge_worked_example():
    r = examples.edge_example()
    assert r["output"].tolist() == GOLDEN
    assert sum(a * b for a, b in r["top_left_terms"]) == -5
    assert naive.correlate2d(r["image"], r["kernel"]).tolist() == GOLDEN
    # the same through the batch conv layer
    out, _ = scratch.conv2d(r["image"][None, None], r["kernel"][None, None])
    assert out[0, 0].tolist() == GOLDEN


@pytest.mark.parametrize("mode", ["valid", "full", "same"])
@pytest.mark.parametrize("kshape", [(2, 3), (3, 3), (4, 2), (1, 1)])
def test_textbook_forms_match_scipy(mode, kshape):
    rng = np.random.default_rng(0)
    x, k = rng.standard_normal((6, 7)), rng.standard_normal(kshape)
    assert np.allclose(scratch.correlate2d(x, k, mode), scipy.signal.correlate2d(x, k, mode), atol=1e-13)
    assert np.allclose(scratch.convolve2d(x, k, mode), scipy.signal.convolve2d(x, k, mode), atol=1e-13)
    a, v = rng.standard_normal(9), rng.standard_normal(kshape[1])
    assert np.allclose(scratch.correlate1d(a, v, mode), scipy.signal.correlate(a, v, mode), atol=1e-13)
    assert np.allclose(scratch.convolve1d(a, v, mode), np.convolve(a, v, mode), atol=1e-13)
    if mode == "valid":
        assert np.allclose(naive.correlate2d(x, k), scratch.correlate2d(x, k), atol=1e-13)
        assert np.allclose(naive.convolve2d(x, k), scratch.convolve2d(x, k), atol=1e-13)


def test_textbook_errors():
    with pytest.raises(ShapeError, match=r"`k` \(5×5\) must be ≤ the image \(3×3\) in 'valid' mode"):
        scratch.correlate2d(np.zeros((3, 3)), np.zeros((5, 5)))
    with pytest.raises(ShapeError, match="`mode` must be one of valid, full, same; got 'wrap'"):
        scratch.convolve2d(np.zeros((3, 3)), np.zeros((2, 2)), "wrap")
    with pytest.raises(ShapeError, match="must be 2-D"):
        scratch.correlate2d(np.zeros(3), np.zeros((2, 2)))


def test_backprop_identities_of_the_notes():
    # ∂L/∂K = X ⋆ δ (correlation) and ∂L/∂X = δ full-convolved with K (kernel rotated 180°)
    rng = np.random.default_rng(1)
    x, k = rng.standard_normal((7, 6)), rng.standard_normal((3, 2))
    out, cache = scratch.conv2d(x[None, None], k[None, None])
    delta = rng.standard_normal(out.shape)
    dx, dk, _ = scratch.conv2d_backward(delta, cache)
    assert np.allclose(dk[0, 0], scratch.correlate2d(x, delta[0, 0]), atol=1e-13)
    assert np.allclose(dx[0, 0], scratch.convolve2d(delta[0, 0], k, "full"), atol=1e-13)
    assert np.allclose(dx[0, 0], scratch.correlate2d(delta[0, 0], k[::-1, ::-1], "full"), atol=1e-13)


def test_learning_the_edge_kernel_by_gradient_descent():
    r = examples.learn_edge_kernel(steps=150)
    assert r["losses"][0] > 1.0 and r["losses"][-1] < 1e-12
    above_rounding = [v for v in r["losses"] if v > 1e-20]
    assert all(b <= a for a, b in zip(above_rounding, above_rounding[1:]))    # monotone descent
    assert np.abs(r["kernel"] - examples.VERTICAL_EDGE).max() < 1e-6
    # another target is learned just as well: it is the data, not the initialisation
    sobel = np.array([[1.0, 2, 1], [0, 0, 0], [-1, -2, -1]])
    assert np.abs(examples.learn_edge_kernel(target=sobel, seed=3)["kernel"] - sobel).max() < 1e-6


def test_formulas_agree_with_the_engine_and_the_goldens():
    rows = {what: (formula, engine) for what, formula, engine in examples.formula_checks()}
    assert all(formula == engine for formula, engine in rows.values()), rows
    assert rows["params of Conv 3×3, 3→10: n·m·k²+m"] == (280, 280)
    assert rows["params of FC 3×256×256 → 1000"][0] == 196_609_000
    assert rows["lecture CNN conv params (Σ n·m·k²+m)"][0] == 55_744
    assert rows["lecture CNN params"][0] == 93_322 and rows["LeNet-5 params"][0] == 61_706
    assert rows["receptive field of 3 stacked 3×3 convs"] == (7, 7)


def test_vanishing_gradient_quarter_factor():
    r = examples.vanishing_gradients(depth=8)
    sig, relu = r["sigmoid"], r["relu"]
    # σ'(z) ≤ 1/4: every sigmoid divides the back-propagated error by at least 4
    assert max(sig["activation_gains"]) <= 0.25
    assert min(relu["activation_gains"]) > 0.25
    # so the first layer's gradient is orders of magnitude below the last one's for sigmoid only
    assert sig["weight_grad_norms"][0] / sig["weight_grad_norms"][-1] < 1e-2
    assert relu["weight_grad_norms"][0] / relu["weight_grad_norms"][-1] > 0.2
    norms = sig["weight_grad_norms"]
    assert all(a < b for a, b in zip(norms, norms[1:]))                 # shrinking towards the input


def test_pooling_backprop_example():
    r = examples.pooling_example()
    assert r["max_out"].tolist() == [[4, 2], [8, 4]]
    assert r["mean_out"].tolist() == [[2.5, 1.0], [6.5, 2.5]]
    # max pooling: δ lands on the max id of each window, zero elsewhere
    assert r["max_dx"].tolist() == [[0, 0, 2, 0], [1, 0, 0, 0], [0, 0, 0, 0], [0, 3, 0, 4]]
    # mean pooling: δ/4 to each of the window's four pixels
    assert r["mean_dx"].tolist() == [[0.25, 0.25, 0.5, 0.5], [0.25, 0.25, 0.5, 0.5],
                                     [0.75, 0.75, 1.0, 1.0], [0.75, 0.75, 1.0, 1.0]]
    assert r["max_dx"].sum() == r["mean_dx"].sum() == r["delta"].sum() == 10
