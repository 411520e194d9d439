"""``folder:DIR`` datasets and single-image loading: conversion, resizing, corrupt files, empty folders."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from cnnlab import data
from cnnlab.errors import DataError


def _save(path, arr, mode=None):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(arr, mode).save(path)


def _folder(tmp_path, classes=("cat", "dog"), n=5, colour=False):
    rng = np.random.default_rng(0)
    for ci, cls in enumerate(classes):
        for i in range(n):
            shape = (10 + i, 12, 3) if colour else (10 + i, 12)
            arr = np.full(shape, 40 + 150 * ci, dtype=np.uint8) + rng.integers(0, 10, shape, dtype=np.uint8)
            _save(tmp_path / cls / f"{i}.png", arr)
    return tmp_path


def test_folder_dataset_resizes_and_labels_by_subfolder(tmp_path):
    ds = data.load(f"folder:{_folder(tmp_path)}", size=(8, 6))
    assert ds.classes == ["cat", "dog"] and ds.input_shape == (1, 8, 6)
    n = len(ds.y_train) + len(ds.y_val) + len(ds.y_test)
    assert n == 10
    x = torch.cat([ds.x_train, ds.x_val, ds.x_test])
    y = torch.cat([ds.y_train, ds.y_val, ds.y_test])
    # class 0 images are dark (~45/255), class 1 bright (~195/255)
    assert float(x[y == 0].mean()) == pytest.approx(45 / 255, abs=0.02)
    assert float(x[y == 1].mean()) == pytest.approx(195 / 255, abs=0.02)


def test_folder_colour_images_become_rgb_unless_channels_given(tmp_path):
    folder = _folder(tmp_path, colour=True)
    assert data.load(f"folder:{folder}", size=(4, 4)).input_shape == (3, 4, 4)
    assert data.load(f"folder:{folder}", size=(4, 4), channels=1).input_shape == (1, 4, 4)


def test_corrupt_image_is_skipped_with_a_warning_naming_it(tmp_path):
    folder = _folder(tmp_path)
    bad = folder / "dog" / "broken.png"
    good = (folder / "dog" / "0.png").read_bytes()
    bad.write_bytes(good[: len(good) // 2])  # truncated PNG
    (folder / "cat" / "notes.jpg").write_bytes(b"this is not a jpeg")
    with pytest.warns(UserWarning) as record:
        ds = data.load(f"folder:{folder}", size=(8, 8))
    messages = sorted(str(w.message) for w in record)
    assert any("skipping corrupt or unreadable image" in m and "broken.png" in m for m in messages)
    assert any("notes.jpg" in m for m in messages)
    assert len(ds.y_train) + len(ds.y_val) + len(ds.y_test) == 10


def test_empty_folder_and_single_class_are_errors(tmp_path):
    (tmp_path / "a").mkdir()
    with pytest.raises(DataError, match=r"no images found in `.*` \(expected one subfolder per class holding png/jpg"):
        data.load(f"folder:{tmp_path}")
    _save(tmp_path / "a" / "x.png", np.zeros((4, 4), np.uint8))
    with pytest.raises(DataError, match=r"needs at least 2 class subfolders with images; found 1 \(`a`\)"):
        data.load(f"folder:{tmp_path}")
    with pytest.raises(DataError, match="must be an existing folder"):
        data.load(f"folder:{tmp_path / 'missing'}")


def test_two_classes_but_one_all_corrupt_is_an_error(tmp_path):
    _save(tmp_path / "a" / "x.png", np.zeros((4, 4), np.uint8))
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "y.png").write_bytes(b"garbage")
    with pytest.warns(UserWarning, match="y.png"), \
            pytest.raises(DataError, match="needs readable images of at least 2 classes; found 1"):
        data.load(f"folder:{tmp_path}")


def test_load_image_converts_channels_and_size(tmp_path):
    rgb = np.zeros((20, 30, 3), np.uint8)
    rgb[..., 0] = 255  # pure red
    _save(tmp_path / "red.png", rgb)
    grey = data.load_image(tmp_path / "red.png", (7, 9), 1)
    assert grey.shape == (1, 7, 9)
    assert float(grey.mean()) == pytest.approx(76 / 255, abs=1 / 255)  # ITU-R 601 luma of red: 0.299 * 255
    colour = data.load_image(tmp_path / "red.png", (7, 9), 3)
    assert colour.shape == (3, 7, 9) and colour[0].min() == 1.0 and colour[1:].max() == 0.0
    with pytest.raises(DataError, match="does not exist"):
        data.load_image(tmp_path / "none.png", (7, 9), 1)
    (tmp_path / "x.png").write_text("hello")
    with pytest.raises(DataError, match=r"`.*x.png` is not a readable image"):
        data.load_image(tmp_path / "x.png", (7, 9), 1)
