"""max / average / L2 pooling against torch (float64), finite differences, loops, ties and errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from scratch_helpers import (BACKWARD_TOL, FORWARD_TOL, TIERS_TOL, assert_close, check_fd,
                             torch_reference)

from cnnlab import scratch
from cnnlab.scratch import naive

MAX_CASES = [
    dict(shape=(2, 3, 7, 9), kernel_size=2),
    dict(shape=(1, 2, 8, 6), kernel_size=(3, 2), stride=(2, 1), padding=(1, 1)),
    dict(shape=(2, 1, 9, 9), kernel_size=3, stride=2, padding=1, dilation=2),
    dict(shape=(1, 2, 7, 8), kernel_size=(2, 3), stride=3, dilation=(3, 1), ceil_mode=True),
    dict(shape=(1, 2, 4, 4), kernel_size=3, stride=(2, 1), padding=1),      # the notes' example
    dict(shape=(2, 2, 6, 5), kernel_size=3, stride=2, ceil_mode=True, padding=1),
]
AVG_CASES = [
    dict(shape=(2, 3, 7, 9), kernel_size=2),
    dict(shape=(1, 2, 8, 6), kernel_size=(3, 2), stride=(2, 1), padding=(1, 1)),
    dict(shape=(2, 1, 9, 7), kernel_size=3, stride=2, padding=1, count_include_pad=False),
    dict(shape=(1, 2, 7, 8), kernel_size=(2, 3), stride=3, ceil_mode=True),
    dict(shape=(2, 2, 6, 5), kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
    dict(shape=(1, 1, 5, 5), kernel_size=(3, 1), stride=(1, 3), padding=(1, 0), ceil_mode=True),
]
LP_CASES = [
    dict(shape=(2, 3, 6, 7), norm_type=2, kernel_size=2),
    dict(shape=(1, 2, 7, 8), norm_type=2, kernel_size=(3, 2), stride=(2, 3), ceil_mode=True),
    dict(shape=(1, 2, 5, 5), norm_type=1.5, kernel_size=3, stride=1),
]

OPS = {
    "max": (scratch.max_pool2d, scratch.max_pool2d_backward, F.max_pool2d, naive.max_pool2d,
            naive.max_pool2d_backward),
    "avg": (scratch.avg_pool2d, scratch.avg_pool2d_backward, F.avg_pool2d, naive.avg_pool2d,
            naive.avg_pool2d_backward),
    "lp": (scratch.lp_pool2d, scratch.lp_pool2d_backward, F.lp_pool2d, naive.lp_pool2d,
           naive.lp_pool2d_backward),
}
ALL = ([("max", c) for c in MAX_CASES] + [("avg", c) for c in AVG_CASES]
       + [("lp", c) for c in LP_CASES])


@pytest.mark.parametrize("kind, case", ALL, ids=[f"{k}{i}" for i, (k, _) in enumerate(ALL)])
def test_pool_matches_torch_fd_and_loops(kind, case):
    fwd, bwd, ref_fn, loop_fwd, loop_bwd = OPS[kind]
    rng = np.random.default_rng(11)
    kw = {k: v for k, v in case.items() if k != "shape"}
    x = rng.standard_normal(case["shape"])
    if kind == "lp":
        x = np.abs(x) + 0.1                      # p = 1.5 needs x > 0 (as in torch)
        ref_kw = dict(kw)
        p = ref_kw.pop("norm_type")
        ref_call = lambda t: ref_fn(t, p, **ref_kw)  # noqa: E731
    else:
        ref_call = lambda t: ref_fn(t, **kw)  # noqa: E731
    out, cache = fwd(x, **kw)
    dout = rng.standard_normal(out.shape)
    ref, (rdx,) = torch_reference(ref_call, dout, x)
    assert_close(out, ref, FORWARD_TOL, "forward")
    dx = bwd(dout, cache)
    assert_close(dx, rdx, BACKWARD_TOL, "dx")
    lout, lcache = loop_fwd(x, **kw)
    assert_close(lout, out, TIERS_TOL, "loop forward")
    assert_close(loop_bwd(dout, lcache), dx, TIERS_TOL, "loop dx")
    check_fd(lambda a: fwd(a, **kw)[0], [dx], [x], dout, ["x"])


def test_l2_pool_is_the_root_of_the_sum_of_squares():
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    out, cache = scratch.l2_pool2d(x, 2)
    assert np.allclose(out[0, 0, 0, 0], np.sqrt(0 + 1 + 16 + 25))
    dx = scratch.l2_pool2d_backward(np.ones_like(out), cache)
    assert np.allclose(dx[0, 0, :2, :2], x[0, 0, :2, :2] / out[0, 0, 0, 0])


@pytest.mark.parametrize("tier", ["vectorised", "loop"])
def test_max_pool_ties_go_to_the_first_maximum_in_row_major_order(tier):
    fwd, bwd = ((scratch.max_pool2d, scratch.max_pool2d_backward) if tier == "vectorised"
                else (naive.max_pool2d, naive.max_pool2d_backward))
    x = np.array([[[[1., 1., 0.],
                    [1., 1., 0.],
                    [0., 0., 0.]]]])
    out, cache = fwd(x, 2, stride=1)
    dx = bwd(np.ones_like(out), cache)
    # windows at (0,0), (0,1), (1,0), (1,1): their first max is at (0,0), (0,1), (1,0), (1,1)
    assert dx.tolist() == [[[[1., 1., 0.], [1., 1., 0.], [0., 0., 0.]]]]
    # a constant window sends everything to its top-left pixel
    const = np.full((1, 1, 4, 4), 2.0)
    out, cache = fwd(const, 2)
    dx = bwd(np.arange(1.0, 5.0).reshape(1, 1, 2, 2), cache)
    assert dx[0, 0].tolist() == [[1, 0, 2, 0], [0, 0, 0, 0], [3, 0, 4, 0], [0, 0, 0, 0]]
    # and torch's CPU kernel agrees
    t = torch.tensor(const, requires_grad=True)
    F.max_pool2d(t, 2).backward(torch.arange(1.0, 5.0, dtype=torch.float64).reshape(1, 1, 2, 2))
    assert np.array_equal(t.grad.numpy(), dx)


def test_mean_pooling_keeps_the_total_gradient():
    x = np.random.default_rng(0).standard_normal((2, 3, 6, 6))
    out, cache = scratch.avg_pool2d(x, 2)
    dout = np.random.default_rng(1).standard_normal(out.shape)
    dx = scratch.avg_pool2d_backward(dout, cache)
    assert np.isclose(dx.sum(), dout.sum())
    assert np.allclose(dx[0, 0, :2, :2], dout[0, 0, 0, 0] / 4)


def test_max_pool_nan_propagates_like_torch():
    x = np.zeros((1, 1, 2, 2))
    x[0, 0, 1, 0] = np.nan
    assert np.isnan(scratch.max_pool2d(x, 2)[0]).all()
    assert np.isnan(F.max_pool2d(torch.tensor(x), 2).numpy()).all()


@pytest.mark.parametrize("call, message", [
    (lambda: scratch.max_pool2d(np.zeros((1, 1, 4, 4)), 3, padding=2),
     "max_pool2d: `padding` must be at most half the (dilated) kernel size"),
    (lambda: scratch.max_pool2d(np.zeros((1, 1, 2, 2)), 3), "kernel 3×3 is larger than the padded input 2×2"),
    (lambda: scratch.avg_pool2d(np.zeros((1, 1, 4, 4)), 0), "`kernel_size` must be ≥ 1"),
    (lambda: scratch.avg_pool2d(np.zeros((4, 4)), 2), "`x` must have 4 dims (N, C, H, W)"),
    (lambda: scratch.lp_pool2d(np.zeros((1, 1, 4, 4)), 0, 2), "`norm_type` must be > 0"),
    (lambda: scratch.max_pool2d(np.zeros((1, 1, 4, 4)), (2, 2, 2)), "`kernel_size` must have 2 values"),
])
def test_pool_errors(call, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        call()
