"""Gram matrix and the style-transfer losses against direct formulas."""

from __future__ import annotations

import torch

from cnnlab.art.color import preserve_color, rgb_to_yiq, yiq_to_rgb
from cnnlab.art.losses import content_loss, gram_matrix, style_loss, tv_loss


def test_gram_matches_direct_double_sum():
    torch.manual_seed(1)
    F = torch.randn(2, 3, 4, 5, dtype=torch.float64)  # (N, C, H, W)
    G = gram_matrix(F)
    N, C, H, W = F.shape
    for n in range(N):
        for i in range(C):
            for j in range(C):
                direct = sum(F[n, i, h, w] * F[n, j, h, w] for h in range(H) for w in range(W)) / (C * H * W)
                assert abs(float(G[n, i, j]) - float(direct)) < 1e-12
    assert torch.equal(G, G.transpose(1, 2))


def test_gram_hand_example():
    # one 1×2 map with two channels: rows (1, 2) and (3, 4): F Fᵀ = [[5, 11], [11, 25]], / (2·1·2)
    F = torch.tensor([[[[1.0, 2.0]], [[3.0, 4.0]]]])
    assert torch.allclose(gram_matrix(F), torch.tensor([[[5.0, 11.0], [11.0, 25.0]]]) / 4)


def test_losses_against_formulas():
    torch.manual_seed(2)
    a, b = torch.randn(1, 4, 3, 3, dtype=torch.float64), torch.randn(1, 4, 3, 3, dtype=torch.float64)
    assert abs(float(content_loss(a, b)) - float(((a - b) ** 2).sum() / a.numel())) < 1e-12
    ga, gb = gram_matrix(a), gram_matrix(b)
    assert abs(float(style_loss(a, gb)) - float(((ga - gb) ** 2).sum() / 16)) < 1e-12
    x = torch.tensor([[[[0.0, 1.0], [3.0, 5.0]]]])
    # vertical diffs 3, 4 -> mean 12.5; horizontal diffs 1, 2 -> mean 2.5
    assert abs(float(tv_loss(x)) - 15.0) < 1e-6


def test_style_loss_gradient_float64():
    torch.manual_seed(3)
    a = torch.randn(1, 2, 3, 3, dtype=torch.float64, requires_grad=True)
    target = gram_matrix(torch.randn(1, 2, 3, 3, dtype=torch.float64))
    assert torch.autograd.gradcheck(lambda t: style_loss(t, target), (a,))


def test_yiq_roundtrip_and_colour_preservation(image, style_image):
    assert torch.allclose(yiq_to_rgb(rgb_to_yiq(image)), image, atol=1e-5)
    grey = style_image.mean(1, keepdim=True).expand(-1, 3, -1, -1) * 0.4 + 0.3
    image = 0.4 + 0.2 * image  # mild colours, so nothing is clipped
    out = preserve_color(grey, image)
    assert float(out.min()) > 0 and float(out.max()) < 1
    # the chrominance is the content's, the luminance the stylised image's (no clipping in this range)
    assert torch.allclose(rgb_to_yiq(out)[:, 1:], rgb_to_yiq(image)[:, 1:], atol=2e-3)
    assert torch.allclose(rgb_to_yiq(out)[:, :1], rgb_to_yiq(grey)[:, :1], atol=2e-3)
