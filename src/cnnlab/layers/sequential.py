"""``Sequential``: a Keras-style layer list built into a plain ``nn.Sequential`` with every shape known,
and :func:`build_chain`, the walk over a layer list that blocks reuse for their inner stacks.
"""

from __future__ import annotations

from collections import Counter, OrderedDict
from dataclasses import dataclass
from typing import Any, Dict, List, Sequence, Tuple

from torch import nn

from cnnlab.errors import ConfigError
from cnnlab.layers.core import Layer, Shape, Where, layer_from_config

__all__ = ["LayerRecord", "check_input_shape", "build_chain", "Sequential"]


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
