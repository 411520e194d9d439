"""Drive the Keras 3 / TensorFlow worker (``_keras_worker.py``) from a cnnlab benchmark.

TensorFlow lives in its own venv (``bash benchmarks/setup_keras.sh`` makes ``benchmarks/.venv-keras``);
``CNNLAB_KERAS_PYTHON`` names another interpreter. When neither exists but this Python imports Keras
and TensorFlow, this Python is used.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
WORKER = HERE / "_keras_worker.py"
VENV_PYTHON = HERE / ".venv-keras" / "bin" / "python"


def python() -> tuple[str | None, str]:
    """The interpreter that runs Keras/TF, or ``(None, why not)``."""
    env = os.environ.get("CNNLAB_KERAS_PYTHON")
    candidates = [env] if env else [str(VENV_PYTHON), sys.executable]
    for exe in candidates:
        if not exe or not Path(exe).exists():
            continue
        probe = subprocess.run([exe, "-c", "import os; os.environ.setdefault('KERAS_BACKEND', 'tensorflow'); "
                                "import keras, tensorflow"], capture_output=True, text=True,
                               env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
        if probe.returncode == 0:
            return exe, ""
    return None, ("Keras 3 / TensorFlow not found (run `bash benchmarks/setup_keras.sh`, or set CNNLAB_KERAS_PYTHON)"
                  if not env else f"CNNLAB_KERAS_PYTHON={env} does not import keras and tensorflow")


def save_data(path: Path, x, y) -> Path:
    """Write images (N, 1, 28, 28 float32) and labels for the worker."""
    import numpy as np

    np.savez(path, x=x.numpy().astype("float32"), y=y.numpy().astype("int64"))
    return path


def _env() -> dict:
    return {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "KERAS_BACKEND": "tensorflow"}


class Server:
    """A Keras process that trains one epoch per :meth:`epoch` call (the model stays built and warm)."""

    def __init__(self, exe: str, data: Path, model: str, threads: int, batch_size: int):
        self.log = tempfile.TemporaryFile(mode="w+")  # TensorFlow's start-up chatter; shown if it fails
        self.proc = subprocess.Popen([exe, str(WORKER), "serve", "--data", str(data), "--model", model,
                                      "--threads", str(threads), "--batch-size", str(batch_size)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log, text=True,
                                     env=_env())
        self.info = self._read()

    def _read(self) -> dict:
        line = self.proc.stdout.readline()
        if not line:
            code = self.proc.wait()
            self.log.seek(0)
            raise RuntimeError(f"the Keras worker ended early (exit code {code}): {self.log.read()[-1500:]}")
        return json.loads(line)

    def epoch(self) -> float:
        self.proc.stdin.write("epoch\n")
        self.proc.stdin.flush()
        return float(self._read()["seconds"])

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.write("quit\n")
            self.proc.stdin.flush()
            self.proc.wait(timeout=60)


def short_run(exe: str, data: Path, model: str, threads: int, batch_size: int, epochs: int) -> dict:
    """One fresh Keras process: build, compile and ``fit(epochs=epochs)``; its JSON report."""
    out = subprocess.run([exe, str(WORKER), "short", "--data", str(data), "--model", model, "--threads",
                          str(threads), "--batch-size", str(batch_size), "--epochs", str(epochs)],
                         capture_output=True, text=True, env=_env(), check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])
