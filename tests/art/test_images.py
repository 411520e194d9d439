"""Image loading/saving: sources, resizing, atomic writes and one-line errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cnnlab.art.images import load_image, resize_long_side, save_image
from cnnlab.errors import DataError, ShapeError


def test_sources_agree(tmp_path):
    arr = (np.arange(5 * 7 * 3) % 251).astype(np.uint8).reshape(5, 7, 3)
    from_array = load_image(arr)
    assert from_array.shape == (1, 3, 5, 7)
    assert float(from_array[0, 1, 0, 0]) == pytest.approx(1 / 255)
    path = save_image(from_array, tmp_path / "a.png")
    assert torch.allclose(load_image(path), from_array, atol=1 / 510)  # PNG is lossless at 8 bits
    assert torch.equal(load_image(from_array[0]), from_array)


def test_skimage_photo_and_max_side():
    x = load_image("skimage:chelsea", max_side=64)
    assert x.shape == (1, 3, 43, 64) and 0 <= float(x.min()) and float(x.max()) <= 1


def test_resize_long_side_keeps_aspect():
    assert resize_long_side(torch.rand(1, 3, 30, 60), 20).shape == (1, 3, 10, 20)
    with pytest.raises(ShapeError, match="`size` must be at least 8"):
        resize_long_side(torch.rand(1, 3, 30, 60), 4)


def test_errors(tmp_path):
    with pytest.raises(DataError, match=r"`image` file not found: .*nope\.png"):
        load_image(tmp_path / "nope.png")
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not an image")
    with pytest.raises(DataError, match="`style` is not a readable image"):
        load_image(bad, name="style")
    with pytest.raises(DataError, match="unknown skimage photo 'dog'"):
        load_image("skimage:dog")
    with pytest.raises(ShapeError, match=r"must be \(3, H, W\) or \(1, 3, H, W\); got \(1, 1, 4, 4\)"):
        load_image(torch.zeros(1, 1, 4, 4))
    with pytest.raises(TypeError, match="`image` must be a path"):
        load_image(42)
    with pytest.raises(DataError, match=r"`output` must end in one of .png"):
        save_image(torch.zeros(1, 3, 4, 4), tmp_path / "x.gif")
    assert not list(tmp_path.glob(".x.gif*"))


def test_save_is_atomic_on_failure(tmp_path, monkeypatch):
    target = tmp_path / "keep.png"
    save_image(torch.zeros(1, 3, 4, 4), target)
    before = target.read_bytes()
    from PIL import Image

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(Image.Image, "save", boom)
    with pytest.raises(OSError, match="disk full"):
        save_image(torch.ones(1, 3, 4, 4), target)
    assert target.read_bytes() == before and len(list(tmp_path.iterdir())) == 1
