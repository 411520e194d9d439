"""The files of a run folder, read without the training package: what the model bundle, the tools and
``cnnlab.train`` share.

- ``model.json``: the model description (:mod:`cnnlab.spec`), no pickle;
- ``weights.safetensors`` / ``best.safetensors``: final and best weights;
- ``config.json``: task, preprocessing, dataset (classes, input shape and dtype), options, results;
- ``checkpoint.pt``: the full training state (written and read by :mod:`cnnlab.train.checkpoint`).
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

from cnnlab.errors import CheckpointError, DataError

MODEL_FILE = "model.json"
WEIGHTS_FILE = "weights.safetensors"
BEST_FILE = "best.safetensors"
CONFIG_FILE = "config.json"
CHECKPOINT_FILE = "checkpoint.pt"


def is_run_folder(path: str | Path) -> bool:
    path = Path(path)
    return path.is_dir() and (path / CONFIG_FILE).is_file()


def read_config(path: str | Path) -> dict:
    path = Path(path)
    cfg_path = path / CONFIG_FILE
    if not cfg_path.is_file():
        raise DataError(f"`{path}` is not a run folder (no {CONFIG_FILE})")
    try:
        return json.loads(cfg_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataError(f"`{cfg_path}` is corrupt ({exc})") from None


def read_desc(path: str | Path) -> dict | None:
    desc_path = Path(path) / MODEL_FILE
    if not desc_path.is_file():
        return None
    try:
        return json.loads(desc_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataError(f"`{desc_path}` is corrupt ({exc})") from None


def load_weights(path: str | Path) -> dict[str, torch.Tensor]:
    """Read a safetensors weights file.

    Raises:
        CheckpointError: missing, corrupt or truncated.
    """
    from safetensors.torch import load

    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"weights file `{path}` does not exist")
    try:
        return load(path.read_bytes())
    except Exception as exc:
        reason = str(exc).strip().splitlines()[0][:120] if str(exc).strip() else type(exc).__name__
        raise CheckpointError(f"weights file `{path}` is corrupt or truncated ({reason})") from None


def apply_state(model: torch.nn.Module, state_dict: dict, source: str | Path) -> None:
    """``model.load_state_dict(state_dict)`` with a one-line error naming what does not match."""
    own = model.state_dict()
    missing = [k for k in own if k not in state_dict]
    unexpected = [k for k in state_dict if k not in own]
    wrong = [f"{k} {tuple(state_dict[k].shape)} vs {tuple(v.shape)}" for k, v in own.items()
             if k in state_dict and tuple(state_dict[k].shape) != tuple(v.shape)]
    if missing or unexpected or wrong:
        parts = []
        if missing:
            parts.append(f"missing {', '.join(missing[:3])}{'...' if len(missing) > 3 else ''}")
        if unexpected:
            parts.append(f"unexpected {', '.join(unexpected[:3])}{'...' if len(unexpected) > 3 else ''}")
        if wrong:
            parts.append(f"shape mismatch {', '.join(wrong[:3])}")
        raise CheckpointError(f"weights in `{source}` do not match the model: {'; '.join(parts)}")
    model.load_state_dict(state_dict)
