"""Pure image rendering: normalisation, colormaps, grids, overlays, PNG / data URI round trips."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from PIL import Image

from cnnlab.errors import ShapeError
from cnnlab import pictures as im


def test_normalize_modes():
    a = np.array([[-2.0, 0.0], [1.0, 2.0]])
    np.testing.assert_allclose(im.normalize(a, "minmax"), [[0, 0.5], [0.75, 1]])
    np.testing.assert_allclose(im.normalize(a, "symmetric"), [[0, 0.5], [0.75, 1]])
    np.testing.assert_allclose(im.normalize(np.array([1.0, 3.0]), "symmetric"), [2 / 3, 1])
    np.testing.assert_allclose(im.normalize(a, "max"), [[0, 0], [0.5, 1]])
    np.testing.assert_allclose(im.normalize(a, "clip"), [[0, 0], [1, 1]])
    assert (im.normalize(np.ones(3), "minmax") == 0).all()
    with pytest.raises(ValueError, match=r"`mode` must be minmax, symmetric, max, clip or std; got 'log'"):
        im.normalize(a, "log")


def test_colorize_uses_the_matplotlib_table():
    from matplotlib import colormaps

    out = im.colorize(np.array([[0.0, 1.0, np.nan]]), "viridis")
    np.testing.assert_array_equal(out[0, 0], (np.array(colormaps["viridis"](0.0)[:3]) * 255).round())
    np.testing.assert_array_equal(out[0, 1], (np.array(colormaps["viridis"](1.0)[:3]) * 255).round())
    np.testing.assert_array_equal(out[0, 2], [128, 128, 128])
    with pytest.raises(ShapeError, match=r"`values` must be a 2-D map; got shape \(2, 2, 2\)"):
        im.colorize(np.zeros((2, 2, 2)))


def test_to_rgb8_layouts_and_overlay_arithmetic():
    chw = np.zeros((3, 2, 4))
    chw[0] = 1.0
    assert im.to_rgb8(chw).shape == (2, 4, 3) and (im.to_rgb8(chw)[..., 0] == 255).all()
    assert im.to_rgb8(np.full((1, 2, 2), 0.5))[0, 0].tolist() == [128, 128, 128]
    img = np.zeros((2, 2))
    heat = np.array([[0.0, 1.0], [0.5, 0.25]])
    ov = im.overlay(img, heat, alpha=0.5, cmap="gray", mode="max")
    assert ov[0, 1].tolist() == [128, 128, 128] and ov[0, 0].tolist() == [0, 0, 0]
    with pytest.raises(ShapeError, match=r"`values` must match the image size"):
        im.overlay(np.zeros((4, 4)), heat)
    with pytest.raises(ShapeError, match=r"`image` must be H×W"):
        im.to_rgb8(np.zeros((2, 2, 5)))


def test_grid_places_tiles_row_major_with_padding():
    tiles = [np.full((2, 3, 3), v, np.uint8) for v in (10, 20, 30)]
    g = im.grid(tiles, ncol=2, pad=1, pad_value=0)
    assert g.shape == (1 + 2 * 3, 1 + 2 * 4, 3)
    assert g[1, 1, 0] == 10 and g[1, 5, 0] == 20 and g[4, 1, 0] == 30 and g[4, 5, 0] == 0 and g[0, 0, 0] == 0
    big = im.grid(tiles, ncol=3, pad=0, scale=2)
    assert big.shape == (4, 18, 3) and big[3, 17, 0] == 30
    with pytest.raises(ShapeError, match=r"`tiles` must all have the same shape"):
        im.grid([np.zeros((2, 2, 3), np.uint8), np.zeros((3, 2, 3), np.uint8)])
    with pytest.raises(ShapeError, match=r"`images` must be N×C×H×W with C = 1 or 3; got shape \(2, 4, 5, 5\)"):
        im.batch_grid(np.zeros((2, 4, 5, 5)))


def test_png_and_data_uri_round_trip(tmp_path):
    rgb = (np.arange(4 * 5 * 3).reshape(4, 5, 3) % 256).astype(np.uint8)
    back = np.asarray(Image.open(io.BytesIO(im.png_bytes(rgb))))
    np.testing.assert_array_equal(back, rgb)
    uri = im.data_uri(rgb)
    assert uri.startswith("data:image/png;base64,")
    np.testing.assert_array_equal(np.asarray(Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1])))), rgb)
    path = im.save_png(tmp_path / "sub" / "x.png", rgb)
    np.testing.assert_array_equal(np.asarray(Image.open(path)), rgb)
    assert sorted(p.name for p in path.parent.iterdir()) == ["x.png"]  # no temporary file left
