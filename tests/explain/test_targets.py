"""Callable targets (a score of the output instead of a class index) for every family: saliency, Grad-CAM,
layer gradient × activation and occlusion, on an image-to-image net whose score is one output pixel."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from cnnlab.errors import ShapeError
from cnnlab.explain import GradCAM, InputXGradient, LayerGradientXActivation, Occlusion, Saliency, SmoothGrad, scores

ROW, COL = 5, 7


def _pixel(out):
    return out[:, 0, ROW, COL]


def _image_net():
    """conv 3×3 (1→4) → ReLU → conv 3×3 (4→1), same padding: the output pixel sees a 5×5 input window."""
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 1, 3, padding=1)).double()


def _x():
    torch.manual_seed(1)
    return torch.randn(2, 1, 12, 12, dtype=torch.float64)


def test_scores_rule_for_class_indices_and_callables():
    out = torch.arange(12.0).reshape(2, 2, 3)
    torch.testing.assert_close(scores(out, None), torch.tensor([5.0, 11.0]))
    torch.testing.assert_close(scores(out, 4), torch.tensor([4.0, 10.0]))
    torch.testing.assert_close(scores(out, [0, 5]), torch.tensor([0.0, 11.0]))
    torch.testing.assert_close(scores(out, lambda o: o[:, 1, 0] - o[:, 0, 0]), torch.tensor([3.0, 3.0]))


def test_saliency_of_one_output_pixel_is_its_autograd_gradient_inside_the_receptive_field():
    net, x = _image_net(), _x()
    xi = x.clone().requires_grad_(True)
    (expected,) = torch.autograd.grad(net(xi)[:, 0, ROW, COL].sum(), xi)  # computed directly, float64
    got = Saliency(net).attribute(x, target=_pixel, abs=False)
    torch.testing.assert_close(got, expected, rtol=0, atol=0)
    window = torch.zeros(12, 12, dtype=torch.bool)
    window[ROW - 2 : ROW + 3, COL - 2 : COL + 3] = True  # two stacked 3×3 convs: a 5×5 receptive field
    assert (got[:, 0][:, ~window] == 0).all()
    assert (got[:, 0][:, window] != 0).sum() >= 2 * 13  # the window is really used (ReLUs switch a few off)
    torch.testing.assert_close(InputXGradient(net).attribute(x, target=_pixel), x * expected)
    torch.testing.assert_close(Saliency(net).attribute(x, target=_pixel), expected.abs())


def test_gradcam_of_one_output_pixel_equals_the_hand_computation():
    """score = Σ_k Σ_uv w2[k,u,v] A_k[r+u-1, c+v-1] + b: ∂score/∂A_k is w2[k] placed around (r, c), zero elsewhere."""
    net, x = _image_net(), _x()
    A = torch.relu(nn.functional.conv2d(x, net[0].weight, net[0].bias, padding=1))  # (N, 4, 12, 12)
    w2 = net[2].weight[0]  # (4, 3, 3)
    alpha = w2.sum(dim=(1, 2)) / (12 * 12)  # spatial mean of ∂score/∂A_k: the kernel's sum over 144 positions
    expected = (alpha.view(1, 4, 1, 1) * A).sum(1, keepdim=True).clamp(min=0)
    got = GradCAM(net, layer="1").attribute(x, target=_pixel)
    assert got.shape == (2, 1, 12, 12)
    torch.testing.assert_close(got, expected, rtol=1e-12, atol=1e-14)
    grad = torch.zeros(4, 12, 12, dtype=torch.float64)
    grad[:, ROW - 1 : ROW + 2, COL - 1 : COL + 2] = w2
    lga = LayerGradientXActivation(net, "1").attribute(x, target=_pixel)
    torch.testing.assert_close(lga, A * grad, rtol=1e-12, atol=1e-14)


def _occlusion_reference(net, x, score, window, stride, baseline):
    N, C, H, W = x.shape
    (h, w), (sh, sw) = window, stride
    total = torch.zeros(N, H, W, dtype=x.dtype)
    count = torch.zeros(H, W, dtype=x.dtype)
    with torch.no_grad():
        clean = score(net(x))
        for i in range(0, H - h + 1, sh):
            for j in range(0, W - w + 1, sw):
                occ = x.clone()
                occ[:, :, i : i + h, j : j + w] = baseline
                total[:, i : i + h, j : j + w] += (clean - score(net(occ))).view(N, 1, 1)
                count[i : i + h, j : j + w] += 1
    return (total / count)[:, None]


@pytest.mark.parametrize("batch_size", [1, 2, 3, 64])
def test_occlusion_with_a_callable_target_matches_loops_and_ignores_batch_size(batch_size):
    net, x = _image_net(), _x()
    got = Occlusion(net).attribute(x, target=_pixel, window=(3, 3), stride=(3, 3), baseline=0.0, batch_size=batch_size)
    expected = _occlusion_reference(net, x, _pixel, (3, 3), (3, 3), 0.0)
    torch.testing.assert_close(got, expected, rtol=1e-12, atol=1e-12)
    assert (got[:, 0, :3] == 0).all() and (got[:, 0, 9:] == 0).all()  # windows that miss the 5×5 field change nothing


def test_smoothgrad_passes_a_callable_target_to_every_noisy_copy():
    net, x = _image_net(), _x()
    sg = SmoothGrad(Saliency(net), n_samples=3, stdev=0.1, seed=2).attribute(x, target=_pixel)
    g = torch.Generator().manual_seed(2)
    span = x.amax(dim=(1, 2, 3), keepdim=True) - x.amin(dim=(1, 2, 3), keepdim=True)
    expected = sum(Saliency(net).attribute(x + torch.randn(x.shape, generator=g, dtype=x.dtype) * 0.1 * span,
                                           target=_pixel) for _ in range(3)) / 3
    torch.testing.assert_close(sg, expected)


def test_callable_target_errors_are_one_line():
    net, x = _image_net(), _x()
    with pytest.raises(ShapeError, match=r"`target` callable must return one score per input, shape \(2,\); got \(2, 12\)"):
        Saliency(net).attribute(x, target=lambda out: out[:, 0, 0])
    with pytest.raises(TypeError, match=r"`target` callable must return a tensor of N=2 scores; got float"):
        GradCAM(net, "1").attribute(x, target=lambda out: 1.0)
    with pytest.raises(TypeError, match=r"`target` callable must compute its score from the model output"):
        Saliency(net).attribute(x, target=lambda out: torch.zeros(2, dtype=torch.float64))
    with pytest.raises(TypeError, match=r"`target` of probability_map must be a class index"):
        Occlusion(net).probability_map(x, target=_pixel, window=3)
