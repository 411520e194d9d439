"""Shared data of the tuning tests: sklearn's 8×8 digits upsampled to 28×28 (the lecture CNN's input), saved
once as a tensors file; and helpers to run ``cnnlab tune`` in a child process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

SRC = str(Path(__file__).resolve().parents[3] / "src")


@pytest.fixture(scope="session")
def digits28(tmp_path_factory) -> str:
    import torch.nn.functional as F

    from cnnlab import data

    d = data.load("digits")

    def up(x):  # (N, 1, 8, 8) -> (N, 1, 28, 28)
        return F.interpolate(x, size=(28, 28), mode="bilinear", align_corners=False).clamp(0, 1)

    ds = data.from_tensors(up(d.x_train), d.y_train, up(d.x_val), d.y_val, up(d.x_test), d.y_test,
                           name="digits28", classes=d.classes)
    path = tmp_path_factory.mktemp("tune-data") / "digits28.safetensors"
    data.save_tensors(ds, path)
    return f"tensors:{path}"


def child_env() -> dict:
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    env["PYTHONPATH"] = os.pathsep.join([SRC] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
    return env


def start_tune(*args, log: Path) -> subprocess.Popen:
    """``cnnlab tune ARGS`` in a child process (stdout and stderr to ``log``)."""
    with open(log, "ab") as f:
        return subprocess.Popen([sys.executable, "-m", "cnnlab", "tune", *map(str, args)], env=child_env(),
                                stdout=f, stderr=subprocess.STDOUT)
