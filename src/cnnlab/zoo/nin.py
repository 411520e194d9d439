"""Network in Network (Lin, Chen & Yan 2014): "mlpconv" blocks (a conv followed by 1×1 convs) and global
average pooling instead of fully connected layers.

The CIFAR-10 model of the paper's Caffe release: three mlpconv blocks (192-160-96 on 5×5, 192-192-192
on 5×5, 192-192-classes on 3×3), 3×3/2 max and average pooling (ceil mode, as Caffe), dropout 0.5
between blocks, global average pooling over the class maps. 966,986 parameters for 10 classes.
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from cnnlab.zoo.registry import register

__all__ = ["NIN", "mlpconv"]


def mlpconv(cin: int, channels: Sequence[int], kernel_size: int) -> list:
    """A k×k conv then 1×1 convs ("micro MLP" shared across positions), each followed by ReLU."""
    layers = [nn.Conv2d(cin, channels[0], kernel_size, padding=kernel_size // 2), nn.ReLU(inplace=True)]
    for a, b in zip(channels[:-1], channels[1:]):
        layers += [nn.Conv2d(a, b, 1), nn.ReLU(inplace=True)]
    return layers


class NIN(nn.Module):
    """``features`` (mlpconv ×3 ending in one map per class) → ``avgpool`` (global) → flatten.

    Shape: (N, 3, 32, 32) -> (N, num_classes).
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 3, dropout: float = 0.5):
        super().__init__()
        self.features = nn.Sequential(
            *mlpconv(in_channels, (192, 160, 96), 5), nn.MaxPool2d(3, stride=2, ceil_mode=True), nn.Dropout(dropout),
            *mlpconv(96, (192, 192, 192), 5), nn.AvgPool2d(3, stride=2, ceil_mode=True), nn.Dropout(dropout),
            *mlpconv(192, (192, 192, num_classes), 3),
        )
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.flatten(self.avgpool(self.features(x)))


@register("nin", (3, 32, 32), "Network in Network (2013): mlpconv blocks (conv + 1×1 convs), global average pooling")
def nin(num_classes: int = 10, in_channels: int = 3, dropout: float = 0.5) -> NIN:
    """NIN for CIFAR-sized inputs (966,986 parameters for 10 classes)."""
    return NIN(num_classes, in_channels, dropout)
