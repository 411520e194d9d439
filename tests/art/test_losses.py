"""Gram matrix and the style-transfer losses against direct formulas."""

from __future__ import annotations

import pytest
import torch

from cnnlab.art.color import match_color, preserve_color, rgb_to_yiq, yiq_to_rgb
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


def test_gram_gradient_float64_against_autograd_bmm():
    torch.manual_seed(4)
    F = torch.randn(2, 3, 4, 5, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(gram_matrix, (F,))
    weights = torch.randn(2, 3, 3, dtype=torch.float64)  # an asymmetric upstream gradient
    (mine,) = torch.autograd.grad((gram_matrix(F) * weights).sum(), F)
    f = F.reshape(2, 3, 20)
    (ref,) = torch.autograd.grad((torch.bmm(f, f.transpose(1, 2)) / 60 * weights).sum(), F)
    assert torch.allclose(mine, ref, atol=1e-12)
    # channels-last maps take the copy-free (N, HW, C) path: same values, gradient stays channels-last
    Fcl = F.detach().contiguous(memory_format=torch.channels_last).requires_grad_(True)
    assert torch.allclose(gram_matrix(Fcl), gram_matrix(F), atol=1e-12)
    assert torch.autograd.gradcheck(gram_matrix, (Fcl,))
    (mine_cl,) = torch.autograd.grad((gram_matrix(Fcl) * weights).sum(), Fcl)
    assert torch.allclose(mine_cl, ref, atol=1e-12)
    assert mine_cl.is_contiguous(memory_format=torch.channels_last)
    with pytest.raises(ValueError, match=r"expects an \(N, C, H, W\) feature map; got shape \(3, 4\)"):
        gram_matrix(torch.rand(3, 4))


def test_yiq_roundtrip_and_colour_preservation(image, style_image):
    assert torch.allclose(yiq_to_rgb(rgb_to_yiq(image)), image, atol=1e-5)
    grey = style_image.mean(1, keepdim=True).expand(-1, 3, -1, -1) * 0.4 + 0.3
    image = 0.4 + 0.2 * image  # mild colours, so nothing is clipped
    out = preserve_color(grey, image)
    assert float(out.min()) > 0 and float(out.max()) < 1
    # the chrominance is the content's, the luminance the stylised image's (no clipping in this range)
    assert torch.allclose(rgb_to_yiq(out)[:, 1:], rgb_to_yiq(image)[:, 1:], atol=2e-3)
    assert torch.allclose(rgb_to_yiq(out)[:, :1], rgb_to_yiq(grey)[:, :1], atol=2e-3)


def test_match_color_moves_mean_and_covariance_onto_the_reference():
    torch.manual_seed(5)
    mix = torch.tensor([[1.0, 0.3, 0.0], [0.2, 1.0, 0.1], [0.0, 0.4, 1.0]])
    image = 0.45 + 0.05 * torch.einsum("ij,njhw->nihw", mix, torch.randn(1, 3, 30, 40))
    reference = 0.5 + 0.08 * torch.einsum("ij,njhw->nihw", mix.T, torch.randn(1, 3, 20, 20))
    out = match_color(image.double(), reference.double())
    stats = lambda t: (t[0].reshape(3, -1).mean(1), torch.cov(t[0].reshape(3, -1)))  # noqa: E731
    (m_out, c_out), (m_ref, c_ref) = stats(out), stats(reference.double())
    assert float(out.min()) > 0 and float(out.max()) < 1  # no clipping in this example
    assert torch.allclose(m_out, m_ref, atol=1e-9)
    assert torch.allclose(c_out, c_ref, atol=1e-6)
    assert torch.allclose(match_color(image, image), image, atol=1e-4)  # identity on itself
    with pytest.raises(ValueError, match=r"expects \(N, 3, H, W\) images; got \(3, 4, 4\)"):
        match_color(torch.rand(3, 4, 4), reference)
