"""SRCNN (Dong, Loy, He & Tang 2014/2016, "Image super-resolution using deep convolutional networks").

Patch extraction f1×f1 × n1 → ReLU → non-linear mapping f2×f2 × n2 → ReLU → reconstruction f3×f3 ×
channels, on the luminance channel of the bicubic-upscaled image (so the whole network runs at the high
resolution: ``upscale = 1``). The paper's two sizes are table data: 9-5-5 (57,184 weights for one
channel) and 9-1-5 (8,032 weights). ``padding="same"`` (default) keeps the image size; ``"valid"`` is the
paper's training set-up (a 33×33 sub-image gives a 17×17 output with 9-5-5).
"""

from __future__ import annotations

import torch
from torch import nn

from cnnlab.errors import ConfigError
from cnnlab.zoo.common import is_meta
from cnnlab.zoo.registry import register

__all__ = ["SRCNN", "VARIANTS"]

#: (f1, f2, f3) kernel sizes of the paper's networks; n1 = 64, n2 = 32 for both
VARIANTS = {"9-5-5": (9, 5, 5), "9-1-5": (9, 1, 5)}


class SRCNN(nn.Module):
    """``features`` (f1 conv n1, ReLU, f2 conv n2, ReLU) → ``reconstruction`` (f3 conv). Shape: (N, C, H, W) -> same.

    The input is the bicubic-upscaled image, so the model itself does not change the size (``upscale = 1``).
    """

    upscale = 1

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
        if not is_meta(self):  # paper: N(0, 0.001), zero bias
            for conv in (self.features[0], self.features[2], self.reconstruction):
                nn.init.normal_(conv.weight, 0.0, 1e-3)
                nn.init.zeros_(conv.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.reconstruction(self.features(x))


def _variant(name: str, in_channels: int, padding: str) -> SRCNN:
    f1, f2, f3 = VARIANTS[name]
    return SRCNN(in_channels, f1, f2, f3, padding=padding)


@register("srcnn", (1, 33, 33), "SRCNN 9-5-5 (2014): super-resolution by patch extraction, mapping, reconstruction")
def srcnn(in_channels: int = 1, padding: str = "same") -> SRCNN:
    """SRCNN 9-5-5 (57,281 parameters for one channel)."""
    return _variant("9-5-5", in_channels, padding)


@register("srcnn_915", (1, 33, 33), "SRCNN 9-1-5 (2014): the small SRCNN, 1×1 non-linear mapping")
def srcnn_915(in_channels: int = 1, padding: str = "same") -> SRCNN:
    """SRCNN 9-1-5 (8,129 parameters for one channel)."""
    return _variant("9-1-5", in_channels, padding)
