"""Small random-weight CNNs and images for the art tests."""

from __future__ import annotations

import pytest
import torch
from torch import nn


def tiny_vgg(seed: int = 0) -> nn.Sequential:
    """A VGG-shaped random CNN: two blocks of conv/ReLU separated by max-pooling, then one more conv."""
    torch.manual_seed(seed)
    net = nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(inplace=True),
        nn.Conv2d(8, 8, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(inplace=True),
        nn.Conv2d(16, 16, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(inplace=True),
    )
    return net.eval()


@pytest.fixture
def net() -> nn.Sequential:
    return tiny_vgg()


@pytest.fixture
def image() -> torch.Tensor:
    """A smooth 40×48 test image in [0, 1] with some structure (gradients and a disc)."""
    yy, xx = torch.meshgrid(torch.linspace(0, 1, 40), torch.linspace(0, 1, 48), indexing="ij")
    disc = (((yy - 0.5) ** 2 + (xx - 0.4) ** 2) < 0.08).float()
    return torch.stack([xx, yy, 0.3 + 0.5 * disc]).unsqueeze(0).clamp(0, 1)


@pytest.fixture
def style_image() -> torch.Tensor:
    """Diagonal stripes in saturated colours: a texture very unlike :func:`image`."""
    yy, xx = torch.meshgrid(torch.arange(40.0), torch.arange(48.0), indexing="ij")
    s = torch.sin((xx + yy) * 0.9)
    return torch.stack([0.5 + 0.5 * s, 0.5 - 0.5 * s, 0.5 + 0.5 * torch.cos(xx * 0.7)]).unsqueeze(0)
