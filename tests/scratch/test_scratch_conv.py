"""conv2d / conv1d against torch (float64), finite differences and the loop versions, over a seeded
sweep of shapes, strides 1–3, paddings, dilations 1–3, groups and non-square kernels and inputs."""

from __future__ import annotations

import numpy as np
import pytest
import torch.nn.functional as F
from scratch_helpers import (BACKWARD_TOL, FORWARD_TOL, TIERS_TOL, assert_close, check_fd,
                             torch_reference)

from cnnlab import scratch
from cnnlab.errors import ShapeError
from cnnlab.scratch import naive


def _conv2d_cases(count, seed=1234):
    rng = np.random.default_rng(seed)
    cases = []
    while len(cases) < count:
        G = int(rng.integers(1, 4))
        Cg, Fg = int(rng.integers(1, 3)), int(rng.integers(1, 3))
        KH, KW = (int(v) for v in rng.integers(1, 4, size=2))
        stride = tuple(int(v) for v in rng.integers(1, 4, size=2))
        dilation = tuple(int(v) for v in rng.integers(1, 4, size=2))
        mode = rng.integers(0, 4)
        padding = ("same" if mode == 0 and stride == (1, 1) else "valid" if mode == 1
                   else tuple(int(v) for v in rng.integers(0, 3, size=2)))
        H, W = (int(v) for v in rng.integers(1, 9, size=2))
        pads = (0, 0) if isinstance(padding, str) else padding
        if padding == "same":
            pads = (dilation[0] * (KH - 1), dilation[1] * (KW - 1))
        if H + 2 * pads[0] < dilation[0] * (KH - 1) + 1 or W + 2 * pads[1] < dilation[1] * (KW - 1) + 1:
            continue
        cases.append(dict(N=int(rng.integers(1, 3)), C=G * Cg, F=G * Fg, H=H, W=W, K=(KH, KW),
                          stride=stride, padding=padding, dilation=dilation, groups=G,
                          bias=bool(rng.integers(0, 4) > 0)))
    return cases


CASES = _conv2d_cases(40)


def _data(case, rng):
    x = rng.standard_normal((case["N"], case["C"], case["H"], case["W"]))
    w = rng.standard_normal((case["F"], case["C"] // case["groups"]) + case["K"])
    b = rng.standard_normal(case["F"]) if case["bias"] else None
    return x, w, b


def test_sweep_covers_the_acceptance_grid():
    seen = lambda key: {v for c in CASES for v in np.ravel(c[key])}  # noqa: E731
    assert seen("stride") == {1, 2, 3} and seen("dilation") == {1, 2, 3} and seen("groups") == {1, 2, 3}
    assert {"same", "valid", 0, 1, 2} <= {p if isinstance(p, str) else q for c in CASES
                                         for p in [c["padding"]] for q in np.ravel(p)}
    assert any(c["K"][0] != c["K"][1] for c in CASES) and any(c["H"] != c["W"] for c in CASES)


@pytest.mark.parametrize("index", range(len(CASES)), ids=[f"c{i}" for i in range(len(CASES))])
def test_conv2d_matches_torch_and_loops(index):
    case = CASES[index]
    rng = np.random.default_rng(index)
    x, w, b = _data(case, rng)
    kw = {k: case[k] for k in ("stride", "padding", "dilation", "groups")}
    out, cache = scratch.conv2d(x, w, b, **kw)
    dout = rng.standard_normal(out.shape)
    ref, (rdx, rdw, rdb) = torch_reference(lambda a, c, d: F.conv2d(a, c, d, **kw), dout, x, w, b)
    assert_close(out, ref, FORWARD_TOL, "forward")
    dx, dw, db = scratch.conv2d_backward(dout, cache)
    assert_close(dx, rdx, BACKWARD_TOL, "dx")
    assert_close(dw, rdw, BACKWARD_TOL, "dw")
    if case["bias"]:
        assert_close(db, rdb, BACKWARD_TOL, "db")
    else:
        assert db is None
    # loop tier
    lout, lcache = naive.conv2d(x, w, b, **kw)
    assert_close(lout, out, TIERS_TOL, "loop forward")
    for ours, loop, name in zip((dx, dw, db), naive.conv2d_backward(dout, lcache), "xwb"):
        if ours is not None:
            assert_close(loop, ours, TIERS_TOL, f"loop d{name}")


@pytest.mark.parametrize("case", CASES[:8], ids=[f"c{i}" for i in range(8)])
def test_conv2d_finite_differences(case):
    rng = np.random.default_rng(7)
    x, w, b = _data(case, rng)
    b = rng.standard_normal(case["F"])
    kw = {k: case[k] for k in ("stride", "padding", "dilation", "groups")}
    out, cache = scratch.conv2d(x, w, b, **kw)
    dout = rng.standard_normal(out.shape)
    grads = scratch.conv2d_backward(dout, cache)
    check_fd(lambda a, c, d: scratch.conv2d(a, c, d, **kw)[0], grads, [x, w, b], dout, "xwb")


def test_conv2d_without_dx_skips_only_dx():
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((2, 3, 6, 5)), rng.standard_normal((4, 3, 3, 2))
    out, cache = scratch.conv2d(x, w, padding=1)
    dout = rng.standard_normal(out.shape)
    dx, dw, _ = scratch.conv2d_backward(dout, cache, need_dx=False)
    assert dx is None
    assert_close(dw, scratch.conv2d_backward(dout, cache)[1], 0, "dw")


def test_conv2d_float32_keeps_dtype():
    x = np.ones((1, 2, 5, 5), np.float32)
    out, cache = scratch.conv2d(x, np.ones((3, 2, 3, 3), np.float32), np.zeros(3, np.float32))
    assert out.dtype == np.float32 and out[0, 0, 0, 0] == 18
    assert all(g.dtype == np.float32 for g in scratch.conv2d_backward(np.ones_like(out), cache))


CASES_1D = [dict(N=2, C=2, F=3, L=9, K=3, stride=2, padding=1, dilation=1, groups=1),
            dict(N=1, C=4, F=2, L=8, K=2, stride=1, padding="same", dilation=3, groups=2),
            dict(N=2, C=3, F=6, L=7, K=4, stride=3, padding=2, dilation=2, groups=3),
            dict(N=1, C=1, F=1, L=5, K=5, stride=1, padding="valid", dilation=1, groups=1)]


@pytest.mark.filterwarnings("ignore:Using padding=.same. with even kernel")
@pytest.mark.parametrize("case", CASES_1D)
def test_conv1d_matches_torch_fd_and_loops(case):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((case["N"], case["C"], case["L"]))
    w = rng.standard_normal((case["F"], case["C"] // case["groups"], case["K"]))
    b = rng.standard_normal(case["F"])
    kw = {k: case[k] for k in ("stride", "padding", "dilation", "groups")}
    out, cache = scratch.conv1d(x, w, b, **kw)
    dout = rng.standard_normal(out.shape)
    ref, rgrads = torch_reference(lambda a, c, d: F.conv1d(a, c, d, **kw), dout, x, w, b)
    assert_close(out, ref, FORWARD_TOL, "forward")
    grads = scratch.conv1d_backward(dout, cache)
    for ours, theirs, name in zip(grads, rgrads, "xwb"):
        assert_close(ours, theirs, BACKWARD_TOL, f"d{name}")
    lout, lcache = naive.conv1d(x, w, b, **kw)
    assert_close(lout, out, TIERS_TOL, "loop forward")
    for loop, ours, name in zip(naive.conv1d_backward(dout, lcache), grads, "xwb"):
        assert_close(loop, ours, TIERS_TOL, f"loop d{name}")
    check_fd(lambda a, c, d: scratch.conv1d(a, c, d, **kw)[0], grads, [x, w, b], dout, "xwb")


def test_output_size_follows_the_formula():
    # ⌊(n + 2p − d(k−1) − 1)/s⌋ + 1 from cnnlab.shapes; DESIGN.md goldens
    from cnnlab.shapes import conv_output_size

    x = np.zeros((1, 3, 100, 100))
    assert scratch.conv2d(x, np.zeros((4, 3, 3, 3)), padding=2)[0].shape == (1, 4, 102, 102)
    x2 = np.zeros((4, 2, 3, 5))
    assert scratch.conv2d(x2, np.zeros((3, 2, 3, 5)), padding=(1, 2))[0].shape == (4, 3, 3, 5)
    for n, k, s, p, d in [(28, 3, 1, 0, 1), (13, 3, 2, 1, 2), (9, 2, 3, 2, 3)]:
        out = scratch.conv2d(np.zeros((1, 1, n, n)), np.zeros((1, 1, k, k)), stride=s, padding=p,
                             dilation=d)[0]
        assert out.shape[-1] == conv_output_size(n, k, s, p, d)


@pytest.mark.parametrize("args, message", [
    (((1, 3, 8, 8), (4, 2, 3, 3)), "channel mismatch: the input has 3 channels"),
    (((1, 2, 4, 4), (1, 2, 5, 5)), "kernel 5×5 is larger than the padded input 4×4"),
    (((1, 4, 8, 8), (3, 2, 3, 3), dict(groups=2)), "must be divisible by groups=2"),
    (((1, 2, 8, 8), (2, 2, 3, 3), dict(padding="full")), "`padding` must be an int, a tuple, 'valid'"),
    (((1, 2, 8, 8), (2, 2, 3, 3), dict(stride=0)), "`stride` must be ≥ 1"),
    (((1, 2, 8, 8), (2, 2, 3, 3), dict(stride=2, padding="same")), "'same' needs stride 1"),
    (((2, 8, 8), (2, 2, 3, 3)), "`x` must have 4 dims (N, C, H, W); got shape (2, 8, 8)"),
    (((1, 2, 8, 8), (2, 2, 3, 3), dict(dilation=(1, 4), padding=0)), "(dilated) kernel 3×9"),
])
def test_conv2d_errors(args, message):
    xs, ws = args[0], args[1]
    kw = args[2] if len(args) > 2 else {}
    with pytest.raises(ShapeError, match=message.replace("(", r"\(").replace(")", r"\)")):
        scratch.conv2d(np.zeros(xs), np.zeros(ws), **kw)


def test_conv_bias_and_type_errors():
    with pytest.raises(ShapeError, match=r"`b` must have shape \(2,\); got \(3,\)"):
        scratch.conv2d(np.zeros((1, 1, 4, 4)), np.zeros((2, 1, 3, 3)), np.zeros(3))
    with pytest.raises(TypeError, match="`x` must be a NumPy array"):
        scratch.conv2d([[1.0]], np.zeros((2, 1, 3, 3)))
    with pytest.raises(ShapeError, match="conv1d: channel mismatch: the input has 3 channels"):
        scratch.conv1d(np.zeros((1, 3, 8)), np.zeros((2, 2, 3)))
