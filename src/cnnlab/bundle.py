"""Model bundles: a model together with what it takes to use it, and one resolver for every command.

A :class:`Bundle` is the model plus its input spec (shape, dtype), its preprocessing (raw input -> model
input: a :class:`cnnlab.preprocess.Normalize` or identity), its labels (class names) and where its weights
came from. :func:`resolve` turns anything a user names into a bundle:

- a run folder (``cnnlab train``'s output): the described model with the run's weights, preprocessing,
  classes, task;
- a JSON model description: the model with random weights;
- a zoo name: its offline pretrained weights when the weight table (:data:`cnnlab.zoo.weights.SPECS`) has
  them (with their preprocessing and ImageNet class names), else random weights;
- any ``torch.nn.Module`` (its input shape is known when cnnlab built it).

Every CLI command, ``explain``, ``art`` and the applications use it, so they cannot disagree about how a
model is fed.

Example:
    >>> b = resolve("lecture_cnn")
    >>> b.input_shape, b.source
    ((1, 28, 28), 'random')
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from cnnlab import preprocess as pre
from cnnlab import runfolder
from cnnlab.errors import ConfigError, DataError, UnknownNameError

__all__ = ["Bundle", "resolve", "input_shape_of", "input_dtype_of"]


@dataclass
class Bundle:
    """A model ready to use (see the module docstring). ``model`` is in eval mode unless it came as a module."""

    model: nn.Module
    name: str
    input_shape: tuple[int, ...] | None
    input_dtype: str = "float32"
    preprocess: nn.Module = field(default_factory=pre.Identity)
    classes: list[str] = field(default_factory=list)
    source: str = "random"  # "trained" (run folder), "pretrained" (offline zoo weights), "random", "module"
    desc: dict | None = None
    task: dict | None = None
    config: dict = field(default_factory=dict)
    path: Path | None = None

    @property
    def weights(self) -> str:
        return self.source

    @property
    def mean(self) -> tuple[float, ...]:
        """Per-channel mean in [0, 1] image units ((x·scale − m)/s = (x − m/scale)/(s/scale)); zeros for identity."""
        return self._stat("mean", 0.0)

    @property
    def std(self) -> tuple[float, ...]:
        """Per-channel std in [0, 1] image units; ones for identity."""
        return self._stat("std", 1.0)

    def _stat(self, name: str, default: float) -> tuple[float, ...]:
        values = getattr(self.preprocess, name, None)
        if values is None:
            channels = self.input_shape[0] if self.input_shape and len(self.input_shape) == 3 else 1
            return (default,) * channels
        scale = getattr(self.preprocess, "scale", 1.0)
        return tuple(v / scale for v in values)

    def norm(self, x: torch.Tensor) -> torch.Tensor:
        """Raw input (images in [0, 1]) -> model input, with the bundle's own preprocessing."""
        return self.preprocess(x)

    def class_name(self, k: int) -> str:
        return self.classes[k] if 0 <= k < len(self.classes) else str(k)

    def require_shape(self, what: str = "this tool") -> tuple[int, ...]:
        """The input shape, or a one-line error saying how to give it."""
        if self.input_shape is None:
            raise ConfigError(f"{what} needs the input shape of {self.name}, which cnnlab did not build; "
                              "pass it explicitly (e.g. input_shape=(3, 224, 224) / --input-shape 3,224,224)")
        return self.input_shape

    def example(self, batch: int = 1, seed: int = 0) -> torch.Tensor:
        """A raw example batch: images uniform in [0, 1], token ids/planes zeros (always a valid id)."""
        shape = (batch, *self.require_shape("an example input"))
        if self.input_dtype.startswith(("int", "uint", "bool")):
            return torch.zeros(shape, dtype=getattr(torch, self.input_dtype))
        return torch.rand(shape, generator=torch.Generator().manual_seed(seed))


def input_shape_of(model: nn.Module) -> tuple[int, ...] | None:
    """The input shape (no batch axis) of a model cnnlab built (zoo or builder), else ``None``."""
    from cnnlab import spec

    try:
        desc = spec.describe(model)
    except Exception:
        desc = None
    if desc is not None:
        return tuple(int(v) for v in spec.input_shape_of(desc))
    shape = getattr(model, "input_shape", None)
    if isinstance(shape, (tuple, list)) and shape and all(isinstance(v, int) for v in shape):
        return tuple(shape)
    return None


def input_dtype_of(model: nn.Module) -> str:
    """``"int64"`` for models whose first layer is an ``nn.Embedding`` (token ids), else ``"float32"``."""
    first = next((m for m in model.modules() if not list(m.children())), None)
    return "int64" if isinstance(first, nn.Embedding) else "float32"


def resolve(ref: Any, *, pretrained: bool = True, weights: str = "final") -> Bundle:
    """A :class:`Bundle` for a run folder, a JSON description, a zoo name, a module or a bundle.

    Args:
        ref: what to resolve (see the module docstring).
        pretrained: load a zoo model's offline pretrained weights when it has some.
        weights: for run folders, ``"final"`` or ``"best"``.

    Raises:
        UnknownNameError: not a folder, a file or a zoo name. DataError: a run folder without ``model.json``
        or a corrupt file. CheckpointError: weights that do not fit. MissingDependencyError: the pretrained
        weights' package is not installed (with the install command).
    """
    if isinstance(ref, Bundle):
        return ref
    if isinstance(ref, nn.Module):
        return Bundle(ref, type(ref).__name__, input_shape_of(ref), input_dtype_of(ref), source="module",
                      desc=_describe(ref))
    if not isinstance(ref, (str, os.PathLike)):
        raise TypeError(f"`model` must be a zoo name, a run folder, a JSON file or an nn.Module; got {type(ref).__name__}")
    path = Path(ref)
    if path.is_dir():
        return _from_run(path, weights)
    if path.is_file():
        desc = _read_json(path)
        return _from_desc(desc, path.stem)
    from cnnlab import zoo

    name = str(ref)
    if name in zoo.names():
        if pretrained and name in zoo.weights.SPECS:
            spec = zoo.weight_spec(name)
            model = zoo.load_pretrained(name)
            classes = zoo.imagenet_classes(short=True) if spec.classes == "imagenet" else []
            return Bundle(model, name, (3, spec.input_size, spec.input_size), "float32", spec.normalizer(), classes,
                          "pretrained", desc=_describe(model))
        return _from_desc({"zoo": name, "kwargs": {}}, name)
    raise UnknownNameError(f"MODEL {name!r} is not a zoo name, a JSON description or a run folder; "
                           f"zoo names: {', '.join(zoo.names())}")


def _describe(model: nn.Module) -> dict | None:
    from cnnlab import spec

    try:
        return spec.describe(model)
    except Exception:
        return None


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataError(f"{path} is not valid JSON ({exc})") from None


def _from_desc(desc: dict, name: str) -> Bundle:
    from cnnlab import spec

    model = spec.build(desc)
    desc = spec.describe(model) or desc
    return Bundle(model.eval(), name, tuple(spec.input_shape_of(desc)), input_dtype_of(model), desc=desc)


def _from_run(path: Path, weights: str) -> Bundle:
    if weights not in ("final", "best"):
        raise ConfigError(f"`weights` must be 'final' or 'best'; got {weights!r}")
    desc_path = path / runfolder.MODEL_FILE
    if not desc_path.is_file():
        raise DataError(f"run folder {str(path)!r} has no {runfolder.MODEL_FILE} (its model was not built by "
                        "cnnlab); load it in Python with cnnlab.train.load_run(path, model=...)")
    from cnnlab import spec

    desc = _read_json(desc_path)
    model = spec.build(desc)
    config = runfolder.read_config(path) if (path / runfolder.CONFIG_FILE).is_file() else {}
    wfile = path / (runfolder.WEIGHTS_FILE if weights == "final" else runfolder.BEST_FILE)
    if not wfile.is_file() and weights == "final" and (path / runfolder.BEST_FILE).is_file():
        wfile = path / runfolder.BEST_FILE  # a run stopped before its end still has its best weights
    source = "random"
    if wfile.is_file():
        runfolder.apply_state(model, runfolder.load_weights(wfile), wfile)
        source = "trained"
    data = config.get("data", {})
    shape = tuple(data["input_shape"]) if data.get("input_shape") else tuple(spec.input_shape_of(desc))
    dtype = data.get("input_dtype") or input_dtype_of(model)
    if "preprocess" in config:
        preprocess = pre.from_config(config["preprocess"])
    else:  # runs written before preprocessing was recorded normalised their images with the data's statistics
        preprocess = pre.for_stats(data.get("mean"), data.get("std"))
    return Bundle(model.eval(), path.name, shape, dtype, preprocess, list(data.get("classes", [])), source,
                  desc=desc, task=config.get("task"), config=config, path=path)
