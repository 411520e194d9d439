"""Model descriptions <-> JSON (no pickle), and resolving a CLI ``MODEL`` argument.

A description is a JSON-able dict of one of two kinds:

- a zoo model: ``{"zoo": "resnet18", "kwargs": {"num_classes": 10}}``;
- a builder model: ``{"sequential": [{"class": "Conv2D", "config": {...}}, ...], "input_shape": [C, H, W]}``.

``resolve(ref)`` accepts a zoo name, a path to a JSON description, or a run folder (a folder holding
``model.json``; ``weights.safetensors`` next to it is loaded when present).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Dict, Optional, Tuple, Union

from torch import nn

from cnnlab.errors import CheckpointError, ConfigError, DataError, UnknownNameError

__all__ = ["describe", "build", "save", "load", "resolve", "input_shape_of"]

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


def _load_weights(model: nn.Module, path: Path) -> None:
    from safetensors.torch import load_file

    try:
        state = load_file(str(path))
    except Exception as exc:  # safetensors raises its own error types for corrupt files
        raise CheckpointError(f"cannot read weights {str(path)!r}: {exc}") from None
    result = model.load_state_dict(state, strict=False)
    if result.missing_keys or result.unexpected_keys:
        raise CheckpointError(f"weights {str(path)!r} do not match the model: missing "
                              f"{list(result.missing_keys)[:5]}, unexpected {list(result.unexpected_keys)[:5]}")


def resolve(ref: Union[str, os.PathLike]) -> Tuple[nn.Module, Desc, Tuple[int, ...]]:
    """Turn a CLI ``MODEL`` argument into ``(model, desc, input_shape)``.

    ``ref`` is a zoo name, a path to a JSON description, or a run folder (``model.json`` plus, when
    present, ``weights.safetensors``, loaded into the model, which is then put in eval mode).

    Raises:
        UnknownNameError: not a file, folder or zoo name.
        DataError: a run folder without ``model.json``.
        CheckpointError: weights that do not fit the described model.
    """
    path = Path(ref)
    if path.is_dir():
        desc_path = path / "model.json"
        if not desc_path.is_file():
            raise DataError(f"run folder {str(path)!r} has no model.json")
        desc = _read_json(desc_path)
        model = build(desc)
        weights = path / "weights.safetensors"
        if weights.is_file():
            _load_weights(model, weights)
            model.eval()
        return model, describe(model) or desc, input_shape_of(desc)
    if path.is_file():
        desc = _read_json(path)
        model = build(desc)
        return model, describe(model) or desc, input_shape_of(desc)
    from cnnlab import zoo

    if str(ref) in zoo.names():
        model = zoo.create(str(ref))
        desc = describe(model)
        return model, desc, input_shape_of(desc)
    raise UnknownNameError(f"MODEL {str(ref)!r} is not a zoo name, a JSON description or a run folder; "
                           f"zoo names: {', '.join(zoo.names())}")
