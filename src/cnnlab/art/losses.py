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


def gram_matrix(feature: torch.Tensor) -> torch.Tensor:
    """Channel correlations of a feature map, normalised by the number of its elements.

    Shape:
        (N, C, H, W) -> (N, C, C).
    """
    N, C, H, W = feature.shape
    f = feature.reshape(N, C, H * W)  # (N, C, H, W) -> (N, C, HW)
    return torch.bmm(f, f.transpose(1, 2)) / (C * H * W)


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
