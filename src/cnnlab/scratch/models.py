"""The lecture CNNs built from NumPy layers (same architecture and parameter count as the zoo's).

- ``lecture_cnn``: Conv 32 → pool → Conv 64 → pool → Conv 64 → Flatten → Dense 64 → Dense 10, 3×3
  kernels, valid padding, ReLU, 2×2 max pooling, on 1×28×28 (93,322 parameters, 55,744 in the convs);
- ``lenet5``: LeCun et al. 1998 in its modern form: Conv 6 (5×5, pad 2) → pool → Conv 16 (5×5) → pool →
  Dense 120 → Dense 84 → Dense 10 (61,706 parameters), ReLU and max pooling by default.
"""

from __future__ import annotations

from cnnlab.errors import UnknownNameError
from cnnlab.scratch.model import (AvgPool2d, Conv2d, Flatten, Linear, MaxPool2d, ReLU, Sequential,
                                  Sigmoid, Tanh)


def lecture_cnn(in_channels: int = 1, num_classes: int = 10, seed: int = 0) -> Sequential:
    """The Keras-style lecture CNN. Shape: (N, 1, 28, 28) -> (N, 10)"""
    s = seed
    return Sequential(
        Conv2d(in_channels, 32, 3, rng=s), ReLU(), MaxPool2d(2),        # 26×26×32 -> 13×13×32
        Conv2d(32, 64, 3, rng=s + 1), ReLU(), MaxPool2d(2),             # 11×11×64 -> 5×5×64
        Conv2d(64, 64, 3, rng=s + 2), ReLU(),                           # 3×3×64
        Flatten(), Linear(3 * 3 * 64, 64, rng=s + 3), ReLU(), Linear(64, num_classes, rng=s + 4),
    )


def lenet5(in_channels: int = 1, num_classes: int = 10, seed: int = 0, activation: str = "relu",
           pool: str = "max") -> Sequential:
    """LeNet-5 on 28×28 inputs (padding 2 on the first conv). Shape: (N, 1, 28, 28) -> (N, 10)"""
    act = {"relu": ReLU, "tanh": Tanh, "sigmoid": Sigmoid}[activation]
    pooling = {"max": MaxPool2d, "avg": AvgPool2d}[pool]
    s = seed
    return Sequential(
        Conv2d(in_channels, 6, 5, padding=2, rng=s), act(), pooling(2),    # 28×28×6 -> 14×14×6
        Conv2d(6, 16, 5, rng=s + 1), act(), pooling(2),                    # 10×10×16 -> 5×5×16
        Flatten(), Linear(16 * 5 * 5, 120, rng=s + 2), act(),
        Linear(120, 84, rng=s + 3), act(), Linear(84, num_classes, rng=s + 4),
    )


MODELS = {"lecture_cnn": lecture_cnn, "lenet5": lenet5}


def create(name: str, **kwargs) -> Sequential:
    """Build a NumPy model by name (``lecture_cnn`` or ``lenet5``)."""
    if name not in MODELS:
        raise UnknownNameError(f"unknown scratch model {name!r}; known: {', '.join(MODELS)}")
    return MODELS[name](**kwargs)
