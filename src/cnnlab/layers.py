"""Keras-style layers mapped onto plain ``torch.nn`` modules, with shape inference at construction.

``Sequential([...], input_shape=(C, H, W))`` walks the layer list once, computes every output shape with
:mod:`cnnlab.shapes` (⌊(n + 2p − d·(f−1) − 1)/s⌋ + 1), and emits ordinary modules (``nn.Conv2d``,
``nn.MaxPool2d``, ``nn.Linear``, ``nn.ReLU``, ``nn.Flatten``, ``nn.BatchNorm2d``, ...), so every tool
(summary, the NumPy engine, explain) sees a normal ``torch.nn.Sequential``. Shapes are channels-first
and exclude the batch axis, as in torch.

Naming (Keras-like): each layer gets ``conv2d``, ``conv2d_1``, ``max_pooling2d``, ``dense_2``, ... (a
counter per kind, per model) unless given ``name=``. A layer that needs several modules adds them with a
suffix: ``conv2d_relu`` (the ``activation=``), ``conv2d_pad`` (asymmetric "same" padding, an
``nn.ZeroPad2d``/``nn.ConstantPad*d`` before the window), ``global_average_pooling2d_flatten``,
``embedding_transpose``. Three small non-torch modules exist where torch has none: :class:`Maxout`,
:class:`ChannelsFirst` (after ``Embedding``, so ``Conv1D`` can follow) and :class:`SameAvgPool2d`
(TF "same" average pooling that needs asymmetric padding; padded cells are not counted).

Keras conventions kept: ``padding="same"`` follows TF (extra pixel after), ``strides`` of a pooling
layer default to ``pool_size``, ``BatchNormalization(momentum=0.99, epsilon=1e-3)`` means a running
average keeping 99% (torch ``momentum=0.01``). ``leaky_relu`` uses torch's slope 0.01 by default.
Layer indices in error messages are 0-based positions in the list given to ``Sequential``.
"""

from __future__ import annotations

import math
from collections import Counter, OrderedDict
from dataclasses import dataclass
from typing import Any, ClassVar, Dict, List, Optional, Sequence, Tuple

import torch
from torch import nn
from torch.nn import functional as F

from cnnlab import shapes
from cnnlab.errors import ConfigError, ShapeError, UnknownNameError

Shape = Tuple[int, ...]

__all__ = [
    "Layer", "Sequential", "Conv2D", "Conv1D", "MaxPooling2D", "MaxPooling1D", "AveragePooling2D",
    "AveragePooling1D", "GlobalAveragePooling2D", "GlobalMaxPooling2D", "Flatten", "Dense", "Dropout",
    "BatchNormalization", "Activation", "Embedding", "Maxout", "ChannelsFirst", "SameAvgPool2d",
    "ACTIVATIONS", "layer_from_config", "fmt_shape",
]

ACTIVATIONS = ("relu", "sigmoid", "tanh", "softmax", "relu6", "leaky_relu", "maxout")


def fmt_shape(shape: Sequence[int]) -> str:
    """``(64, 3, 3)`` -> ``"64×3×3"``."""
    return "×".join(str(int(s)) for s in shape) if len(shape) else "scalar"


# ----------------------------------------------------------------------------------------------
# small modules torch lacks


class Maxout(nn.Module):
    """Maxout (Goodfellow et al. 2013): the max over ``pieces`` consecutive channels.

    Shape: (N, C, *) -> (N, C / pieces, *).
    """

    def __init__(self, pieces: int = 2):
        super().__init__()
        self.pieces = int(pieces)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c = x.shape[:2]
        # (N, C, *) -> (N, C/pieces, pieces, *) -> max over pieces
        return x.reshape(n, c // self.pieces, self.pieces, *x.shape[2:]).amax(dim=2)

    def extra_repr(self) -> str:
        return f"pieces={self.pieces}"


class ChannelsFirst(nn.Module):
    """Swap the last two axes: (N, L, D) -> (N, D, L), so an ``Embedding`` can feed a ``Conv1D``."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.transpose(1, 2)


class SameAvgPool2d(nn.Module):
    """TF "same" average pooling with asymmetric padding; padded cells are left out of each mean.

    ``padding`` is ``(left, right, top, bottom)`` as for ``nn.ZeroPad2d``.
    """

    def __init__(self, kernel_size: Tuple[int, int], stride: Tuple[int, int], padding: Tuple[int, int, int, int]):
        super().__init__()
        self.kernel_size, self.stride, self.padding = tuple(kernel_size), tuple(stride), tuple(padding)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        total = F.avg_pool2d(F.pad(x, self.padding), self.kernel_size, self.stride)
        ones = torch.ones((1, 1) + tuple(x.shape[2:]), dtype=x.dtype, device=x.device)
        count = F.avg_pool2d(F.pad(ones, self.padding), self.kernel_size, self.stride)
        return total / count

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


# ----------------------------------------------------------------------------------------------
# where a layer sits (for error messages)


@dataclass(frozen=True)
class Where:
    """Position of a layer being built: index path (``"4"`` or ``"3.1"``), type and incoming shape."""

    path: str
    type: str
    shape: Shape

    def error(self, message: str) -> ShapeError:
        return ShapeError(f"{message} at layer {self.path} ({self.type}, input {fmt_shape(self.shape)})")

    def config_error(self, message: str) -> ConfigError:
        return ConfigError(f"{message} at layer {self.path} ({self.type}, input {fmt_shape(self.shape)})")

    def need_rank(self, ranks: Sequence[int], what: str) -> None:
        if len(self.shape) not in ranks:
            raise self.error(f"expected an input {what}; got {len(self.shape)} axes")


# ----------------------------------------------------------------------------------------------
# argument checks done at construction (no shape needed)


def _positive_int(value: Any, name: str, owner: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"`{name}` must be a positive int; got {value!r} ({owner})")
    return value


def _positive_tuple(value: Any, name: str, owner: str, n: int) -> Tuple[int, ...]:
    if isinstance(value, (str, float)):
        raise ConfigError(f"`{name}` must be an int or a tuple of {n} ints; got {value!r} ({owner})")
    try:
        out = shapes.pair(value, name, n)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{exc} ({owner})") from None
    if any(v < 1 for v in out):
        raise ConfigError(f"`{name}` must be ≥ 1; got {value!r} ({owner})")
    return out


def _padding_arg(value: Any, owner: str, n: int):
    if isinstance(value, str):
        if value.lower() not in ("valid", "same"):
            raise ConfigError(f"`padding` must be \"valid\", \"same\", an int or a tuple; got {value!r} ({owner})")
        return value.lower()
    try:
        out = shapes.pair(value, "padding", n)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{exc} ({owner})") from None
    if any(v < 0 for v in out):
        raise ConfigError(f"`padding` must be ≥ 0; got {value!r} ({owner})")
    return out


def _activation_arg(value: Optional[str], owner: str) -> Optional[str]:
    if value is None or value == "linear":
        return None
    if not isinstance(value, str) or value.lower() not in ACTIVATIONS:
        raise UnknownNameError(f"unknown activation {value!r} ({owner}); known: {', '.join(ACTIVATIONS)}, linear")
    return value.lower()


def _jsonable(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def make_activation(name: str, channels: Optional[int], where: Where, negative_slope: float = 0.01,
                    pieces: int = 2) -> nn.Module:
    """The ``nn.Module`` for an activation name; ``channels`` is checked for maxout."""
    if name == "relu":
        return nn.ReLU()
    if name == "sigmoid":
        return nn.Sigmoid()
    if name == "tanh":
        return nn.Tanh()
    if name == "softmax":
        return nn.Softmax(dim=1)
    if name == "relu6":
        return nn.ReLU6()
    if name == "leaky_relu":
        return nn.LeakyReLU(negative_slope)
    if name == "maxout":
        if channels is None or channels % pieces:
            raise where.error(f"maxout needs channels divisible by `pieces`={pieces}; got {channels} channels")
        return Maxout(pieces)
    raise AssertionError(name)  # _activation_arg guards the names


# ----------------------------------------------------------------------------------------------
# base class and registry


_LAYER_TYPES: Dict[str, type] = {}


class Layer:
    """A Keras-style layer: a config that knows its output shape and the torch modules it becomes.

    Subclasses set ``kind`` (the base of the auto name) and implement :meth:`build`.
    """

    kind: ClassVar[str] = "layer"

    def __init_subclass__(cls, **kw):
        super().__init_subclass__(**kw)
        if not cls.__name__.startswith("_"):
            _LAYER_TYPES[cls.__name__] = cls

    def __init__(self, name: Optional[str] = None):
        if name is not None and (not isinstance(name, str) or not name.isidentifier()):
            raise ConfigError(f"`name` must be a Python identifier (no dots or spaces); got {name!r} "
                              f"({type(self).__name__})")
        self.name = name

    def build(self, shape: Shape, where: Where) -> Tuple[List[Tuple[str, nn.Module]], Shape]:
        """Return ``([(suffix, module), ...], output_shape)`` for input ``shape`` (no batch axis)."""
        raise NotImplementedError

    def get_config(self) -> Dict[str, Any]:
        """Constructor keyword arguments (JSON-able)."""
        return {"name": self.name} if self.name else {}

    def to_config(self) -> Dict[str, Any]:
        """``{"class": "Conv2D", "config": {...}}``: what :func:`layer_from_config` reads back."""
        return {"class": type(self).__name__, "config": self.get_config()}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


def layer_from_config(cfg: Dict[str, Any]) -> Layer:
    """Rebuild a layer from :meth:`Layer.to_config` output.

    Raises:
        ConfigError: the entry is not a ``{"class", "config"}`` dict or its arguments are invalid.
        UnknownNameError: the class is not a cnnlab layer or block.
    """
    import cnnlab.blocks  # noqa: F401  (registers the block layers)

    if not isinstance(cfg, dict) or "class" not in cfg:
        raise ConfigError(f"a layer description must be a dict with \"class\" and \"config\"; got {cfg!r}")
    cls = _LAYER_TYPES.get(cfg["class"])
    if cls is None:
        raise UnknownNameError(f"unknown layer class {cfg['class']!r}; known: {', '.join(sorted(_LAYER_TYPES))}")
    kwargs = dict(cfg.get("config") or {})
    try:
        return cls.from_config(kwargs) if hasattr(cls, "from_config") else cls(**kwargs)
    except TypeError as exc:
        raise ConfigError(f"bad arguments for {cfg['class']}: {exc}") from None


# ----------------------------------------------------------------------------------------------
# convolution


def _resolve_padding(padding, shape: Sequence[int], kernel, strides, dilation) -> List[Tuple[int, int]]:
    if padding == "valid":
        return [(0, 0)] * len(kernel)
    if padding == "same":
        return [shapes.same_padding(n, k, s, d) for n, k, s, d in zip(shape, kernel, strides, dilation)]
    return [(p, p) for p in padding]


def _pad_module(pads: Sequence[Tuple[int, int]], value: float = 0.0) -> nn.Module:
    if len(pads) == 1:
        return nn.ConstantPad1d(pads[0], value)
    (top, bottom), (left, right) = pads
    if value == 0.0:
        return nn.ZeroPad2d((left, right, top, bottom))
    return nn.ConstantPad2d((left, right, top, bottom), value)


class _Conv(Layer):
    dims: ClassVar[int] = 2

    def __init__(self, filters: int, kernel_size, strides=1, padding="valid", dilation_rate=1, groups: int = 1,
                 activation: Optional[str] = None, use_bias: bool = True, name: Optional[str] = None):
        super().__init__(name)
        owner, n = type(self).__name__, self.dims
        self.filters = _positive_int(filters, "filters", owner)
        self.kernel_size = _positive_tuple(kernel_size, "kernel_size", owner, n)
        self.strides = _positive_tuple(strides, "strides", owner, n)
        self.padding = _padding_arg(padding, owner, n)
        self.dilation_rate = _positive_tuple(dilation_rate, "dilation_rate", owner, n)
        self.groups = _positive_int(groups, "groups", owner)
        self.activation = _activation_arg(activation, owner)
        self.use_bias = bool(use_bias)

    def get_config(self):
        return {"filters": self.filters, "kernel_size": list(self.kernel_size), "strides": list(self.strides),
                "padding": _jsonable(self.padding), "dilation_rate": list(self.dilation_rate),
                "groups": self.groups, "activation": self.activation, "use_bias": self.use_bias,
                **super().get_config()}

    def build(self, shape, where):
        n = self.dims
        where.need_rank([n + 1], "(C, H, W)" if n == 2 else "(C, L)")
        channels, spatial = shape[0], shape[1:]
        if channels % self.groups:
            raise where.error(f"input channels ({channels}) must be divisible by `groups`={self.groups}")
        if self.filters % self.groups:
            raise where.error(f"`filters` ({self.filters}) must be divisible by `groups`={self.groups}")
        if self.padding == "same" and any(s > 1 for s in self.strides) and any(d > 1 for d in self.dilation_rate):
            raise where.config_error("\"same\" padding with both `strides` > 1 and `dilation_rate` > 1 is not "
                                     "supported (as in Keras)")
        pads = _resolve_padding(self.padding, spatial, self.kernel_size, self.strides, self.dilation_rate)
        eff = [d * (k - 1) + 1 for k, d in zip(self.kernel_size, self.dilation_rate)]
        padded = [s + a + b for s, (a, b) in zip(spatial, pads)]
        if any(e > p for e, p in zip(eff, padded)):
            what = "kernel_size" if all(d == 1 for d in self.dilation_rate) else "kernel_size` with `dilation_rate"
            raise where.error(f"`{what}` {fmt_shape(eff)} is larger than the input {fmt_shape(padded)} (with padding)")
        out = tuple(shapes.conv_output_size(s, k, st, a, d, padding_end=b) for s, k, st, d, (a, b)
                    in zip(spatial, self.kernel_size, self.strides, self.dilation_rate, pads))
        parts: List[Tuple[str, nn.Module]] = []
        symmetric = all(a == b for a, b in pads)
        if not symmetric:
            parts.append(("_pad", _pad_module(pads)))
        conv_cls = nn.Conv2d if n == 2 else nn.Conv1d
        conv = conv_cls(channels, self.filters, self.kernel_size, stride=self.strides,
                        padding=tuple(a for a, _ in pads) if symmetric else 0,
                        dilation=self.dilation_rate, groups=self.groups, bias=self.use_bias)
        parts.append(("", conv))
        out_shape = (self.filters,) + out
        if self.activation:
            parts.append((f"_{self.activation}", make_activation(self.activation, self.filters, where)))
            if self.activation == "maxout":
                out_shape = (self.filters // 2,) + out
        return parts, out_shape


class Conv2D(_Conv):
    """2-D convolution (Keras ``Conv2D``) -> ``nn.Conv2d`` (+ ``nn.ZeroPad2d`` for asymmetric "same").

    Args:
        filters: output channels F.
        kernel_size: int or (KH, KW).
        strides: int or pair.
        padding: "valid", "same" (TF rule, output ⌈n/s⌉), an int or a pair.
        dilation_rate: int or pair.
        groups: channel groups (``groups == C`` is a depthwise conv).
        activation: one of :data:`ACTIVATIONS`, "linear" or None.
        use_bias: add a bias.
        name: attribute name in the model (default ``conv2d``, ``conv2d_1``, ...).

    Shape: (C, H, W) -> (F, OH, OW) with OH = ⌊(H + pt + pb − d·(KH−1) − 1)/s⌋ + 1.

    Example:
        >>> Sequential([Conv2D(32, 3, activation="relu")], input_shape=(1, 28, 28)).output_shape
        (32, 26, 26)
    """

    kind = "conv2d"
    dims = 2


class Conv1D(_Conv):
    """1-D convolution (Keras ``Conv1D``) -> ``nn.Conv1d``. Shape: (C, L) -> (F, OL). Args as :class:`Conv2D`."""

    kind = "conv1d"
    dims = 1


# ----------------------------------------------------------------------------------------------
# pooling


class _Pool(Layer):
    dims: ClassVar[int] = 2
    mode: ClassVar[str] = "max"

    def __init__(self, pool_size=2, strides=None, padding="valid", name: Optional[str] = None):
        super().__init__(name)
        owner, n = type(self).__name__, self.dims
        self.pool_size = _positive_tuple(pool_size, "pool_size", owner, n)
        self.strides = self.pool_size if strides is None else _positive_tuple(strides, "strides", owner, n)
        self.padding = _padding_arg(padding, owner, n)
        if isinstance(self.padding, tuple) and any(2 * p > k for p, k in zip(self.padding, self.pool_size)):
            raise ConfigError(f"`padding` must be at most half of `pool_size` {fmt_shape(self.pool_size)}; "
                              f"got {fmt_shape(self.padding)} ({owner})")

    def get_config(self):
        return {"pool_size": list(self.pool_size), "strides": list(self.strides),
                "padding": _jsonable(self.padding), **super().get_config()}

    def build(self, shape, where):
        n = self.dims
        where.need_rank([n + 1], "(C, H, W)" if n == 2 else "(C, L)")
        spatial = shape[1:]
        pads = _resolve_padding(self.padding, spatial, self.pool_size, self.strides, (1,) * n)
        padded = [s + a + b for s, (a, b) in zip(spatial, pads)]
        if any(k > p for k, p in zip(self.pool_size, padded)):
            raise where.error(f"`pool_size` {fmt_shape(self.pool_size)} is larger than the input "
                              f"{fmt_shape(padded)} (with padding)")
        out = tuple(shapes.conv_output_size(s, k, st, a, padding_end=b)
                    for s, k, st, (a, b) in zip(spatial, self.pool_size, self.strides, pads))
        symmetric = all(a == b for a, b in pads)
        same = self.padding == "same"
        parts: List[Tuple[str, nn.Module]] = []
        if self.mode == "max":
            if not symmetric:  # -inf padding never wins a max, as TF ignores padded cells
                parts.append(("_pad", _pad_module(pads, float("-inf"))))
            pool_cls = nn.MaxPool2d if n == 2 else nn.MaxPool1d
            parts.append(("", pool_cls(self.pool_size, self.strides,
                                       padding=tuple(a for a, _ in pads) if symmetric else 0)))
        else:
            if not symmetric and n == 2:
                parts.append(("", SameAvgPool2d(self.pool_size, self.strides,
                                                (pads[1][0], pads[1][1], pads[0][0], pads[0][1]))))
            elif not symmetric:
                raise where.config_error("asymmetric \"same\" padding for AveragePooling1D is not supported; "
                                         "use an odd `pool_size` with `strides`=1 or \"valid\"")
            else:
                pool_cls = nn.AvgPool2d if n == 2 else nn.AvgPool1d
                parts.append(("", pool_cls(self.pool_size, self.strides, padding=tuple(a for a, _ in pads),
                                           count_include_pad=not same)))
        return parts, (shape[0],) + out


class MaxPooling2D(_Pool):
    """2-D max pooling (Keras) -> ``nn.MaxPool2d``. ``strides`` default to ``pool_size``.

    Shape: (C, H, W) -> (C, OH, OW).
    """

    kind = "max_pooling2d"


class MaxPooling1D(_Pool):
    """1-D max pooling -> ``nn.MaxPool1d``. Shape: (C, L) -> (C, OL)."""

    kind = "max_pooling1d"
    dims = 1


class AveragePooling2D(_Pool):
    """2-D average pooling -> ``nn.AvgPool2d`` ("same" padding excludes padded cells, as TF does)."""

    kind = "average_pooling2d"
    mode = "avg"


class AveragePooling1D(_Pool):
    """1-D average pooling -> ``nn.AvgPool1d``."""

    kind = "average_pooling1d"
    dims = 1
    mode = "avg"


class _GlobalPool(Layer):
    adaptive: ClassVar[type] = nn.AdaptiveAvgPool2d

    def build(self, shape, where):
        where.need_rank([3], "(C, H, W)")
        return [("", self.adaptive(1)), ("_flatten", nn.Flatten())], (shape[0],)


class GlobalAveragePooling2D(_GlobalPool):
    """Mean over H and W -> ``nn.AdaptiveAvgPool2d(1)`` + ``nn.Flatten``. Shape: (C, H, W) -> (C,)."""

    kind = "global_average_pooling2d"
    adaptive = nn.AdaptiveAvgPool2d


class GlobalMaxPooling2D(_GlobalPool):
    """Max over H and W -> ``nn.AdaptiveMaxPool2d(1)`` + ``nn.Flatten``. Shape: (C, H, W) -> (C,)."""

    kind = "global_max_pooling2d"
    adaptive = nn.AdaptiveMaxPool2d


# ----------------------------------------------------------------------------------------------
# dense and friends


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


# ----------------------------------------------------------------------------------------------
# Sequential


@dataclass(frozen=True)
class LayerRecord:
    """One builder layer in a built model: its position, name, type, shapes and the modules it became."""

    index: str
    name: str
    type: str
    input_shape: Shape
    output_shape: Shape
    modules: Tuple[str, ...]


def check_input_shape(input_shape: Any, name: str = "input_shape") -> Shape:
    """Validate an input shape (positive ints, no batch axis)."""
    try:
        out = tuple(int(v) for v in input_shape)
    except (TypeError, ValueError):
        raise ConfigError(f"`{name}` must be a tuple of positive ints like (C, H, W); got {input_shape!r}") from None
    if not out or any(v < 1 for v in out) or any(isinstance(v, bool) for v in input_shape):
        raise ConfigError(f"`{name}` must be a tuple of positive ints like (C, H, W); got {input_shape!r}")
    return out


def build_chain(layers: Sequence[Layer], shape: Shape, prefix: str = "", context: str = ""
                ) -> Tuple["OrderedDict[str, nn.Module]", Shape, List[LayerRecord]]:
    """Build a list of layers on ``shape``: ``(modules by name, output shape, records)``.

    ``prefix`` is prepended to the index in error messages (``"3."`` inside block 3), ``context`` to
    the type (``" in ResidualBlock"``).
    """
    if isinstance(layers, Layer) or not isinstance(layers, (list, tuple)):
        raise TypeError(f"expected a list of layers; got {type(layers).__name__}")
    modules: "OrderedDict[str, nn.Module]" = OrderedDict()
    records: List[LayerRecord] = []
    counters: Counter = Counter()
    names = {layer.name for layer in layers if isinstance(layer, Layer) and layer.name}
    for i, layer in enumerate(layers):
        if not isinstance(layer, Layer):
            raise TypeError(f"layer {prefix}{i} must be a cnnlab layer (Conv2D, Dense, ...); "
                            f"got {type(layer).__name__}{' ' + context.strip() if context else ''}")
        where = Where(f"{prefix}{i}", type(layer).__name__ + context, tuple(shape))
        if layer.name:
            name = layer.name
        else:
            while True:
                k = counters[layer.kind]
                counters[layer.kind] += 1
                name = layer.kind if k == 0 else f"{layer.kind}_{k}"
                if name not in names and name not in modules:
                    break
        parts, out = layer.build(tuple(shape), where)
        keys = []
        for suffix, module in parts:
            key = name + suffix
            if key in modules:
                raise where.config_error(f"duplicate layer name {key!r}")
            modules[key] = module
            keys.append(key)
        records.append(LayerRecord(f"{prefix}{i}", name, type(layer).__name__, tuple(shape), tuple(out),
                                   tuple(keys)))
        assert all(v >= 1 for v in out), (where, out)  # each layer rejects windows larger than its input
        shape = out
    return modules, tuple(shape), records


class Sequential(nn.Sequential):
    """A Keras-style stack built into a plain ``nn.Sequential`` with every shape known.

    Args:
        layers: cnnlab layers and blocks, in order.
        input_shape: one sample's shape, channels first, no batch axis: (C, H, W), (C, L) or (L,).

    Attributes:
        input_shape, output_shape: shapes without the batch axis.
        records: one :class:`LayerRecord` per builder layer (name, type, input/output shape, modules).
        builder_layers: the layer objects (for :meth:`to_config`).

    Raises:
        ShapeError / ConfigError: a layer does not fit its input; the message names the layer index,
            its type, the incoming shape and the constraint broken.

    Example:
        >>> m = Sequential([Conv2D(32, 3, activation="relu"), MaxPooling2D(2), Flatten(), Dense(10)],
        ...                input_shape=(1, 28, 28))
        >>> [r.output_shape for r in m.records]
        [(32, 26, 26), (32, 13, 13), (5408,), (10,)]
    """

    def __init__(self, layers: Sequence[Layer], input_shape: Sequence[int]):
        shape = check_input_shape(input_shape)
        modules, out, records = build_chain(list(layers) if isinstance(layers, tuple) else layers, shape)
        super().__init__(modules)
        self.input_shape: Shape = shape
        self.output_shape: Shape = out
        self.records: List[LayerRecord] = records
        self.builder_layers: List[Layer] = list(layers)

    def __getitem__(self, idx):
        # a slice is a plain nn.Sequential: its layers no longer match this model's description
        if isinstance(idx, slice):
            return nn.Sequential(OrderedDict(list(self._modules.items())[idx]))
        return super().__getitem__(idx)

    @property
    def is_modified(self) -> bool:
        """True when modules were added, removed or renamed after construction (the description is stale)."""
        return list(self._modules) != [key for record in self.records for key in record.modules]

    def to_config(self) -> Dict[str, Any]:
        """The JSON description ``{"sequential": [...], "input_shape": [...]}`` (see :mod:`cnnlab.spec`).

        Raises:
            ConfigError: the model was changed after construction (``append``, ``del``, ...).
        """
        if self.is_modified:
            raise ConfigError("this Sequential was changed after construction; its layer list no longer "
                              "describes it (build a new Sequential instead)")
        return {"sequential": [layer.to_config() for layer in self.builder_layers],
                "input_shape": list(self.input_shape)}

    @classmethod
    def from_config(cls, desc: Dict[str, Any]) -> "Sequential":
        """Inverse of :meth:`to_config`."""
        if not isinstance(desc, dict) or not isinstance(desc.get("sequential"), list) or "input_shape" not in desc:
            raise ConfigError("a builder description needs \"sequential\" (a list of layers) and \"input_shape\"; "
                              f"got keys {sorted(desc) if isinstance(desc, dict) else type(desc).__name__}")
        return cls([layer_from_config(c) for c in desc["sequential"]], input_shape=desc["input_shape"])
