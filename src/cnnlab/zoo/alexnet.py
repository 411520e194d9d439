"""AlexNet (Krizhevsky, Sutskever & Hinton 2012), in torchvision's single-GPU layout ("one weird trick" widths).

``features`` (5 convs, 3 overlapping 3×3/2 max pools), ``avgpool`` (adaptive 6×6), ``classifier``
(dropout-4096-dropout-4096-classes): 61,100,840 parameters at 1000 classes.
"""

from __future__ import annotations

import torch
from torch import nn

from cnnlab.zoo.registry import register

__all__ = ["AlexNet"]


class AlexNet(nn.Module):
    """Shape: (N, 3, 224, 224) -> (N, num_classes)."""

    def __init__(self, num_classes: int = 1000, dropout: float = 0.5, in_channels: int = 3):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 64, kernel_size=11, stride=4, padding=2), nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(64, 192, kernel_size=5, padding=2), nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(192, 384, kernel_size=3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(384, 256, kernel_size=3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(256, 256, kernel_size=3, padding=1), nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
        )
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
        self.classifier = nn.Sequential(
            nn.Dropout(p=dropout), nn.Linear(256 * 6 * 6, 4096), nn.ReLU(inplace=True),
            nn.Dropout(p=dropout), nn.Linear(4096, 4096), nn.ReLU(inplace=True),
            nn.Linear(4096, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


@register("alexnet", (3, 224, 224), "AlexNet (2012): 11×11/4 stem, overlapping max pools, dropout 4096-4096 head")
def alexnet(num_classes: int = 1000, dropout: float = 0.5, in_channels: int = 3) -> AlexNet:
    """torchvision-compatible AlexNet (61,100,840 parameters at 1000 classes)."""
    return AlexNet(num_classes, dropout, in_channels)
