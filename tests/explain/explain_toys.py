"""Toy models for the explain tests (imported by name: a module called conftest would clash with tests/report)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class MLP(nn.Module):
    """x (N,1,H,W) -> flatten -> W1 -> rectifier -> W2 -> logits; ``act`` picks how the ReLU is written."""

    def __init__(self, d_in: int, d_hidden: int, d_out: int, act: str = "module") -> None:
        super().__init__()
        self.flatten = nn.Flatten()
        self.fc1 = nn.Linear(d_in, d_hidden)
        self.relu = nn.ReLU(inplace=(act == "module_inplace"))
        self.fc2 = nn.Linear(d_hidden, d_out)
        self.act = act

    def forward(self, x):
        z = self.fc1(self.flatten(x))
        if self.act in ("module", "module_inplace"):
            h = self.relu(z)
        elif self.act == "functional":
            h = F.relu(z)
        elif self.act == "functional_inplace_ignored":  # result ignored: relies on the in-place update
            F.relu(z, inplace=True)
            h = z
        elif self.act == "torch_relu_":
            h = torch.relu_(z)
        elif self.act == "tensor_relu":
            h = z.relu()
        else:
            raise AssertionError(self.act)
        return self.fc2(h)


class SmallCNN(nn.Module):
    """conv-relu-pool-conv-relu-pool-linear for 1×8×8 digits (ReLU written in several ways)."""

    def __init__(self, n_classes: int = 10) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(2),
            nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        )
        self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(16 * 2 * 2, 32), nn.ReLU(), nn.Linear(32, n_classes))

    def forward(self, x):
        return self.classifier(self.features(x))


