"""The Free Spoken Digit Dataset (FSDD) and its splits, as waveforms ready for a speech model.

FSDD (Jakobovski et al., CC BY-SA 4.0): 3,000 clips ``{digit}_{speaker}_{take}.wav`` (6 speakers × 10
digits × 50 takes, 8 kHz mono) under ``$CNNLAB_DATA/fsdd/recordings`` (default
``~/.cache/cnnlab/datasets/fsdd/recordings``; :mod:`cnnlab.data.store`, ``cnnlab data fetch fsdd``). Splits:

- ``official``: takes 0–4 test, 5–49 train (the speakers overlap); validation = takes 5–9;
- ``speaker:NAME``: every clip of NAME is the test set (an unseen speaker); the other five speakers train,
  their takes 0–4 are the validation set.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from cnnlab.errors import ConfigError, DataError

from cnnlab.apps.speech.audio import load_clip

__all__ = ["Clip", "fsdd_root", "list_fsdd", "split_clips", "load_waveforms", "DIGITS"]

DIGITS = [str(d) for d in range(10)]
_NAME = re.compile(r"^(\d)_([A-Za-z0-9+-]+)_(\d+)\.wav$")


@dataclass(frozen=True)
class Clip:
    """One labelled recording."""

    path: Path
    digit: int
    speaker: str
    take: int


def fsdd_root() -> Path:
    """``$CNNLAB_DATA/fsdd/recordings``, found through :mod:`cnnlab.data.store` (``cnnlab data fetch fsdd``).

    Raises:
        DataError: the dataset is missing (the message names the folder and the fetch command).
    """
    from cnnlab.data import store

    where = store.folder("fsdd") / "recordings"
    if not where.is_dir():
        store.require("fsdd")  # raises the store's one-line error (folder + fetch command)
    return where  # a folder holding fewer clips (a subset, a test) is used as it is


def list_fsdd(root: str | Path | None = None) -> list[Clip]:
    """Every ``{digit}_{speaker}_{take}.wav`` under ``root`` (default :func:`fsdd_root`), sorted by name.

    Raises:
        DataError: no such files.
    """
    root = Path(root) if root is not None else fsdd_root()
    clips = []
    for path in sorted(root.glob("*.wav")):
        m = _NAME.match(path.name)
        if m:
            clips.append(Clip(path, int(m.group(1)), m.group(2), int(m.group(3))))
    if not clips:
        raise DataError(f"no FSDD recordings ({{digit}}_{{speaker}}_{{take}}.wav) in `{root}`")
    return clips


def split_clips(clips: list[Clip], split: str = "official") -> dict[str, list[Clip]]:
    """``{"train", "val", "test"}`` lists of clips for ``"official"`` or ``"speaker:NAME"`` (module docstring).

    Raises:
        ConfigError: an unknown split or speaker.
    """
    if split == "official":
        test = [c for c in clips if c.take < 5]
        val = [c for c in clips if 5 <= c.take < 10]
        train = [c for c in clips if c.take >= 10]
    elif split.startswith("speaker:"):
        name = split.split(":", 1)[1]
        speakers = sorted({c.speaker for c in clips})
        if name not in speakers:
            raise ConfigError(f"`--split speaker:NAME` needs one of the speakers {', '.join(speakers)}; got {name!r}")
        test = [c for c in clips if c.speaker == name]
        val = [c for c in clips if c.speaker != name and c.take < 5]
        train = [c for c in clips if c.speaker != name and c.take >= 5]
    else:
        raise ConfigError(f"`split` must be 'official' or 'speaker:NAME'; got {split!r}")
    return {"train": train, "val": val, "test": test}


def load_waveforms(clips: list[Clip], *, sample_rate: int = 8000, length: int = 8000,
                   top_db: float = 40.0) -> tuple[torch.Tensor, torch.Tensor]:
    """Waveforms (N, length) float32 prepared by :func:`~.audio.load_clip`, and labels (N,) int64."""
    x = np.zeros((len(clips), length), dtype=np.float32)
    for i, clip in enumerate(clips):
        x[i] = load_clip(clip.path, sample_rate=sample_rate, length=length, top_db=top_db)
    return torch.from_numpy(x), torch.tensor([c.digit for c in clips], dtype=torch.int64)
