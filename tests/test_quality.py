"""Image quality metrics against hand values, MATLAB's YCbCr numbers and scikit-image's SSIM."""

import math

import numpy as np
import pytest
import torch

from cnnlab import quality
from cnnlab.errors import ShapeError


def test_psnr_of_a_constant_offset_is_closed_form():
    a = torch.full((2, 3, 10, 12), 0.5)
    b = a + 0.05
    assert torch.allclose(quality.psnr(a, b), torch.full((2,), 20 * math.log10(1 / 0.05), dtype=torch.float64))
    assert quality.psnr(a, a)[0] == math.inf
    assert quality.psnr(a * 255, b * 255, data_range=255.0)[0] == pytest.approx(26.0206, abs=1e-4)


def test_shave_ignores_the_border():
    a = torch.zeros(1, 1, 10, 10)
    b = a.clone()
    b[..., 0, :] = 1.0  # error only in the first row
    assert quality.psnr(a, b, shave=1)[0] == math.inf
    assert quality.psnr(a, b)[0] == pytest.approx(10 * math.log10(10), abs=1e-9)  # MSE = 10/100


def test_ycbcr_matches_matlab_values_and_inverts():
    # MATLAB rgb2ycbcr([1 1 1]) = [235 128 128]/255, ([0 0 0]) = [16 128 128]/255, pure red = [81.481 90.203 240]/255
    x = torch.tensor([[1.0, 0.0, 1.0], [1.0, 0.0, 0.0], [1.0, 0.0, 0.0]], dtype=torch.float64).view(3, 1, 3)
    y = quality.rgb_to_ycbcr(x) * 255
    assert torch.allclose(y[:, 0, 0], torch.tensor([235.0, 128.0, 128.0], dtype=torch.float64), atol=1e-3)
    assert torch.allclose(y[:, 0, 1], torch.tensor([16.0, 128.0, 128.0], dtype=torch.float64), atol=1e-9)
    assert torch.allclose(y[:, 0, 2], torch.tensor([81.481, 90.203, 240.0], dtype=torch.float64), atol=1e-9)
    rgb = torch.rand(2, 3, 5, 4, dtype=torch.float64)
    assert torch.allclose(quality.ycbcr_to_rgb(quality.rgb_to_ycbcr(rgb)), rgb, atol=1e-12)
    assert quality.rgb_to_y(rgb).shape == (2, 1, 5, 4)


def test_ssim_matches_scikit_image():
    from skimage.metrics import structural_similarity

    g = torch.Generator().manual_seed(0)
    a = torch.rand(1, 1, 40, 36, generator=g, dtype=torch.float64)
    b = (a + 0.1 * torch.randn(1, 1, 40, 36, generator=g, dtype=torch.float64)).clamp(0, 1)
    ref = structural_similarity(a[0, 0].numpy(), b[0, 0].numpy(), gaussian_weights=True, sigma=1.5,
                                use_sample_covariance=False, data_range=1.0, win_size=11)
    assert quality.ssim(a, b)[0] == pytest.approx(ref, abs=1e-6)
    assert quality.ssim(a, a)[0] == pytest.approx(1.0, abs=1e-12)


def test_y_channel_psnr_uses_luminance_only():
    rgb = torch.rand(1, 3, 16, 16, dtype=torch.float64)
    same_y = quality.ycbcr_to_rgb(quality.rgb_to_ycbcr(rgb) + torch.tensor([0, 0.05, -0.05], dtype=torch.float64).view(3, 1, 1))
    assert quality.psnr(rgb, same_y, y_channel=True)[0] > 200  # only Cb/Cr differ
    assert quality.psnr(rgb, same_y)[0] < 40


def test_bad_shapes_are_one_line_errors():
    with pytest.raises(ShapeError, match="same shape"):
        quality.psnr(torch.zeros(1, 1, 4, 4), torch.zeros(1, 1, 4, 5))
    with pytest.raises(ShapeError, match="RGB"):
        quality.rgb_to_y(torch.zeros(1, 1, 4, 4))
    with pytest.raises(ShapeError, match="shave"):
        quality.psnr(torch.zeros(1, 1, 4, 4), torch.zeros(1, 1, 4, 4), shave=2)
