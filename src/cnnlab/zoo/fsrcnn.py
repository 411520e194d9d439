"""FSRCNN (Dong, Loy & Tang, ECCV 2016, "Accelerating the super-resolution convolutional neural network").

SRCNN made fast by working on the low-resolution image and upscaling only at the end:
feature extraction 5×5 × d → shrinking 1×1 × s → m mapping layers 3×3 × s → expanding 1×1 × d (each
followed by PReLU) → a 9×9 deconvolution (transposed convolution) with stride = scale. The paper's
FSRCNN(56, 12, 4) has 12,464 weights (biases and PReLU slopes aside); its cost per output pixel is about
1/scale² of a network of the same size run on the upscaled image.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from cnnlab.errors import ConfigError
from cnnlab.zoo.common import is_meta
from cnnlab.zoo.registry import register

__all__ = ["FSRCNN", "check_scale"]


def check_scale(scale: int, model: str) -> int:
    """``scale`` as an int in 2..8, or a one-line :class:`ConfigError` naming ``model``."""
    if isinstance(scale, bool) or not isinstance(scale, int) or not 2 <= scale <= 8:
        raise ConfigError(f"`scale` must be an int from 2 to 8; got {scale!r} ({model})")
    return scale


class FSRCNN(nn.Module):
    """``features`` (extract, shrink, map ×m, expand; PReLU) → ``reconstruction`` (9×9 deconvolution, stride scale).

    Shape: (N, C, H, W) -> (N, C, scale·H, scale·W).
    """

    def __init__(self, scale: int = 3, in_channels: int = 1, d: int = 56, s: int = 12, m: int = 4):
        super().__init__()
        self.upscale = check_scale(scale, "fsrcnn")
        layers = [nn.Conv2d(in_channels, d, 5, padding=2), nn.PReLU(d), nn.Conv2d(d, s, 1), nn.PReLU(s)]
        for _ in range(m):
            layers += [nn.Conv2d(s, s, 3, padding=1), nn.PReLU(s)]
        layers += [nn.Conv2d(s, d, 1), nn.PReLU(d)]
        self.features = nn.Sequential(*layers)
        # (H - 1)·scale − 2·4 + 9 + (scale − 1) = scale·H: the output is exactly scale times the input
        self.reconstruction = nn.ConvTranspose2d(d, in_channels, 9, stride=scale, padding=4,
                                                 output_padding=scale - 1)
        if not is_meta(self):  # paper: He init for the PReLU convolutions, N(0, 0.001) for the deconvolution
            for conv in self.features:
                if isinstance(conv, nn.Conv2d):
                    fan_out = conv.out_channels * conv.kernel_size[0] * conv.kernel_size[1]
                    nn.init.normal_(conv.weight, 0.0, math.sqrt(2.0 / fan_out))
                    nn.init.zeros_(conv.bias)
            nn.init.normal_(self.reconstruction.weight, 0.0, 1e-3)
            nn.init.zeros_(self.reconstruction.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.reconstruction(self.features(x))


@register("fsrcnn", (1, 32, 32), "FSRCNN(56,12,4) (2016): SR on the low-resolution image, deconvolution at the end")
def fsrcnn(scale: int = 3, in_channels: int = 1, d: int = 56, s: int = 12, m: int = 4) -> FSRCNN:
    """FSRCNN(d, s, m); the paper's (56, 12, 4) by default (12,464 weights)."""
    for name, v in (("d", d), ("s", s), ("m", m)):
        if isinstance(v, bool) or not isinstance(v, int) or v < (0 if name == "m" else 1):
            raise ConfigError(f"`{name}` must be a positive int; got {v!r} (fsrcnn)")
    return FSRCNN(scale, in_channels, d, s, m)
