"""Small self-describing SR weight files: the shipped default model and exports of trained runs.

A file is safetensors whose metadata says how to rebuild and use the model: ``zoo`` (name), ``kwargs``
(JSON), ``scale`` and ``channels`` (``y``/``rgb``), plus free-form provenance (``data``, ``command``,
``set5_psnr``). The default model lives in the package (``weights/default_x3.safetensors``, package data).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from torch import nn

from cnnlab.errors import CheckpointError, ConfigError
from cnnlab.io import atomic_write

__all__ = ["SRModel", "save", "load", "resolve", "resolve_any", "load_run", "run_extra", "export_run", "default_path",
           "DEFAULT_SCALES"]

_DIR = Path(__file__).resolve().parent / "weights"
#: scales that have a shipped default model
DEFAULT_SCALES = (3,)


@dataclass
class SRModel:
    """A ready-to-use SR model: the module (eval mode), its scale and channels, and where it came from."""

    model: nn.Module
    scale: int
    channels: str
    source: str
    meta: dict = field(default_factory=dict)

    @property
    def name(self) -> str:
        """The zoo name as a user would ask for it (``espcn_residual`` for ESPCN with ``residual=True``)."""
        zoo_name = self.meta.get("zoo", type(self.model).__name__.lower())
        kwargs = self.meta.get("kwargs") or {}
        if isinstance(kwargs, str):
            try:
                kwargs = json.loads(kwargs)
            except ValueError:
                kwargs = {}
        return f"{zoo_name}_residual" if isinstance(kwargs, dict) and kwargs.get("residual") else zoo_name


def default_path(scale: int) -> Path:
    """The shipped default model's file for ``scale``.

    Raises:
        ConfigError: no default model was trained for that scale.
    """
    if scale not in DEFAULT_SCALES:
        raise ConfigError(f"the default model upscales by {', '.join(map(str, DEFAULT_SCALES))}; got `scale` {scale} "
                          "(train one with `cnnlab sr train --scale N` and pass --model RUN)")
    return _DIR / f"default_x{scale}.safetensors"


def save(model: nn.Module, path: str | Path, *, scale: int, channels: str, **provenance) -> Path:
    """Write ``model``'s weights and how to rebuild it (a zoo model) as one safetensors file, atomically."""
    from safetensors.torch import save as st_save

    from cnnlab import spec

    desc = spec.describe(model)
    if not desc or "zoo" not in desc:
        raise ConfigError(f"only zoo models can be saved as SR weight files; got {type(model).__name__}")
    meta = {"zoo": desc["zoo"], "kwargs": json.dumps(desc.get("kwargs") or {}), "scale": str(scale),
            "channels": channels, **{k: str(v) for k, v in provenance.items()}}
    tensors = {k: v.detach().cpu().contiguous().clone() for k, v in model.state_dict().items()}
    with atomic_write(path, "wb") as fh:
        fh.write(st_save(tensors, metadata=meta))
    return Path(path)


def load(path: str | Path) -> SRModel:
    """Rebuild the model of an SR weight file (eval mode).

    Raises:
        CheckpointError: missing, corrupt, or without the SR metadata.
    """
    from safetensors import SafetensorError
    from safetensors.torch import load as st_load

    from cnnlab import zoo

    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"SR weights `{path}` do not exist")
    raw = path.read_bytes()
    try:
        tensors = st_load(raw)
        header = json.loads(raw[8:8 + int.from_bytes(raw[:8], "little")])
    except (SafetensorError, ValueError, OSError) as exc:
        raise CheckpointError(f"`{path}` is not a safetensors file ({exc})") from None
    meta = header.get("__metadata__") or {}
    if not {"zoo", "kwargs", "scale", "channels"} <= set(meta):
        raise CheckpointError(f"`{path}` has no SR metadata (zoo, kwargs, scale, channels)")
    model = zoo.create(meta["zoo"], **json.loads(meta["kwargs"]))
    try:
        model.load_state_dict(tensors)
    except RuntimeError as exc:
        raise CheckpointError(f"`{path}` does not match {meta['zoo']}: {str(exc).splitlines()[0]}") from None
    return SRModel(model.eval(), int(meta["scale"]), meta["channels"], str(path), meta)


def resolve(ref: str | Path | None, scale: int) -> SRModel:
    """The SR model to use: the shipped default (``None``), an SR weight file, or a ``cnnlab sr train`` run folder.

    Raises:
        ConfigError: the model was trained for another scale (or no default exists for it).
        CheckpointError / DataError: unreadable file or folder.
    """
    if ref is None:
        sr = load(default_path(scale))
    elif Path(ref).is_dir():
        sr = load_run(ref)
    else:
        sr = load(ref)
    if sr.scale != scale:
        raise ConfigError(f"model `{sr.source}` was trained for ×{sr.scale}; got `scale` {scale}")
    return sr


def run_extra(run: str | Path) -> dict:
    """The ``extra`` facts a ``cnnlab sr train`` run recorded in its ``config.json`` (``app == "superres"``).

    Raises:
        DataError: not a run folder, or a run of another application/command.
    """
    from cnnlab.errors import DataError
    from cnnlab.runfolder import read_config

    extra = read_config(run).get("extra") or {}
    if extra.get("app") != "superres":
        raise DataError(f"`{run}` is not a super-resolution run folder (config.json has no extra.app 'superres')")
    return dict(extra)


def load_run(run: str | Path) -> SRModel:
    """The model of a ``cnnlab sr train`` run folder (its final weights) with the scale/channels it recorded.

    Raises:
        DataError: not a super-resolution run folder.
    """
    from cnnlab.train import load_run as core_load_run

    meta = run_extra(run)
    return SRModel(core_load_run(run).model.eval(), int(meta["scale"]), meta["channels"], str(run), meta)


def resolve_any(ref: str | Path | None) -> SRModel:
    """Like :func:`resolve` but takes the model's own scale (the default model: ×3)."""
    if ref is None:
        return load(default_path(DEFAULT_SCALES[0]))
    return load_run(ref) if Path(ref).is_dir() else load(ref)


def export_run(run: str | Path, path: str | Path, *, command: str = "") -> Path:
    """Write a run's model as an SR weight file, with its data, training command and Set5 PSNR as provenance.

    Raises:
        DataError: not an SR run folder. Without Set5 on this machine the PSNR record is left out.
    """
    from cnnlab.apps.superres.data import data_root
    from cnnlab.apps.superres.protocol import evaluate

    sr = load_run(run)
    provenance = {"data": sr.meta.get("data", "?"), "command": command or f"cnnlab sr train (run {Path(run).name})",
                  "patch": sr.meta.get("patch", "?"), "n_train": sr.meta.get("n_train", "?")}
    if sr.scale in (2, 3, 4) and (data_root() / "Set5").is_dir():
        provenance[f"set5_x{sr.scale}_psnr"] = f"{evaluate(sr.model, sr.scale, with_ssim=False).mean('psnr'):.4f}"
    return save(sr.model, path, scale=sr.scale, channels=sr.channels, **provenance)
