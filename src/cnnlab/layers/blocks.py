"""Non-sequential builder pieces usable inside :class:`cnnlab.layers.Sequential`.

- :class:`ResidualBlock` (He et al. 2016, "Deep residual learning"): y = act(body(x) + shortcut(x)); the
  shortcut is the identity when shapes match, else a 1×1 convolution with the needed stride
  ("projection shortcut", option B of the paper).
- :class:`InceptionModule` (Szegedy et al. 2015, "Going deeper with convolutions"): four parallel
  branches, 1×1 | 1×1→3×3 | 1×1→5×5 | 3×3 max-pool→1×1, concatenated along channels.
- :class:`Concatenate`: any parallel branches (lists of layers) on the same input, concatenated along
  channels (spatial sizes must agree).

Each block becomes one small module (:class:`Residual` or :class:`Branches`) whose children are
ordinary ``nn.Sequential`` stacks of plain torch modules, named like the builder's top level
(``residual_block.body.conv2d.weight``, ``inception_module.branch2.conv2d_1.weight``).
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence

import torch
from torch import nn

from cnnlab.errors import ConfigError
from cnnlab.layers.conv import Conv2D
from cnnlab.layers.core import (Layer, Where, _activation_arg, _positive_int, fmt_shape, layer_from_config,
                                make_activation)
from cnnlab.layers.pool import MaxPooling2D
from cnnlab.layers.sequential import build_chain

__all__ = ["ResidualBlock", "InceptionModule", "Concatenate", "Residual", "Branches"]


class Residual(nn.Module):
    """y = act(body(x) + shortcut(x)). Shape: the body's output shape."""

    def __init__(self, body: nn.Module, shortcut: nn.Module, act: Optional[nn.Module] = None):
        super().__init__()
        self.body = body
        self.shortcut = shortcut
        self.act = act if act is not None else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.body(x) + self.shortcut(x))


class Branches(nn.Module):
    """Run each child on the same input and concatenate the outputs along channels (dim 1)."""

    def __init__(self, branches: Dict[str, nn.Module]):
        super().__init__()
        for name, module in branches.items():
            self.add_module(name, module)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([branch(x) for branch in self.children()], dim=1)


def _layer_list(value: Any, name: str, owner: str) -> List[Layer]:
    if isinstance(value, (list, tuple)) and all(isinstance(v, dict) for v in value):
        value = [layer_from_config(v) for v in value]  # from JSON
    if not isinstance(value, (list, tuple)) or not value or not all(isinstance(v, Layer) for v in value):
        raise ConfigError(f"`{name}` must be a non-empty list of cnnlab layers; got {value!r} ({owner})")
    return list(value)


class ResidualBlock(Layer):
    """A residual block: ``act(body(x) + shortcut(x))``.

    Args:
        layers: the body, e.g. ``[Conv2D(64, 3, padding="same", activation="relu"), Conv2D(64, 3, padding="same")]``.
        activation: applied after the addition (default "relu"; None for none).
        shortcut: "auto" (identity if shapes match, else a 1×1 projection conv with stride H/OH),
            "identity" (shapes must match) or "projection" (always the 1×1 conv).
        shortcut_batchnorm: follow the projection conv by ``nn.BatchNorm2d`` (as ResNet does).

    Shape: (C, H, W) -> the body's (F, OH, OW); a projection needs H/OH and W/OW to be whole numbers.

    Raises:
        ShapeError: shapes cannot be added (identity shortcut on a changed shape, non-integer stride).
    """

    kind = "residual_block"

    def __init__(self, layers: Sequence[Layer], activation: Optional[str] = "relu", shortcut: str = "auto",
                 shortcut_batchnorm: bool = False, name: Optional[str] = None):
        super().__init__(name)
        self.layers = _layer_list(layers, "layers", "ResidualBlock")
        self.activation = _activation_arg(activation, "ResidualBlock")
        if shortcut not in ("auto", "identity", "projection"):
            raise ConfigError(f"`shortcut` must be \"auto\", \"identity\" or \"projection\"; got {shortcut!r} "
                              "(ResidualBlock)")
        self.shortcut = shortcut
        self.shortcut_batchnorm = bool(shortcut_batchnorm)

    def get_config(self):
        return {"layers": [layer.to_config() for layer in self.layers], "activation": self.activation,
                "shortcut": self.shortcut, "shortcut_batchnorm": self.shortcut_batchnorm, **super().get_config()}

    def build(self, shape, where: Where):
        where.need_rank([3], "(C, H, W)")
        body, out, _ = build_chain(self.layers, shape, prefix=f"{where.path}.", context=" in ResidualBlock")
        if len(out) != 3:
            raise where.error(f"the residual body must end with a (C, H, W) map; got {fmt_shape(out)}")
        project = self.shortcut == "projection" or (self.shortcut == "auto" and tuple(out) != tuple(shape))
        if not project:
            if tuple(out) != tuple(shape):
                raise where.error(f"an identity shortcut needs the body to keep the shape; body gives "
                                  f"{fmt_shape(out)}")
            shortcut: nn.Module = nn.Identity()
        else:
            (c, h, w), (f, oh, ow) = shape, out
            sh, sw = -(-h // oh), -(-w // ow)
            if (h + sh - 1) // sh != oh or (w + sw - 1) // sw != ow:
                raise where.error(f"the projection shortcut cannot map {h}×{w} to {oh}×{ow} with a strided 1×1 conv")
            conv = nn.Conv2d(c, f, 1, stride=(sh, sw), bias=not self.shortcut_batchnorm)
            shortcut = nn.Sequential(conv, nn.BatchNorm2d(f)) if self.shortcut_batchnorm else conv
        act = make_activation(self.activation, out[0], where) if self.activation else None
        if self.activation == "maxout":
            out = (out[0] // 2,) + tuple(out[1:])
        return [("", Residual(nn.Sequential(body), shortcut, act))], tuple(out)


class Concatenate(Layer):
    """Parallel branches on the same input, concatenated along channels.

    Args:
        branches: a list of layer lists, e.g. ``[[Conv2D(16, 1)], [Conv2D(8, 3, padding="same")]]``.

    Shape: (C, H, W) -> (ΣF_i, OH, OW); every branch must give the same OH×OW.
    """

    kind = "concatenate"

    def __init__(self, branches: Sequence[Sequence[Layer]], name: Optional[str] = None):
        super().__init__(name)
        if not isinstance(branches, (list, tuple)) or len(branches) < 1:
            raise ConfigError(f"`branches` must be a non-empty list of layer lists; got {branches!r} (Concatenate)")
        self.branches = [_layer_list(b, f"branches[{i}]", "Concatenate") for i, b in enumerate(branches)]

    def get_config(self):
        return {"branches": [[layer.to_config() for layer in b] for b in self.branches], **super().get_config()}

    def _build_branches(self, shape, where: Where, label: str):
        modules, outs = {}, []
        for i, branch in enumerate(self.branches):
            mods, out, _ = build_chain(branch, shape, prefix=f"{where.path}.{i}.", context=f" in {label}")
            modules[f"branch{i + 1}"] = nn.Sequential(mods)
            outs.append(out)
        spatial = {tuple(o[1:]) for o in outs}
        if any(len(o) != len(shape) for o in outs) or len(spatial) != 1:
            raise where.error("branches must give maps of the same spatial size to concatenate; got "
                              + ", ".join(fmt_shape(o) for o in outs))
        return [("", Branches(modules))], (sum(o[0] for o in outs),) + tuple(outs[0][1:])

    def build(self, shape, where: Where):
        where.need_rank([2, 3], "(C, H, W) or (C, L)")
        return self._build_branches(shape, where, "Concatenate")


class InceptionModule(Concatenate):
    """GoogLeNet's inception module (v1, with 1×1 reductions), each conv followed by ``activation``.

    Args:
        filters_1x1: branch 1 (1×1 conv).
        filters_3x3_reduce, filters_3x3: branch 2 (1×1 then 3×3, "same").
        filters_5x5_reduce, filters_5x5: branch 3 (1×1 then 5×5, "same").
        pool_proj: branch 4 (3×3 max pool stride 1 "same", then 1×1).
        activation: default "relu".

    Shape: (C, H, W) -> (f1 + f3 + f5 + pool_proj, H, W).

    Example:
        >>> Sequential([InceptionModule(64, 96, 128, 16, 32, 32)], input_shape=(192, 28, 28)).output_shape
        (256, 28, 28)
    """

    kind = "inception_module"

    def __init__(self, filters_1x1: int, filters_3x3_reduce: int, filters_3x3: int, filters_5x5_reduce: int,
                 filters_5x5: int, pool_proj: int, activation: Optional[str] = "relu", name: Optional[str] = None):
        owner = "InceptionModule"
        self.filters = {k: _positive_int(v, k, owner) for k, v in dict(
            filters_1x1=filters_1x1, filters_3x3_reduce=filters_3x3_reduce, filters_3x3=filters_3x3,
            filters_5x5_reduce=filters_5x5_reduce, filters_5x5=filters_5x5, pool_proj=pool_proj).items()}
        self.activation = _activation_arg(activation, owner)
        f, a = self.filters, self.activation
        super().__init__([
            [Conv2D(f["filters_1x1"], 1, activation=a)],
            [Conv2D(f["filters_3x3_reduce"], 1, activation=a), Conv2D(f["filters_3x3"], 3, padding="same", activation=a)],
            [Conv2D(f["filters_5x5_reduce"], 1, activation=a), Conv2D(f["filters_5x5"], 5, padding="same", activation=a)],
            [MaxPooling2D(3, strides=1, padding="same"), Conv2D(f["pool_proj"], 1, activation=a)],
        ], name=name)

    def get_config(self):
        return {**self.filters, "activation": self.activation, **({"name": self.name} if self.name else {})}

    def build(self, shape, where: Where):
        where.need_rank([3], "(C, H, W)")
        return self._build_branches(shape, where, "InceptionModule")
