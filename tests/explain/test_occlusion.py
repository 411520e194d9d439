"""Occlusion against hand-computed maps (explicit loops over window positions), batch-size independence."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from cnnlab.errors import ConfigError, ShapeError
from cnnlab.explain import Occlusion


def _reference_attribution(model, x, target, window, stride, baseline):
    """Captum's definition with plain loops: mean drop of the target output over the windows covering a pixel."""
    N, C, H, W = x.shape
    (h, w), (sh, sw) = window, stride
    total = torch.zeros(N, H, W, dtype=x.dtype)
    count = torch.zeros(H, W, dtype=x.dtype)
    with torch.no_grad():
        clean = model(x)
        for i in range(math.ceil((H - h) / sh) + 1):
            for j in range(math.ceil((W - w) / sw) + 1):
                occ = x.clone()
                occ[:, :, i * sh : i * sh + h, j * sw : j * sw + w] = baseline
                out = model(occ)
                for n in range(N):
                    total[n, i * sh : i * sh + h, j * sw : j * sw + w] += clean[n, target[n]] - out[n, target[n]]
                count[i * sh : i * sh + h, j * sw : j * sw + w] += 1
    return (total / count)[:, None].expand(N, C, H, W)


def _linear_model():
    torch.manual_seed(0)
    return nn.Sequential(nn.Flatten(), nn.Linear(2 * 5 * 6, 3)).double()


def test_linear_model_matches_the_hand_computed_map():
    """For f = w·x + b, the drop of a window is Σ_window w (x − baseline): check one pixel by hand."""
    model = _linear_model()
    x = torch.rand(1, 2, 5, 6, dtype=torch.float64)
    attr = Occlusion(model).attribute(x, target=1, window=(2, 3), stride=(1, 2), baseline=0.0)
    w = model[1].weight[1].reshape(2, 5, 6)
    contrib = (w * x[0]).sum(0)  # (5, 6): each pixel's contribution over channels
    # pixel (1, 2): rows windows start at 0 and 1 (height 2, stride 1), columns start 0 and 2 (width 3, stride 2)
    drops = [contrib[r : r + 2, c : c + 3].sum() for r in (0, 1) for c in (0, 2)]
    assert attr[0, 0, 1, 2].item() == pytest.approx(sum(drops).item() / 4, rel=1e-12)
    torch.testing.assert_close(attr, _reference_attribution(model, x, [1], (2, 3), (1, 2), 0.0))


@pytest.mark.parametrize("window,stride", [((3, 3), (1, 1)), ((2, 4), (2, 3)), ((4, 4), (3, 3))])
def test_nonlinear_model_matches_loop_reference(window, stride):
    torch.manual_seed(1)
    model = nn.Sequential(nn.Conv2d(2, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 5 * 6, 3), nn.Tanh()).double()
    x = torch.randn(2, 2, 7, 8, dtype=torch.float64)
    attr = Occlusion(model).attribute(x, target=[0, 2], window=window, stride=stride, baseline=0.3)
    torch.testing.assert_close(attr, _reference_attribution(model, x, [0, 2], window, stride, 0.3))


def test_result_does_not_depend_on_batch_size():
    torch.manual_seed(2)
    model = nn.Sequential(nn.Conv2d(1, 3, 3), nn.ReLU(), nn.Flatten(), nn.Linear(3 * 6 * 6, 4)).double()
    x = torch.randn(2, 1, 8, 8, dtype=torch.float64)
    occ = Occlusion(model)
    ref = occ.attribute(x, window=(3, 3), stride=(1, 1), batch_size=64)
    maps_ref = occ.probability_map(x, window=(3, 3), stride=(1, 1), batch_size=64)
    for bs in (1, 2, 3, 200):
        torch.testing.assert_close(occ.attribute(x, window=(3, 3), stride=(1, 1), batch_size=bs), ref, rtol=0, atol=1e-12)
        maps = occ.probability_map(x, window=(3, 3), stride=(1, 1), batch_size=bs)
        torch.testing.assert_close(maps.probability, maps_ref.probability, rtol=0, atol=1e-12)
        assert torch.equal(maps.predicted, maps_ref.predicted)


def test_probability_map_follows_the_lecture_recipe():
    """Grey (0.5) squares, non-overlapping windows: softmax probability of the target and the argmax."""
    torch.manual_seed(3)
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 16), nn.ReLU(), nn.Linear(16, 5)).double()
    x = torch.rand(1, 1, 8, 8, dtype=torch.float64)
    maps = Occlusion(model).probability_map(x, target=2, window=4)
    assert maps.probability.shape == (1, 2, 2) and maps.predicted.shape == (1, 2, 2)
    with torch.no_grad():
        for i in range(2):
            for j in range(2):
                occ = x.clone()
                occ[..., 4 * i : 4 * i + 4, 4 * j : 4 * j + 4] = 0.5
                p = model(occ).softmax(1)[0]
                assert maps.probability[0, i, j].item() == pytest.approx(p[2].item(), rel=1e-12)
                assert maps.predicted[0, i, j].item() == int(p.argmax())
        assert maps.clean_probability[0].item() == pytest.approx(model(x).softmax(1)[0, 2].item())
    prob_px, pred_px = maps.upsampled((8, 8))
    assert prob_px[0, 5, 1].item() == pytest.approx(maps.probability[0, 1, 0].item())
    assert int(pred_px[0, 2, 6]) == int(maps.predicted[0, 0, 1])


def test_baselines():
    model = _linear_model()
    x = torch.rand(1, 2, 5, 6, dtype=torch.float64)
    occ = Occlusion(model)
    mean = x.mean((2, 3), keepdim=True)
    torch.testing.assert_close(occ.attribute(x, window=2, stride=1, baseline="mean"),
                               _reference_attribution(model, x, [int(model(x).argmax())], (2, 2), (1, 1), mean.expand_as(x)[..., :2, :2]))
    torch.testing.assert_close(occ.attribute(x, window=2, stride=1, baseline="zero"), occ.attribute(x, window=2, stride=1, baseline=0.0))
    # a per-channel tensor baseline: channel values 0.2 and 0.9
    b = torch.tensor([0.2, 0.9], dtype=torch.float64).view(1, 2, 1, 1)
    a = occ.attribute(x, target=0, window=5, stride=1, baseline=b)
    w = model[1].weight[0].reshape(2, 5, 6)
    drop_first = (w * (x[0] - b[0]))[:, :, 0:5].sum()  # the window at column 0 covers pixel (0, 0) alone
    assert a[0, 0, 0, 0].item() == pytest.approx(drop_first.item(), rel=1e-10)
    blurred = occ.attribute(x, window=2, stride=1, baseline="blur")
    assert not torch.allclose(blurred, occ.attribute(x, window=2, stride=1, baseline=0.0))


def test_occlusion_errors():
    model = _linear_model()
    x = torch.rand(1, 2, 5, 6, dtype=torch.float64)
    occ = Occlusion(model)
    with pytest.raises(ShapeError, match=r"`window` must fit in the input \(5×6\); got 6×2"):
        occ.attribute(x, window=(6, 2))
    with pytest.raises(ConfigError, match=r"`stride` must be ≥ 1 in both directions; got \(0, 1\)"):
        occ.attribute(x, window=2, stride=(0, 1))
    with pytest.raises(ConfigError, match=r"`window` must be an int or a pair"):
        occ.attribute(x, window="big")
    with pytest.raises(ConfigError, match=r"`baseline` must be a number, a tensor, 'zero', 'mean' or 'blur'; got 'grey'"):
        occ.attribute(x, baseline="grey")
    with pytest.raises(ShapeError, match=r"`baseline` must broadcast to the input"):
        occ.attribute(x, baseline=torch.zeros(3, 1, 1))
    with pytest.raises(ConfigError, match=r"`batch_size` must be ≥ 1; got 0"):
        occ.attribute(x, batch_size=0)
