"""Training pairs: alignment with an independent degradation, symmetries, determinism, errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from cnnlab.apps.superres import data
from cnnlab.errors import ConfigError, DataError

from conftest import needs_sr_data, synthetic_rgb


def _y(rgb):
    r, g, b = (rgb[..., k].astype(np.float64) / 255 for k in range(3))
    return (16 + 65.481 * r + 128.553 * g + 24.966 * b) / 255


def _sym(a: np.ndarray, k: int) -> np.ndarray:
    a = np.rot90(a, k % 4)
    return a.T if k >= 4 else a


@pytest.mark.parametrize("upsampled", [False, True])
def test_pairs_are_the_pil_bicubic_degradation_of_the_same_crop(upsampled):
    images = [synthetic_rgb(50, 61, seed=1), synthetic_rgb(40, 37, seed=2)]
    p, s = 5, 3
    pairs = data.make_pairs(images, s, patch=p, n=40, upsampled=upsampled, seed=3)
    assert pairs.x.shape == ((40, 1, p * s, p * s) if upsampled else (40, 1, p, p)) and pairs.y.shape == (40, 1, 15, 15)
    assert len(set(pairs.origin[:, 3].tolist())) == 8  # all 8 symmetries drawn
    for k in range(40):
        idx, i, j, sym = pairs.origin[k].tolist()
        hr = images[idx][:images[idx].shape[0] // s * s, :images[idx].shape[1] // s * s]
        lr = np.asarray(Image.fromarray(hr).resize((hr.shape[1] // s, hr.shape[0] // s), Image.BICUBIC))
        if upsampled:
            src = _y(np.asarray(Image.fromarray(lr).resize(hr.shape[1::-1], Image.BICUBIC)))[i * s:(i + p) * s,
                                                                                           j * s:(j + p) * s]
        else:
            src = _y(lr)[i:i + p, j:j + p]
        np.testing.assert_allclose(pairs.x[k, 0].numpy(), _sym(src, sym), atol=1e-6)
        np.testing.assert_allclose(pairs.y[k, 0].numpy(), _sym(_y(hr)[i * s:(i + p) * s, j * s:(j + p) * s], sym),
                                   atol=1e-6)


def test_pairs_rgb_deterministic_and_without_augmentation():
    images = [synthetic_rgb(30, 30)]
    a = data.make_pairs(images, 2, patch=4, n=10, channels="rgb", augment=False, seed=5)
    b = data.make_pairs(images, 2, patch=4, n=10, channels="rgb", augment=False, seed=5)
    assert a.x.shape == (10, 3, 4, 4) and a.y.shape == (10, 3, 8, 8)
    assert torch.equal(a.x, b.x) and torch.equal(a.y, b.y) and (a.origin[:, 3] == 0).all()
    assert not torch.equal(a.x, data.make_pairs(images, 2, patch=4, n=10, channels="rgb", seed=6).x)
    assert 0 <= float(a.x.min()) and float(a.x.max()) <= 1


def test_pair_errors():
    images = [synthetic_rgb(20, 20)]
    with pytest.raises(ConfigError, match=r"`channels` must be one of y, rgb; got 'lab'"):
        data.make_pairs(images, 2, channels="lab")
    with pytest.raises(DataError, match=r"no image has an LR side ≥ the patch size 11 at scale 2"):
        data.make_pairs(images, 2, patch=11)
    with pytest.raises(ConfigError, match=r"`patch` and `n` must be ≥ 1; got patch=4, n=0"):
        data.make_pairs(images, 2, patch=4, n=0)


def test_missing_data_names_the_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNLAB_DATA", str(tmp_path))
    with pytest.raises(DataError, match=r"super-resolution set 't91' not found: `.*/sr/T91` does not exist"):
        data.load_images("t91")
    with pytest.raises(DataError, match=r"no images .* in `"):
        data.load_images(str(tmp_path))
    with pytest.raises(ConfigError, match=r"Set5 has scales 2, 3 and 4; got 5"):
        data.set5(5)


def test_unreadable_image_is_a_one_line_error(tmp_path):
    bad = tmp_path / "x.png"
    bad.write_text("not an image")
    with pytest.raises(DataError, match=r"`.*x\.png` is not a readable image"):
        data.load_images(str(tmp_path))


@needs_sr_data
def test_t91_loads_91_images():
    images = data.load_images("t91")
    assert len(images) == 91 and all(im.dtype == np.uint8 and im.shape[2] == 3 for im in images)
