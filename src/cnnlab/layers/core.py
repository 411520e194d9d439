"""The builder's base: :class:`Layer` and its registry, :class:`Where` (error positions), argument checks,
activations and padding helpers shared by the conv and pooling layers.

Every concrete layer subclasses :class:`Layer`; the subclass registers itself by class name, so
:func:`layer_from_config` can rebuild any layer (block layers included: importing any module of
:mod:`cnnlab.layers` imports the whole package first, blocks too) from its JSON description.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Dict, List, Optional, Sequence, Tuple

from torch import nn

from cnnlab import shapes
from cnnlab.errors import ConfigError, ShapeError, UnknownNameError
from cnnlab.layers.modules import Maxout

Shape = Tuple[int, ...]

ACTIVATIONS = ("relu", "sigmoid", "tanh", "softmax", "relu6", "leaky_relu", "maxout")


def fmt_shape(shape: Sequence[int]) -> str:
    """``(64, 3, 3)`` -> ``"64×3×3"``."""
    return "×".join(str(int(s)) for s in shape) if len(shape) else "scalar"


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
# padding (conv and pooling)


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
