"""The MNIST reader (sha256 first, then unpickle) and the engine's NumPy-only rule."""

from __future__ import annotations

import gzip
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import cnnlab.scratch
from cnnlab.errors import DataError
from cnnlab.scratch import data

SCRATCH_DIR = Path(cnnlab.scratch.__file__).parent


def _tiny_pickle(path, marker=None):
    def split(n):
        return np.random.default_rng(n).random((n, 784), dtype=np.float32), np.arange(n) % 10

    with gzip.open(path, "wb") as fh:
        pickle.dump((split(3), split(2), split(1)), fh)
    return data.sha256(str(path))


def test_loader_checks_the_sha256_before_unpickling(tmp_path):
    path = tmp_path / "mnist.pkl.gz"
    digest = _tiny_pickle(path)
    splits = data.load_mnist(str(path), expected_sha256=digest)
    assert splits["train"][0].shape == (3, 1, 28, 28) and splits["test"][1].dtype == np.int64
    with pytest.raises(DataError, match=r"has sha256 [0-9a-f]{16}…, expected 0000000000000000…; not loading"):
        data.load_mnist(str(path), expected_sha256="0" * 64)


@pytest.mark.assets
def test_the_installed_mnist_file():
    try:
        path = data.mnist_path()
    except ImportError as exc:
        pytest.skip(str(exc))
    assert data.sha256(path) == data.MNIST_SHA256


def test_no_torch_import_in_the_engine():
    offenders = [p.name for p in SCRATCH_DIR.glob("*.py") if p.name != "verify.py"
                 and any(line.strip().startswith(("import torch", "from torch"))
                         for line in p.read_text().splitlines())]
    assert offenders == []
    code = ("import sys, cnnlab.scratch, cnnlab.scratch.naive, cnnlab.scratch.train, cnnlab.scratch.models, "
            "cnnlab.scratch.examples, cnnlab.scratch.data; print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("module", ["cnnlab.scratch", "cnnlab.scratch.conv", "cnnlab.scratch.model",
                                    "cnnlab.scratch.textbook"])
def test_docstring_examples_run(module):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(module), extraglobs={"np": np})
    assert result.attempted > 0 and result.failed == 0
