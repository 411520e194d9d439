"""Whole-image upscaling: tiles give the same pixels as one pass, colours are kept, bad scales are refused."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from cnnlab import zoo
from cnnlab.apps.superres import upscale
from cnnlab.errors import ConfigError, ShapeError

from conftest import synthetic_rgb


@pytest.mark.parametrize("name,kw,factor", [("fsrcnn", {"scale": 3}, 3), ("espcn", {"scale": 2}, 2),
                                            ("srcnn_915", {}, 1), ("espcn", {"scale": 3, "in_channels": 3}, 3)])
def test_tiles_equal_one_pass(name, kw, factor):
    model = zoo.create(name, **kw).eval().double()  # float64: tiles must give the very same numbers
    with torch.no_grad():  # non-trivial weights (SRCNN's N(0, 1e-3) init would hide seams)
        for p in model.parameters():
            p.copy_(torch.randn_like(p) * 0.3)
    c = kw.get("in_channels", 1)
    x = torch.rand(c, 37, 50, dtype=torch.float64)
    whole = upscale.run_tiled(model, x, tile=64)
    tiled = upscale.run_tiled(model, x, tile=16, margin=12)
    assert whole.shape == (c, 37 * factor, 50 * factor)
    torch.testing.assert_close(tiled, whole, atol=1e-9, rtol=1e-9)
    # without margin the seams differ: the margin is what makes tiling exact
    assert (upscale.run_tiled(model, x, tile=16, margin=0) - whole).abs().max() > 1e-3


class _IdentityY(nn.Module):
    """An HR-space 'model' that returns its (bicubic) input: super_resolve must then give bicubic back."""

    upscale = 1

    def __init__(self, channels: int = 1):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 1, bias=False)
        with torch.no_grad():
            self.conv.weight.copy_(torch.eye(channels)[:, :, None, None])

    def forward(self, x):
        return self.conv(x)


@pytest.mark.parametrize("channels", [1, 3])
def test_colours_are_kept(channels):
    lr = synthetic_rgb(30, 44)
    out = upscale.super_resolve(_IdentityY(channels).eval(), lr, 3, tile=16)
    bic = upscale.bicubic(lr, 3)
    assert out.shape == (90, 132, 3) and out.dtype == np.uint8
    diff = np.abs(out.astype(int) - bic.astype(int))
    assert diff.max() <= 2  # Y rounded to 8 bits, then YCbCr -> RGB rounding
    assert np.abs(out.reshape(-1, 3).mean(0) - bic.reshape(-1, 3).mean(0)).max() < 0.5


def test_scale_and_shape_errors():
    lr = synthetic_rgb(12, 12)
    with pytest.raises(ConfigError, match=r"this model upscales by 3; got `scale` 4"):
        upscale.super_resolve(zoo.create("fsrcnn", scale=3).eval(), lr, 4)
    with pytest.raises(ShapeError, match=r"`x` must be one image \(C, H, W\); got \(1, 1, 4, 4\)"):
        upscale.run_tiled(_IdentityY(), torch.zeros(1, 1, 4, 4))
    with pytest.raises(ConfigError, match=r"takes 1 \(Y\) or 3 \(RGB\) channels; this one takes 2"):
        upscale.super_resolve(_IdentityY(2).eval(), lr, 2)
