"""Small, fast training fixtures: sklearn digits and a tiny CNN."""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn


@pytest.fixture(scope="session")
def digits():
    from cnnlab import data

    return data.load("digits")


def tiny_cnn(seed: int = 0, channels: int = 8, dropout: float = 0.0) -> nn.Module:
    """Conv-ReLU-MaxPool-Flatten-(Dropout)-Linear on 1×8×8 inputs, seeded."""
    torch.manual_seed(seed)
    layers = [nn.Conv2d(1, channels, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten()]
    if dropout:
        layers.append(nn.Dropout(dropout))
    layers.append(nn.Linear(channels * 16, 10))
    return nn.Sequential(*layers)


@pytest.fixture
def make_model():
    return tiny_cnn
