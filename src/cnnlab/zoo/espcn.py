"""ESPCN (Shi et al., CVPR 2016, "Real-time single image and video super-resolution using an efficient
sub-pixel convolutional neural network").

All convolutions run on the low-resolution image: 5×5 × 64 → tanh → 3×3 × 32 → tanh → 3×3 × C·r², then the
sub-pixel convolution (``PixelShuffle(r)``) rearranges the C·r² maps into a C-channel image r times larger.
At ×3 that is 22,729 parameters for one channel; every convolution costs 1/r² of what it would on the
upscaled image. ``residual=True`` (not in the paper) adds a bicubic upscale of the input to the output, so the
network only learns the missing detail (VDSR's global residual); it trains to a given PSNR in far fewer steps.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from cnnlab.zoo.common import is_meta
from cnnlab.zoo.fsrcnn import check_scale
from cnnlab.zoo.registry import register

__all__ = ["ESPCN"]


class ESPCN(nn.Module):
    """``features`` (5×5 conv n1, tanh, 3×3 conv n2, tanh) → ``reconstruction`` (3×3 conv C·r², PixelShuffle(r)).

    Shape: (N, C, H, W) -> (N, C, r·H, r·W).
    """

    def __init__(self, scale: int = 3, in_channels: int = 1, n1: int = 64, n2: int = 32, residual: bool = False):
        super().__init__()
        self.upscale = check_scale(scale, "espcn")
        self.residual = bool(residual)
        self.features = nn.Sequential(nn.Conv2d(in_channels, n1, 5, padding=2), nn.Tanh(),
                                      nn.Conv2d(n1, n2, 3, padding=1), nn.Tanh())
        self.reconstruction = nn.Sequential(nn.Conv2d(n2, in_channels * scale ** 2, 3, padding=1),
                                            nn.PixelShuffle(scale))
        if not is_meta(self):
            for conv in (self.features[0], self.features[2], self.reconstruction[0]):
                nn.init.zeros_(conv.bias)
            if self.residual:  # start from the bicubic image
                nn.init.normal_(self.reconstruction[0].weight, 0.0, 1e-3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.reconstruction(self.features(x))
        if self.residual:
            out = out + F.interpolate(x, scale_factor=self.upscale, mode="bicubic", align_corners=False)
        return out


@register("espcn", (1, 32, 32), "ESPCN (2016): sub-pixel convolution (PixelShuffle) on the low-resolution image")
def espcn(scale: int = 3, in_channels: int = 1, residual: bool = False) -> ESPCN:
    """ESPCN with the paper's 5-3-3 kernels and 64/32 maps (22,729 parameters at ×3, one channel)."""
    return ESPCN(scale, in_channels, residual=residual)
