"""Model descriptions <-> JSON (no pickle), and resolving a CLI ``MODEL`` argument.

A description is a JSON-able dict of one of two kinds:

- a zoo model: ``{"zoo": "resnet18", "kwargs": {"num_classes": 10}}``;
- a builder model: ``{"sequential": [{"class": "Conv2D", "config": {...}}, ...], "input_shape": [C, H, W]}``.

Turning a user's MODEL argument (zoo name, JSON file, run folder) into a model is :func:`cnnlab.bundle.resolve`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Dict, Optional, Tuple, Union

from torch import nn

from cnnlab.errors import ConfigError, DataError

__all__ = ["describe", "build", "save", "load", "input_shape_of"]

Desc = Dict[str, Any]


def describe(model: nn.Module) -> Optional[Desc]:
    """The JSON-able description of a model built by cnnlab, or None for any other module.

    A builder model changed after construction (``append``, ``del model[i]``) has no description (None).

    Zoo models (from :func:`cnnlab.zoo.create`) give ``{"zoo", "kwargs"}``; builder models
    (:class:`cnnlab.layers.Sequential`) give ``{"sequential", "input_shape"}``.
    """
    from cnnlab.layers import Sequential
    from cnnlab.zoo.registry import ZOO_ATTR

    desc = getattr(model, ZOO_ATTR, None)
    if isinstance(desc, dict):
        return {"zoo": desc["zoo"], "kwargs": _plain(dict(desc.get("kwargs") or {}))}
    if isinstance(model, Sequential) and not model.is_modified:
        return model.to_config()
    return None


def _plain(value: Any) -> Any:
    """Tuples -> lists recursively, so a description equals its JSON round trip."""
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def build(desc: Desc) -> nn.Module:
    """Build the model a description names (random weights).

    Raises:
        ConfigError: the dict is neither kind of description, or its contents are invalid.
        UnknownNameError: an unknown zoo name or layer class.
    """
    if not isinstance(desc, dict):
        raise ConfigError(f"a model description must be a dict; got {type(desc).__name__}")
    if "zoo" in desc:
        from cnnlab import zoo

        kwargs = desc.get("kwargs") or {}
        if not isinstance(kwargs, dict):
            raise ConfigError(f"\"kwargs\" of a zoo description must be a dict; got {kwargs!r}")
        return zoo.create(desc["zoo"], **kwargs)
    if "sequential" in desc:
        from cnnlab.layers import Sequential

        return Sequential.from_config(desc)
    raise ConfigError("a model description needs a \"zoo\" or a \"sequential\" key; got keys "
                      f"{', '.join(sorted(map(str, desc))) or 'none'}")


def input_shape_of(desc: Desc) -> Tuple[int, ...]:
    """The (C, H, W) input shape a description's model expects."""
    if "sequential" in desc:
        return tuple(int(v) for v in desc["input_shape"])
    if "zoo" in desc:
        from cnnlab.zoo import input_shape_for

        return input_shape_for(desc["zoo"], desc.get("kwargs") or {})
    raise ConfigError("a model description needs a \"zoo\" or a \"sequential\" key")


def save(desc_or_model: Union[Desc, nn.Module], path: Union[str, os.PathLike]) -> Path:
    """Write a description (or the description of a cnnlab model) as JSON, atomically.

    Raises:
        ConfigError: the model was not built by cnnlab (no description), or the description is not JSON-able.
    """
    from cnnlab.io import write_json

    desc = desc_or_model
    if isinstance(desc_or_model, nn.Module):
        desc = describe(desc_or_model)
        if desc is None:
            raise ConfigError(f"cannot describe a {type(desc_or_model).__name__} as JSON: only zoo and builder "
                              "models have a description; save its weights and rebuild it in code")
    if not isinstance(desc, dict):
        raise ConfigError(f"expected a model or a description dict; got {type(desc_or_model).__name__}")
    try:
        json.dumps(desc)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"the model description is not JSON-able ({exc})") from None
    return write_json(path, desc)


def _read_json(path: Path) -> Desc:
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except json.JSONDecodeError as exc:
        raise DataError(f"{path} is not valid JSON ({exc})") from None


def load(path: Union[str, os.PathLike]) -> nn.Module:
    """Read a JSON description and build its model (random weights)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"model description {str(path)!r} does not exist")
    return build(_read_json(path))
