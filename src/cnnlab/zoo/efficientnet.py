"""EfficientNet-Lite0 (Tan & Le 2019, "EfficientNet"; the "Lite" variant for mobile accelerators).

Lite0 is EfficientNet-B0 without squeeze-and-excitation, with ReLU6 instead of swish and a fixed
32-channel stem / 1280-channel head. Module names follow the ``efficientnet_pytorch`` layout
(``_conv_stem``, ``_bn0``, ``_blocks.N._expand_conv/_bn0/_depthwise_conv/_bn1/_project_conv/_bn2``,
``_conv_head``, ``_bn1``, ``_fc``) so the offline weight file loads unchanged. BatchNorm eps 1e-3 and
TF-"same" padding: stride-1 convs use symmetric padding k//2 (identical), stride-2 convs pad the
TF way (extra pixel after) for the actual input size (:class:`Conv2dSame`). Inputs are scaled to
[−1, 1] (mean = std = 0.5). Drop-connect (training-time stochastic depth) is not implemented.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from cnnlab.shapes import same_padding
from cnnlab.zoo.common import is_meta
from cnnlab.zoo.registry import register

__all__ = ["EfficientNetLite", "MBConvBlock", "Conv2dSame", "LITE0_BLOCKS"]

#: kernel, stride, expansion, in, out, repeats (B0 table; Lite0 keeps it with width = depth = 1.0)
LITE0_BLOCKS = ((3, 1, 1, 32, 16, 1), (3, 2, 6, 16, 24, 2), (5, 2, 6, 24, 40, 2), (3, 2, 6, 40, 80, 3),
                (5, 1, 6, 80, 112, 3), (5, 2, 6, 112, 192, 4), (3, 1, 6, 192, 320, 1))

_BN = dict(eps=1e-3, momentum=0.01)


class Conv2dSame(nn.Conv2d):
    """``nn.Conv2d`` with TensorFlow "same" padding computed from the input size (extra pixel after)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        (ph, qh), (pw, qw) = (same_padding(n, k, s, d) for n, k, s, d in
                              zip(x.shape[-2:], self.kernel_size, self.stride, self.dilation))
        return F.conv2d(F.pad(x, (pw, qw, ph, qh)), self.weight, self.bias, self.stride, 0, self.dilation, self.groups)


def _conv(cin: int, cout: int, k: int, stride: int = 1, groups: int = 1) -> nn.Conv2d:
    if stride == 1:
        return nn.Conv2d(cin, cout, k, 1, k // 2, groups=groups, bias=False)
    return Conv2dSame(cin, cout, k, stride, 0, groups=groups, bias=False)


class MBConvBlock(nn.Module):
    """Mobile inverted bottleneck: [1×1 expand → BN → ReLU6] → k×k depthwise → BN → ReLU6 → 1×1 → BN (+ x)."""

    def __init__(self, cin: int, cout: int, kernel: int, stride: int, expand: int):
        super().__init__()
        hidden = cin * expand
        self.has_expand = expand != 1
        if self.has_expand:
            self._expand_conv = nn.Conv2d(cin, hidden, 1, bias=False)
            self._bn0 = nn.BatchNorm2d(hidden, **_BN)
        self._depthwise_conv = _conv(hidden, hidden, kernel, stride, groups=hidden)
        self._bn1 = nn.BatchNorm2d(hidden, **_BN)
        self._project_conv = nn.Conv2d(hidden, cout, 1, bias=False)
        self._bn2 = nn.BatchNorm2d(cout, **_BN)
        self._relu = nn.ReLU6(inplace=False)
        self.id_skip = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self._relu(self._bn0(self._expand_conv(x))) if self.has_expand else x
        h = self._relu(self._bn1(self._depthwise_conv(h)))
        h = self._bn2(self._project_conv(h))
        return h + x if self.id_skip else h


class EfficientNetLite(nn.Module):
    """EfficientNet-Lite0. Shape: (N, 3, 224, 224) in [−1, 1] -> (N, num_classes)."""

    def __init__(self, num_classes: int = 1000, dropout: float = 0.2, in_channels: int = 3):
        super().__init__()
        self._conv_stem = _conv(in_channels, 32, 3, 2)
        self._bn0 = nn.BatchNorm2d(32, **_BN)
        blocks = []
        for k, s, e, cin, cout, n in LITE0_BLOCKS:
            for i in range(n):
                blocks.append(MBConvBlock(cin if i == 0 else cout, cout, k, s if i == 0 else 1, e))
        self._blocks = nn.ModuleList(blocks)
        self._conv_head = nn.Conv2d(320, 1280, 1, bias=False)
        self._bn1 = nn.BatchNorm2d(1280, **_BN)
        self._relu = nn.ReLU6(inplace=False)
        self._avg_pooling = nn.AdaptiveAvgPool2d(1)
        self._dropout = nn.Dropout(dropout)
        self._fc = nn.Linear(1280, num_classes)
        for m in () if is_meta(self) else self.modules():
            if isinstance(m, nn.Conv2d):  # TF init: N(0, sqrt(2 / fan_out))
                fan_out = m.kernel_size[0] * m.kernel_size[1] * m.out_channels // m.groups
                nn.init.normal_(m.weight, 0.0, math.sqrt(2.0 / fan_out))
            elif isinstance(m, nn.Linear):
                bound = 1.0 / math.sqrt(m.out_features)
                nn.init.uniform_(m.weight, -bound, bound)
                nn.init.zeros_(m.bias)

    def extract_features(self, x: torch.Tensor) -> torch.Tensor:
        """The last feature map (N, 1280, H/32, W/32)."""
        x = self._relu(self._bn0(self._conv_stem(x)))
        for block in self._blocks:
            x = block(x)
        return self._relu(self._bn1(self._conv_head(x)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._fc(self._dropout(torch.flatten(self._avg_pooling(self.extract_features(x)), 1)))


@register("efficientnet_lite0", (3, 224, 224), "EfficientNet-Lite0 (2019): MBConv without SE, ReLU6, TF-same padding")
def efficientnet_lite0(num_classes: int = 1000, dropout: float = 0.2, in_channels: int = 3) -> EfficientNetLite:
    """EfficientNet-Lite0 in the ``efficientnet_pytorch`` key layout (4,652,008 parameters at 1000 classes)."""
    return EfficientNetLite(num_classes, dropout, in_channels)
