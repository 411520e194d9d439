"""Shared helpers of the super-resolution tests: the offline Set5/T91 folder and a synthetic photo."""

from __future__ import annotations

import numpy as np
import pytest

from cnnlab.apps.superres.data import data_root

needs_sr_data = pytest.mark.skipif(not (data_root() / "Set5").is_dir(),
                                   reason="super-resolution data not found (set CNNLAB_DATA to the datasets folder)")


def synthetic_rgb(h: int, w: int, seed: int = 0) -> np.ndarray:
    """A smooth colourful uint8 image with some edges (not symmetric under flips or rotations)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
    img = np.stack([0.5 + 0.4 * np.sin(6 * xx + 2 * yy), 0.5 + 0.4 * np.cos(9 * yy - 3 * xx * yy),
                    (xx + 0.7 * yy) % 0.5 * 2 * 0.8 + 0.1], axis=-1)
    img += rng.normal(0, 0.02, img.shape)
    return (np.clip(img, 0, 1) * 255).round().astype(np.uint8)
