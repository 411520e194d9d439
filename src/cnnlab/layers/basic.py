"""Keras "core" layers: Flatten, Dense, Dropout, BatchNormalization, Activation, Embedding."""

from __future__ import annotations

import math
from typing import List, Optional, Tuple

from torch import nn

from cnnlab.errors import ConfigError
from cnnlab.layers.core import Layer, _activation_arg, _positive_int, make_activation
from cnnlab.layers.modules import ChannelsFirst

__all__ = ["Flatten", "Dense", "Dropout", "BatchNormalization", "Activation", "Embedding"]


class Flatten(Layer):
    """-> ``nn.Flatten``. Shape: (C, H, W) -> (C·H·W,)."""

    kind = "flatten"

    def build(self, shape, where):
        return [("", nn.Flatten())], (math.prod(shape),)


class Dense(Layer):
    """Fully connected layer -> ``nn.Linear`` (n·m + m parameters). Shape: (F_in,) -> (units,).

    Args:
        units: output features.
        activation: one of :data:`ACTIVATIONS`, "linear" or None.
        use_bias: add a bias.
    """

    kind = "dense"

    def __init__(self, units: int, activation: Optional[str] = None, use_bias: bool = True,
                 name: Optional[str] = None):
        super().__init__(name)
        self.units = _positive_int(units, "units", "Dense")
        self.activation = _activation_arg(activation, "Dense")
        self.use_bias = bool(use_bias)

    def get_config(self):
        return {"units": self.units, "activation": self.activation, "use_bias": self.use_bias,
                **super().get_config()}

    def build(self, shape, where):
        if len(shape) != 1:
            raise where.error("Dense expects a flat input (features,); add Flatten() or a global pooling "
                              "layer before it")
        parts: List[Tuple[str, nn.Module]] = [("", nn.Linear(shape[0], self.units, bias=self.use_bias))]
        out = self.units
        if self.activation:
            parts.append((f"_{self.activation}", make_activation(self.activation, self.units, where)))
            if self.activation == "maxout":
                out //= 2
        return parts, (out,)


class Dropout(Layer):
    """-> ``nn.Dropout(p=rate)``; identity in eval mode. Shape unchanged."""

    kind = "dropout"

    def __init__(self, rate: float, name: Optional[str] = None):
        super().__init__(name)
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate < 1:
            raise ConfigError(f"`rate` must be a number in [0, 1); got {rate!r} (Dropout)")
        self.rate = float(rate)

    def get_config(self):
        return {"rate": self.rate, **super().get_config()}

    def build(self, shape, where):
        return [("", nn.Dropout(self.rate))], tuple(shape)


class BatchNormalization(Layer):
    """-> ``nn.BatchNorm2d`` on (C, H, W), ``nn.BatchNorm1d`` on (C, L) or (F,).

    Args:
        momentum: Keras meaning: the running statistics keep this fraction (torch momentum = 1 − momentum).
        epsilon: added to the variance.
    """

    kind = "batch_normalization"

    def __init__(self, momentum: float = 0.99, epsilon: float = 1e-3, name: Optional[str] = None):
        super().__init__(name)
        if not 0 <= momentum < 1:
            raise ConfigError(f"`momentum` must be in [0, 1); got {momentum!r} (BatchNormalization)")
        if not epsilon > 0:
            raise ConfigError(f"`epsilon` must be > 0; got {epsilon!r} (BatchNormalization)")
        self.momentum, self.epsilon = float(momentum), float(epsilon)

    def get_config(self):
        return {"momentum": self.momentum, "epsilon": self.epsilon, **super().get_config()}

    def build(self, shape, where):
        where.need_rank([1, 2, 3], "(F,), (C, L) or (C, H, W)")
        cls = nn.BatchNorm2d if len(shape) == 3 else nn.BatchNorm1d
        return [("", cls(shape[0], eps=self.epsilon, momentum=1.0 - self.momentum))], tuple(shape)


class Activation(Layer):
    """A standalone activation: relu, sigmoid, tanh, softmax (over channels), relu6, leaky_relu, maxout.

    Args:
        activation: the name.
        negative_slope: slope of leaky_relu for x < 0 (torch default 0.01).
        pieces: maxout group size (channels must be divisible by it; output has C / pieces channels).
    """

    kind = "activation"

    def __init__(self, activation: str, negative_slope: float = 0.01, pieces: int = 2,
                 name: Optional[str] = None):
        super().__init__(name)
        self.activation = _activation_arg(activation, "Activation")
        if self.activation is None:
            raise ConfigError("`activation` must name a function, not 'linear'/None (Activation)")
        self.negative_slope = float(negative_slope)
        self.pieces = _positive_int(pieces, "pieces", "Activation")

    def get_config(self):
        return {"activation": self.activation, "negative_slope": self.negative_slope, "pieces": self.pieces,
                **super().get_config()}

    def build(self, shape, where):
        module = make_activation(self.activation, shape[0] if shape else None, where,
                                 self.negative_slope, self.pieces)
        out = tuple(shape)
        if self.activation == "maxout":
            out = (shape[0] // self.pieces,) + out[1:]
        return [("", module)], out


class Embedding(Layer):
    """Token ids -> vectors: ``nn.Embedding`` + :class:`ChannelsFirst`. Shape: (L,) ints -> (output_dim, L).

    Args:
        input_dim: vocabulary size.
        output_dim: vector size D (the channels of the next ``Conv1D``).
    """

    kind = "embedding"

    def __init__(self, input_dim: int, output_dim: int, name: Optional[str] = None):
        super().__init__(name)
        self.input_dim = _positive_int(input_dim, "input_dim", "Embedding")
        self.output_dim = _positive_int(output_dim, "output_dim", "Embedding")

    def get_config(self):
        return {"input_dim": self.input_dim, "output_dim": self.output_dim, **super().get_config()}

    def build(self, shape, where):
        where.need_rank([1], "(L,) of token ids")
        return ([("", nn.Embedding(self.input_dim, self.output_dim)), ("_transpose", ChannelsFirst())],
                (self.output_dim, shape[0]))
