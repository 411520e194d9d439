"""GoogLeNet / Inception v1 (Szegedy et al. 2015, "Going deeper with convolutions"), torchvision layout.

Every conv is ``BasicConv2d`` (conv without bias → BatchNorm eps 1e-3 → ReLU) as in torchvision, whose
"5×5" branch uses a 3×3 kernel (kept there for its weight files; ``five_by_five=True`` restores the
paper's 5×5 and changes the parameter count). Auxiliary classifiers are off by default (6,624,904
parameters); with ``aux_logits=True`` a model in training mode returns ``GoogLeNetOutputs(logits,
aux_logits2, aux_logits1)`` (13,004,888 parameters), in eval mode the logits.
"""

from __future__ import annotations

from typing import NamedTuple, Optional

import torch
from torch import nn
from torch.nn import functional as F

from cnnlab.zoo.common import is_meta
from cnnlab.zoo.registry import register

__all__ = ["GoogLeNet", "Inception", "InceptionAux", "BasicConv2d", "GoogLeNetOutputs", "INCEPTION_CFG"]

#: name -> (in, 1×1, 3×3 reduce, 3×3, 5×5 reduce, 5×5, pool proj): Table 1 of the paper
INCEPTION_CFG = {
    "inception3a": (192, 64, 96, 128, 16, 32, 32), "inception3b": (256, 128, 128, 192, 32, 96, 64),
    "inception4a": (480, 192, 96, 208, 16, 48, 64), "inception4b": (512, 160, 112, 224, 24, 64, 64),
    "inception4c": (512, 128, 128, 256, 24, 64, 64), "inception4d": (512, 112, 144, 288, 32, 64, 64),
    "inception4e": (528, 256, 160, 320, 32, 128, 128), "inception5a": (832, 256, 160, 320, 32, 128, 128),
    "inception5b": (832, 384, 192, 384, 48, 128, 128),
}


class GoogLeNetOutputs(NamedTuple):
    logits: torch.Tensor
    aux_logits2: Optional[torch.Tensor]
    aux_logits1: Optional[torch.Tensor]


class BasicConv2d(nn.Module):
    """conv (no bias) → BatchNorm2d(eps=1e-3) → ReLU."""

    def __init__(self, in_channels: int, out_channels: int, **kwargs):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, bias=False, **kwargs)
        self.bn = nn.BatchNorm2d(out_channels, eps=0.001)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.bn(self.conv(x)), inplace=True)


class Inception(nn.Module):
    """Four branches concatenated on channels: 1×1 | 1×1→3×3 | 1×1→3×3 (or 5×5) | 3×3 max pool→1×1."""

    def __init__(self, in_channels: int, ch1x1: int, ch3x3red: int, ch3x3: int, ch5x5red: int, ch5x5: int,
                 pool_proj: int, five_by_five: bool = False):
        super().__init__()
        k = 5 if five_by_five else 3
        self.branch1 = BasicConv2d(in_channels, ch1x1, kernel_size=1)
        self.branch2 = nn.Sequential(BasicConv2d(in_channels, ch3x3red, kernel_size=1),
                                     BasicConv2d(ch3x3red, ch3x3, kernel_size=3, padding=1))
        self.branch3 = nn.Sequential(BasicConv2d(in_channels, ch5x5red, kernel_size=1),
                                     BasicConv2d(ch5x5red, ch5x5, kernel_size=k, padding=k // 2))
        self.branch4 = nn.Sequential(nn.MaxPool2d(kernel_size=3, stride=1, padding=1, ceil_mode=True),
                                     BasicConv2d(in_channels, pool_proj, kernel_size=1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)], 1)


class InceptionAux(nn.Module):
    """Auxiliary classifier: 4×4 average pool → 1×1 conv 128 → fc 1024 → dropout 0.7 → fc classes."""

    def __init__(self, in_channels: int, num_classes: int, dropout: float = 0.7):
        super().__init__()
        self.conv = BasicConv2d(in_channels, 128, kernel_size=1)
        self.fc1 = nn.Linear(2048, 1024)
        self.fc2 = nn.Linear(1024, num_classes)
        self.dropout = nn.Dropout(p=dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv(F.adaptive_avg_pool2d(x, (4, 4)))  # (N, C, H, W) -> (N, 128, 4, 4)
        return self.fc2(self.dropout(F.relu(self.fc1(torch.flatten(x, 1)), inplace=True)))


class GoogLeNet(nn.Module):
    """Inception v1. Shape: (N, 3, 224, 224) -> (N, num_classes)."""

    def __init__(self, num_classes: int = 1000, aux_logits: bool = False, dropout: float = 0.2,
                 dropout_aux: float = 0.7, in_channels: int = 3, five_by_five: bool = False):
        super().__init__()
        self.aux_logits = aux_logits
        self.conv1 = BasicConv2d(in_channels, 64, kernel_size=7, stride=2, padding=3)
        self.maxpool1 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.conv2 = BasicConv2d(64, 64, kernel_size=1)
        self.conv3 = BasicConv2d(64, 192, kernel_size=3, padding=1)
        self.maxpool2 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        for name in ("inception3a", "inception3b"):
            setattr(self, name, Inception(*INCEPTION_CFG[name], five_by_five=five_by_five))
        self.maxpool3 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        for name in ("inception4a", "inception4b", "inception4c", "inception4d", "inception4e"):
            setattr(self, name, Inception(*INCEPTION_CFG[name], five_by_five=five_by_five))
        self.maxpool4 = nn.MaxPool2d(2, stride=2, ceil_mode=True)
        for name in ("inception5a", "inception5b"):
            setattr(self, name, Inception(*INCEPTION_CFG[name], five_by_five=five_by_five))
        if aux_logits:
            self.aux1: Optional[InceptionAux] = InceptionAux(512, num_classes, dropout_aux)
            self.aux2: Optional[InceptionAux] = InceptionAux(528, num_classes, dropout_aux)
        else:
            self.aux1 = self.aux2 = None
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.dropout = nn.Dropout(p=dropout)
        self.fc = nn.Linear(1024, num_classes)
        for m in () if is_meta(self) else self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.trunc_normal_(m.weight, mean=0.0, std=0.01, a=-2, b=2)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor):
        x = self.maxpool2(self.conv3(self.conv2(self.maxpool1(self.conv1(x)))))
        x = self.maxpool3(self.inception3b(self.inception3a(x)))
        x = self.inception4a(x)
        aux1 = self.aux1(x) if self.aux1 is not None and self.training else None
        x = self.inception4d(self.inception4c(self.inception4b(x)))
        aux2 = self.aux2(x) if self.aux2 is not None and self.training else None
        x = self.maxpool4(self.inception4e(x))
        x = self.inception5b(self.inception5a(x))
        x = self.fc(self.dropout(torch.flatten(self.avgpool(x), 1)))
        if self.aux_logits and self.training:
            return GoogLeNetOutputs(x, aux2, aux1)
        return x


@register("googlenet", (3, 224, 224), "GoogLeNet / Inception v1 (2014): 9 inception modules, BN, aux classifiers optional")
def googlenet(num_classes: int = 1000, aux_logits: bool = False, dropout: float = 0.2, in_channels: int = 3,
              five_by_five: bool = False) -> GoogLeNet:
    """torchvision-compatible GoogLeNet (6,624,904 parameters without auxiliary classifiers)."""
    return GoogLeNet(num_classes, aux_logits, dropout, in_channels=in_channels, five_by_five=five_by_five)
