"""The small Keras CNNs of the lecture notes, built with the Keras-style builder.

- ``lecture_cnn``: the "first CNN" of the Keras tutorial the notes walk through (Conv32-pool-Conv64-pool-
  Conv64-Flatten-Dense64-Dense10 on 28×28×1): 55,744 conv parameters, 93,322 in all.
- ``kerasvis_mnist``: the keras-vis MNIST example (Conv32-Conv64-MaxPool-Dropout-Flatten-Dense128-
  Dropout-Dense10): 1,199,882 parameters.
- ``mnist_convnet``: the Keras "Simple MNIST convnet" example: 34,826 parameters.

They output logits (no final softmax), the torch convention for ``nn.CrossEntropyLoss``.
"""

from __future__ import annotations

from typing import Sequence

from cnnlab.errors import ConfigError
from cnnlab.layers import Conv2D, Dense, Dropout, Flatten, MaxPooling2D, Sequential
from cnnlab.zoo.registry import register


@register("lecture_cnn", (1, 28, 28), "Keras tutorial CNN: Conv32-pool-Conv64-pool-Conv64-Dense64-Dense10")
def lecture_cnn(num_classes: int = 10, input_shape: Sequence[int] = (1, 28, 28), width: float = 1.0,
                dropout: float = 0.0) -> Sequential:
    """The lecture's Keras CNN (55,744 conv parameters; 93,322 with the dense head on 1×28×28).

    ``width`` scales every layer's units (32-64-64 filters, 64 dense units; rounded, at least 1) and ``dropout``
    > 0 puts a Dropout before each Dense layer: the knobs a hyper-parameter search turns (``cnnlab tune``).
    The defaults build the lecture's network exactly.
    """
    if isinstance(width, bool) or not isinstance(width, (int, float)) or not width > 0:
        raise ConfigError(f"`width` must be a number > 0; got {width!r}")
    if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0 <= dropout < 1:
        raise ConfigError(f"`dropout` must be a number in [0, 1); got {dropout!r}")
    c1, c2, d = (max(1, round(n * width)) for n in (32, 64, 64))
    drop = [Dropout(float(dropout))] if dropout > 0 else []
    return Sequential([
        Conv2D(c1, 3, activation="relu"), MaxPooling2D(2),
        Conv2D(c2, 3, activation="relu"), MaxPooling2D(2),
        Conv2D(c2, 3, activation="relu"),
        Flatten(), *drop, Dense(d, activation="relu"), *drop, Dense(num_classes),
    ], input_shape=input_shape)


@register("kerasvis_mnist", (1, 28, 28), "keras-vis MNIST CNN: Conv32-Conv64-MaxPool-Dropout-Dense128-Dropout-Dense10")
def kerasvis_mnist(num_classes: int = 10, input_shape: Sequence[int] = (1, 28, 28)) -> Sequential:
    """The keras-vis example network (1,199,882 parameters on 1×28×28)."""
    return Sequential([
        Conv2D(32, 3, activation="relu"), Conv2D(64, 3, activation="relu"), MaxPooling2D(2), Dropout(0.25),
        Flatten(), Dense(128, activation="relu"), Dropout(0.5), Dense(num_classes),
    ], input_shape=input_shape)


@register("mnist_convnet", (1, 28, 28), "Keras 'simple MNIST convnet' example: Conv32-pool-Conv64-pool-Dropout-Dense10")
def mnist_convnet(num_classes: int = 10, input_shape: Sequence[int] = (1, 28, 28)) -> Sequential:
    """The Keras examples' simple MNIST convnet (34,826 parameters on 1×28×28)."""
    return Sequential([
        Conv2D(32, 3, activation="relu"), MaxPooling2D(2),
        Conv2D(64, 3, activation="relu"), MaxPooling2D(2),
        Flatten(), Dropout(0.5), Dense(num_classes),
    ], input_shape=input_shape)
