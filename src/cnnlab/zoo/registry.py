"""The model zoo registry: name -> factory, default input shape and a one-line description.

Families register their models with :func:`register`; :func:`create` builds one and tags it with its
description ``{"zoo": name, "kwargs": {...}}`` (read by :func:`cnnlab.spec.describe`). Parameter counts
for :func:`info` are computed on the ``meta`` device, so even VGG-19 costs no memory or init time.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Tuple

import torch
from torch import nn

from cnnlab.errors import ConfigError, UnknownNameError

__all__ = ["register", "create", "info", "names", "input_shape_for", "ZooEntry", "ZOO_ATTR"]

#: attribute set on every zoo model: its JSON description
ZOO_ATTR = "cnnlab_desc"


@dataclass(frozen=True)
class ZooEntry:
    """One registered model."""

    name: str
    factory: Callable[..., nn.Module]
    input_shape: Tuple[int, ...]
    description: str


_REGISTRY: Dict[str, ZooEntry] = {}
_PARAMS_CACHE: Dict[str, int] = {}


def register(name: str, input_shape: Tuple[int, ...], description: str):
    """Decorator registering ``factory`` under ``name``.

    Args:
        name: zoo name (lower case, e.g. ``"resnet18"``).
        input_shape: default (C, H, W) input; ``in_channels=`` replaces C.
        description: one line.
    """

    def deco(factory: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
        if name in _REGISTRY:
            raise ConfigError(f"zoo model {name!r} is already registered")
        _REGISTRY[name] = ZooEntry(name, factory, tuple(int(v) for v in input_shape), description)
        return factory

    return deco


_APPS_LOADED = False


def _load_apps() -> None:
    """Import the model modules of the applications (``cnnlab.apps.MODEL_MODULES``) once.

    Applications sit above the zoo; they register their models with :func:`register` when their model
    module is imported. The zoo names those modules only through that tuple, so the import stays one-way
    in code (zoo never imports an application's names) while ``create("textcnn")`` still works.
    """
    global _APPS_LOADED
    if _APPS_LOADED:
        return
    _APPS_LOADED = True
    import importlib

    apps = importlib.import_module("cnnlab.apps")  # a registration hook by name, like an entry point
    for module in apps.MODEL_MODULES:
        importlib.import_module(module)


def _entry(name: str) -> ZooEntry:
    if isinstance(name, str) and name not in _REGISTRY:
        _load_apps()
    if not isinstance(name, str) or name not in _REGISTRY:
        raise UnknownNameError(f"unknown zoo model {name!r}; known: {', '.join(names())}")
    return _REGISTRY[name]


def names() -> List[str]:
    """All registered model names, sorted (the applications' models included)."""
    _load_apps()
    return sorted(_REGISTRY)


def create(name: str, **kwargs: Any) -> nn.Module:
    """Build zoo model ``name`` with random weights (``kwargs`` go to its factory).

    Raises:
        UnknownNameError: unknown name (the message lists the known ones).
        ConfigError: an argument the factory does not take.

    Example:
        >>> create("lenet5", num_classes=10)(torch.zeros(1, 1, 28, 28)).shape
        torch.Size([1, 10])
    """
    entry = _entry(name)
    sig = inspect.signature(entry.factory)
    unknown = [k for k in kwargs if k not in sig.parameters]
    if unknown:
        raise ConfigError(f"zoo model {name!r} takes {', '.join(sig.parameters) or 'no arguments'}; "
                          f"got unknown {', '.join(unknown)}")
    model = entry.factory(**kwargs)
    setattr(model, ZOO_ATTR, {"zoo": name, "kwargs": dict(kwargs)})
    return model


def input_shape_for(name: str, kwargs: Dict[str, Any] | None = None) -> Tuple[int, ...]:
    """The input shape of ``create(name, **kwargs)``: the default with ``in_channels``/``input_shape`` applied."""
    entry = _entry(name)
    kwargs = kwargs or {}
    if "input_shape" in kwargs:
        return tuple(int(v) for v in kwargs["input_shape"])
    shape = entry.input_shape
    if "in_channels" in kwargs:
        shape = (int(kwargs["in_channels"]),) + shape[1:]
    return shape


def info(name: str) -> Dict[str, Any]:
    """``{"name", "input_shape", "params", "description"}`` of the default model (params counted on meta)."""
    entry = _entry(name)
    if name not in _PARAMS_CACHE:
        with torch.device("meta"):
            model = entry.factory()
        _PARAMS_CACHE[name] = sum(p.numel() for p in model.parameters())
    return {"name": name, "input_shape": list(entry.input_shape), "params": _PARAMS_CACHE[name],
            "description": entry.description}
