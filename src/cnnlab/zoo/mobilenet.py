"""MobileNetV2 (Sandler et al. 2018, "MobileNetV2: Inverted residuals and linear bottlenecks").

torchvision's module structure and state-dict keys (``features.N.conv...``, ``classifier.1``), so its
``mobilenet_v2-b0353104.pth`` loads unchanged; 3,504,872 parameters at 1000 classes. ``avgpool`` is a
module here (torchvision calls the functional form; no parameters, same keys).
"""

from __future__ import annotations

import torch
from torch import nn

from cnnlab.zoo.common import Conv2dNormActivation, init_torchvision, make_divisible
from cnnlab.zoo.registry import register

__all__ = ["InvertedResidual", "MobileNetV2", "INVERTED_RESIDUAL_SETTING"]

#: t (expansion), c (channels), n (repeats), s (first stride): Table 2 of the paper
INVERTED_RESIDUAL_SETTING = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1),
                             (6, 160, 3, 2), (6, 320, 1, 1))


class InvertedResidual(nn.Module):
    """1×1 expand (ReLU6) → 3×3 depthwise (ReLU6) → 1×1 linear projection, + x when shapes match."""

    def __init__(self, inp: int, oup: int, stride: int, expand_ratio: int):
        super().__init__()
        self.stride = stride
        hidden = int(round(inp * expand_ratio))
        self.use_res_connect = stride == 1 and inp == oup
        layers = []
        if expand_ratio != 1:
            layers.append(Conv2dNormActivation(inp, hidden, 1, activation_layer=nn.ReLU6))
        layers += [Conv2dNormActivation(hidden, hidden, 3, stride, groups=hidden, activation_layer=nn.ReLU6),
                   nn.Conv2d(hidden, oup, 1, 1, 0, bias=False), nn.BatchNorm2d(oup)]
        self.conv = nn.Sequential(*layers)
        self.out_channels = oup

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv(x) if self.use_res_connect else self.conv(x)


class MobileNetV2(nn.Module):
    """MobileNetV2 with ``features`` / ``avgpool`` / ``classifier``. Shape: (N, 3, 224, 224) -> (N, num_classes)."""

    def __init__(self, num_classes: int = 1000, width_mult: float = 1.0, dropout: float = 0.2,
                 in_channels: int = 3, round_nearest: int = 8):
        super().__init__()
        input_channel = make_divisible(32 * width_mult, round_nearest)
        self.last_channel = make_divisible(1280 * max(1.0, width_mult), round_nearest)
        features: list = [Conv2dNormActivation(in_channels, input_channel, stride=2, activation_layer=nn.ReLU6)]
        for t, c, n, s in INVERTED_RESIDUAL_SETTING:
            output_channel = make_divisible(c * width_mult, round_nearest)
            for i in range(n):
                features.append(InvertedResidual(input_channel, output_channel, s if i == 0 else 1, t))
                input_channel = output_channel
        features.append(Conv2dNormActivation(input_channel, self.last_channel, 1, activation_layer=nn.ReLU6))
        self.features = nn.Sequential(*features)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(nn.Dropout(p=dropout), nn.Linear(self.last_channel, num_classes))
        init_torchvision(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


@register("mobilenet_v2", (3, 224, 224), "MobileNetV2 (2018): inverted residuals, linear bottlenecks, ReLU6 (torchvision layout)")
def mobilenet_v2(num_classes: int = 1000, width_mult: float = 1.0, dropout: float = 0.2, in_channels: int = 3) -> MobileNetV2:
    """torchvision-compatible MobileNetV2 (3,504,872 parameters at 1000 classes)."""
    return MobileNetV2(num_classes, width_mult, dropout, in_channels)
