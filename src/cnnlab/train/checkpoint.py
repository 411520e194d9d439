"""Checkpoints and weights files, written atomically and read safely.

- Weights: safetensors (no pickle), written to a temporary file and renamed.
- Full-state checkpoints (model, optimiser, scheduler, epoch, step, RNG states, History, early-stopping
  state): ``torch.save`` into memory, then an atomic write; read back only with ``weights_only=True``.

A corrupt or truncated file raises :class:`CheckpointError` before anything is changed.
"""

from __future__ import annotations

import io
from pathlib import Path

import torch

from cnnlab.errors import CheckpointError
from cnnlab.io import atomic_write
from cnnlab.runfolder import apply_state, load_weights  # noqa: F401  (re-exported)

CHECKPOINT_VERSION = 1


def save_checkpoint(path: str | Path, state: dict) -> Path:
    buf = io.BytesIO()
    torch.save(state, buf)
    with atomic_write(path, "wb") as fh:
        fh.write(buf.getbuffer())
    return Path(path)


def load_checkpoint(path: str | Path) -> dict:
    """Read a full-state checkpoint (``weights_only=True``).

    Raises:
        CheckpointError: missing, corrupt, truncated or not a cnnlab checkpoint.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint `{path}` does not exist")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        reason = str(exc).strip().splitlines()[0][:120] if str(exc).strip() else type(exc).__name__
        raise CheckpointError(f"checkpoint `{path}` is corrupt or truncated ({reason}); nothing was changed") from None
    if not isinstance(state, dict) or state.get("version") != CHECKPOINT_VERSION or "model" not in state:
        raise CheckpointError(f"`{path}` is not a cnnlab checkpoint (version {CHECKPOINT_VERSION}); nothing was changed")
    return state


def save_weights(path: str | Path, state_dict: dict) -> Path:
    """Write a state dict as safetensors (tensors copied to contiguous CPU memory; tied weights unshared)."""
    from safetensors.torch import save

    tensors = {k: v.detach().to("cpu").contiguous().clone() for k, v in state_dict.items()}
    data = save(tensors, metadata={"format": "pt"})
    with atomic_write(path, "wb") as fh:
        fh.write(data)
    return Path(path)
