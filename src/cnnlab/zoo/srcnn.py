"""SRCNN (Dong, Loy, He & Tang 2014/2016, "Image super-resolution using deep convolutional networks").

The 9-5-5 network: patch extraction 9×9 × 64 → ReLU → non-linear mapping 5×5 × 32 → ReLU →
reconstruction 5×5 × channels, on the (bicubic-upscaled) luminance channel. 57,184 weights (+97
biases) for one channel. ``padding="same"`` (default) keeps the image size; ``"valid"`` is the paper's
training set-up (a 33×33 sub-image gives a 17×17 output).
"""

from __future__ import annotations

import torch
from torch import nn

from cnnlab.errors import ConfigError
from cnnlab.zoo.registry import register

__all__ = ["SRCNN"]


class SRCNN(nn.Module):
    """``features`` (9×9 conv 64, ReLU, 5×5 conv 32, ReLU) → ``reconstruction`` (5×5 conv). Shape: (N, C, H, W) -> same."""

    def __init__(self, in_channels: int = 1, f1: int = 9, f2: int = 5, f3: int = 5, n1: int = 64, n2: int = 32,
                 padding: str = "same"):
        super().__init__()
        if padding not in ("same", "valid"):
            raise ConfigError(f"`padding` must be \"same\" or \"valid\"; got {padding!r} (srcnn)")
        p = (lambda k: k // 2) if padding == "same" else (lambda k: 0)
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, n1, f1, padding=p(f1)), nn.ReLU(inplace=True),
            nn.Conv2d(n1, n2, f2, padding=p(f2)), nn.ReLU(inplace=True),
        )
        self.reconstruction = nn.Conv2d(n2, in_channels, f3, padding=p(f3))
        for conv in (self.features[0], self.features[2], self.reconstruction):  # paper: N(0, 0.001), zero bias
            if not conv.weight.is_meta:
                nn.init.normal_(conv.weight, 0.0, 1e-3)
                nn.init.zeros_(conv.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.reconstruction(self.features(x))


@register("srcnn", (1, 33, 33), "SRCNN 9-5-5 (2014): super-resolution by patch extraction, mapping, reconstruction")
def srcnn(in_channels: int = 1, padding: str = "same") -> SRCNN:
    """SRCNN 9-5-5 (57,281 parameters for one channel)."""
    return SRCNN(in_channels, padding=padding)
