"""LeNet-5 (LeCun, Bottou, Bengio & Haffner 1998, "Gradient-based learning applied to document recognition").

- ``lenet5``: the modern reading used in courses: 6@5×5 conv (padding 2 on 28×28) → ReLU → 2×2 max
  pool → 16@5×5 → ReLU → pool → 120 → 84 → 10 (61,706 parameters).
- ``lenet5_classic``: the 1998 network on 32×32: C1 6@5×5; S2 trainable subsampling (sum of 2×2 times a
  coefficient plus a bias, per map); C3 16@5×5 with the paper's S2→C3 connection table (Table I, 1,516
  parameters); S4; C5 120@5×5; F6 84; squashing f(a) = 1.7159·tanh(2a/3); Euclidean RBF output units
  with fixed ±1 codes (the paper's hand-drawn 7×12 bitmaps are not reproduced; the codes here are a
  fixed random ±1 draw). It returns −distance as logits. 60,000 trainable parameters.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from cnnlab.zoo.registry import register

__all__ = ["LeNet5", "LeNet5Classic", "C3_TABLE", "Subsampling", "PartialConv2d", "ScaledTanh", "EuclideanRBF"]


class LeNet5(nn.Module):
    """Modern LeNet-5 with ``features`` / ``classifier``. Shape: (N, C, 28, 28) -> (N, num_classes)."""

    def __init__(self, num_classes: int = 10, in_channels: int = 1):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 6, 5, padding=2), nn.ReLU(inplace=True), nn.MaxPool2d(2),
            nn.Conv2d(6, 16, 5), nn.ReLU(inplace=True), nn.MaxPool2d(2),
        )
        self.flatten = nn.Flatten()
        self.classifier = nn.Sequential(
            nn.Linear(16 * 5 * 5, 120), nn.ReLU(inplace=True),
            nn.Linear(120, 84), nn.ReLU(inplace=True),
            nn.Linear(84, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.flatten(self.features(x)))


#: Table I of the paper: which S2 maps (columns 0..5) feed each C3 map (0..15)
C3_TABLE = (
    (0, 1, 2), (1, 2, 3), (2, 3, 4), (3, 4, 5), (0, 4, 5), (0, 1, 5),
    (0, 1, 2, 3), (1, 2, 3, 4), (2, 3, 4, 5), (0, 3, 4, 5), (0, 1, 4, 5), (0, 1, 2, 5),
    (0, 1, 3, 4), (1, 2, 4, 5), (0, 2, 3, 5),
    (0, 1, 2, 3, 4, 5),
)


class ScaledTanh(nn.Module):
    """LeCun's squashing function f(a) = A·tanh(S·a) with A = 1.7159, S = 2/3."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return 1.7159 * torch.tanh(x * (2.0 / 3.0))


class Subsampling(nn.Module):
    """S-layer: per map, (sum of a 2×2 block) × coefficient + bias (2 parameters per map)."""

    def __init__(self, channels: int):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        total = F.avg_pool2d(x, 2) * 4.0  # (N, C, H, W) -> (N, C, H/2, W/2), sums of 2×2 blocks
        return total * self.weight.view(1, -1, 1, 1) + self.bias.view(1, -1, 1, 1)


class PartialConv2d(nn.Module):
    """A conv whose output map i sees only the input maps ``table[i]`` (one ``nn.Conv2d`` per output map)."""

    def __init__(self, table, kernel_size: int = 5):
        super().__init__()
        self.table = tuple(tuple(t) for t in table)
        for i, inputs in enumerate(self.table):
            self.register_buffer(f"index{i}", torch.tensor(inputs, dtype=torch.long), persistent=False)
        self.maps = nn.ModuleList(nn.Conv2d(len(t), 1, kernel_size) for t in self.table)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        outs = [conv(x.index_select(1, getattr(self, f"index{i}"))) for i, conv in enumerate(self.maps)]
        return torch.cat(outs, dim=1)


class EuclideanRBF(nn.Module):
    """Output RBF units y_i = Σ_j (x_j − w_ij)², with fixed ±1 codes ``centers`` (a buffer). Returns −y."""

    def __init__(self, in_features: int = 84, num_classes: int = 10, seed: int = 0):
        super().__init__()
        gen = torch.Generator().manual_seed(seed)
        codes = torch.randint(0, 2, (num_classes, in_features), generator=gen, device="cpu").float() * 2 - 1
        self.register_buffer("centers", codes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # (N, 84) - (10, 84) -> (N, 10) squared distances
        return -((x.unsqueeze(1) - self.centers.unsqueeze(0)) ** 2).sum(dim=2)


class LeNet5Classic(nn.Module):
    """LeNet-5 as published in 1998. Shape: (N, 1, 32, 32) -> (N, num_classes) (negative RBF distances)."""

    def __init__(self, num_classes: int = 10, in_channels: int = 1):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 6, 5), ScaledTanh(),  # C1: 6@28×28
            Subsampling(6), ScaledTanh(),  # S2: 6@14×14
            PartialConv2d(C3_TABLE, 5), ScaledTanh(),  # C3: 16@10×10
            Subsampling(16), ScaledTanh(),  # S4: 16@5×5
            nn.Conv2d(16, 120, 5), ScaledTanh(),  # C5: 120@1×1
        )
        self.flatten = nn.Flatten()
        self.classifier = nn.Sequential(nn.Linear(120, 84), ScaledTanh(), EuclideanRBF(84, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.flatten(self.features(x)))


@register("lenet5", (1, 28, 28), "LeNet-5, modern: 6@5×5(pad 2)-pool-16@5×5-pool-120-84-10 with ReLU and max pooling")
def lenet5(num_classes: int = 10, in_channels: int = 1) -> LeNet5:
    """Modern LeNet-5 (61,706 parameters)."""
    return LeNet5(num_classes, in_channels)


@register("lenet5_classic", (1, 32, 32), "LeNet-5 (LeCun 1998): trainable subsampling, S2→C3 table, tanh, RBF output")
def lenet5_classic(num_classes: int = 10, in_channels: int = 1) -> LeNet5Classic:
    """LeNet-5 as in the 1998 paper (60,000 trainable parameters)."""
    return LeNet5Classic(num_classes, in_channels)
