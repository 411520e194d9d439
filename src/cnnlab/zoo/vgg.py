"""VGG (Simonyan & Zisserman 2015, "Very deep convolutional networks for large-scale image recognition").

Configurations A, B, D, E (VGG-11/13/16/19) with and without batch norm, in torchvision's layout:
``features`` (3×3 convs, padding 1, 2×2 max pools), ``avgpool`` (adaptive 7×7), ``classifier``
(4096-4096-classes with dropout), so torchvision weight files load. VGG-16 has 138,357,544 parameters.
"""

from __future__ import annotations

from typing import List, Sequence, Union

import torch
from torch import nn

from cnnlab.zoo.common import init_torchvision
from cnnlab.zoo.registry import register

__all__ = ["VGG", "CFGS", "make_layers"]

#: numbers are conv output channels, "M" a 2×2/2 max pool (Table 1 of the paper)
CFGS = {
    "A": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "B": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "D": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    "E": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M"],
}


def make_layers(cfg: Sequence[Union[int, str]], batch_norm: bool = False, in_channels: int = 3) -> nn.Sequential:
    """The ``features`` stack of a VGG configuration (torchvision indices: conv[, bn], relu, ..., pool)."""
    layers: List[nn.Module] = []
    for v in cfg:
        if v == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
            continue
        conv = nn.Conv2d(in_channels, int(v), kernel_size=3, padding=1)
        layers += [conv, nn.BatchNorm2d(int(v)), nn.ReLU(inplace=True)] if batch_norm else [conv, nn.ReLU(inplace=True)]
        in_channels = int(v)
    return nn.Sequential(*layers)


class VGG(nn.Module):
    """``features`` → ``avgpool`` (7×7) → flatten → ``classifier``. Shape: (N, 3, 224, 224) -> (N, num_classes)."""

    def __init__(self, features: nn.Sequential, num_classes: int = 1000, dropout: float = 0.5):
        super().__init__()
        self.features = features
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.classifier = nn.Sequential(
            nn.Linear(512 * 7 * 7, 4096), nn.ReLU(True), nn.Dropout(p=dropout),
            nn.Linear(4096, 4096), nn.ReLU(True), nn.Dropout(p=dropout),
            nn.Linear(4096, num_classes),
        )
        init_torchvision(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


def _register(name: str, cfg: str, batch_norm: bool, depth: int) -> None:
    norm = " with batch norm" if batch_norm else ""

    @register(name, (3, 224, 224), f"VGG-{depth} (2014, config {cfg}){norm}: stacked 3×3 convs, 4096-4096 head")
    def factory(num_classes: int = 1000, in_channels: int = 3, dropout: float = 0.5) -> VGG:
        return VGG(make_layers(CFGS[cfg], batch_norm, in_channels), num_classes, dropout)

    factory.__name__ = name
    factory.__doc__ = f"torchvision-compatible {name}."


for _depth, _cfg in ((11, "A"), (13, "B"), (16, "D"), (19, "E")):
    _register(f"vgg{_depth}", _cfg, False, _depth)
    _register(f"vgg{_depth}_bn", _cfg, True, _depth)
