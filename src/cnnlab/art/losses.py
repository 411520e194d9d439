"""The losses of neural style transfer (Gatys, Ecker & Bethge, "Image Style Transfer Using
Convolutional Neural Networks", CVPR 2016) and the total-variation regulariser.

Definitions (one per quantity, used by the optimiser and by every reported number):
- Gram matrix of a layer's map F (C × HW): ``G = F Fᵀ / (C·H·W)``.
- style loss of a layer: mean squared difference of the Gram matrices, ``mean((G(x) − G(s))²)``.
- content loss of a layer: mean squared difference of the maps, ``mean((F(x) − F(c))²)``.
- total variation: ``mean((x[:, :, 1:] − x[:, :, :-1])²) + mean((x[..., 1:] − x[..., :-1])²)``.
"""

from __future__ import annotations

import torch


class _Gram(torch.autograd.Function):
    """``G = F Fᵀ / n`` of an (N, C, H, W) map, with the symmetric backward ``dF = (dG + dGᵀ) F / n``.

    Autograd's generic ``bmm`` backward multiplies twice (once per operand); F is both operands, so one
    product suffices. A channels-last map is used as (N, HW, C) without a copy, and its gradient comes
    back channels-last, so it adds cheaply to the gradient from the next layer; ``1/n`` is applied to
    the small C×C matrices only.
    """

    @staticmethod
    def forward(ctx, feature: torch.Tensor) -> torch.Tensor:
        N, C, H, W = feature.shape
        n = float(C * H * W)
        nhwc = not feature.is_contiguous() and feature.is_contiguous(memory_format=torch.channels_last)
        if nhwc:
            f = feature.permute(0, 2, 3, 1).reshape(N, H * W, C)  # a view of the channels-last storage
            gram = torch.bmm(f.transpose(1, 2), f)
        else:
            f = feature.reshape(N, C, H * W)
            gram = torch.bmm(f, f.transpose(1, 2))
        ctx.save_for_backward(f)
        ctx.n, ctx.nhwc, ctx.shape = n, nhwc, (N, C, H, W)
        return gram / n

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        (f,) = ctx.saved_tensors
        N, C, H, W = ctx.shape
        g = (grad + grad.transpose(1, 2)) / ctx.n
        if ctx.nhwc:
            return torch.bmm(f, g).reshape(N, H, W, C).permute(0, 3, 1, 2)
        return torch.bmm(g, f).reshape(N, C, H, W)


def gram_matrix(feature: torch.Tensor) -> torch.Tensor:
    """Channel correlations of a feature map, normalised by the number of its elements.

    Shape:
        (N, C, H, W) -> (N, C, C).
    """
    if feature.dim() != 4:
        raise ValueError(f"gram_matrix expects an (N, C, H, W) feature map; got shape {tuple(feature.shape)}")
    return _Gram.apply(feature)


def style_loss(feature: torch.Tensor, target_gram: torch.Tensor) -> torch.Tensor:
    """Mean squared difference between the Gram matrix of ``feature`` and ``target_gram``."""
    return torch.mean((gram_matrix(feature) - target_gram) ** 2)


def content_loss(feature: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean squared difference between two feature maps."""
    return torch.mean((feature - target) ** 2)


def tv_loss(image: torch.Tensor) -> torch.Tensor:
    """Squared total variation of an (N, C, H, W) image, averaged per neighbour pair."""
    dy = image[:, :, 1:, :] - image[:, :, :-1, :]
    dx = image[:, :, :, 1:] - image[:, :, :, :-1]
    return torch.mean(dy**2) + torch.mean(dx**2)
