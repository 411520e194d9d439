"""SRCNN 9-1-5 / 9-5-5, FSRCNN and ESPCN: the papers' parameter counts, output sizes, and MACs."""

from __future__ import annotations

import pytest
import torch

from cnnlab import zoo
from cnnlab.analysis import summary
from cnnlab.errors import ConfigError


def _weights(model) -> int:
    return sum(p.numel() for n, p in model.named_parameters() if n.endswith("weight") and p.dim() > 1)


def test_paper_weight_counts():
    assert _weights(zoo.create("srcnn")) == 9 * 9 * 64 + 5 * 5 * 64 * 32 + 5 * 5 * 32 == 57_184
    assert _weights(zoo.create("srcnn_915")) == 9 * 9 * 64 + 64 * 32 + 5 * 5 * 32 == 8_032
    # FSRCNN(56, 12, 4): 12,464 in the paper's table
    assert _weights(zoo.create("fsrcnn")) == 25 * 56 + 56 * 12 + 4 * 9 * 144 + 12 * 56 + 81 * 56 == 12_464
    assert zoo.info("espcn")["params"] == (25 * 64 + 64) + (9 * 64 * 32 + 32) + (9 * 32 * 9 + 9) == 22_729
    fs = zoo.create("fsrcnn")
    assert sum(p.numel() for n, p in fs.named_parameters() if "features" in n and p.dim() == 1
               and not n.endswith("bias")) == 56 + 12 * 5 + 56  # PReLU slopes, one per channel


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_lr_models_enlarge_by_their_scale(scale):
    x = torch.rand(2, 1, 7, 9)
    with torch.no_grad():
        for name in ("fsrcnn", "espcn"):
            model = zoo.create(name, scale=scale)
            assert model.upscale == scale and model(x).shape == (2, 1, 7 * scale, 9 * scale)
        assert zoo.create("espcn", scale=scale, in_channels=3)(torch.rand(1, 3, 5, 5)).shape == (1, 3, 5 * scale,
                                                                                                   5 * scale)
    assert zoo.create("srcnn_915").upscale == 1


def test_espcn_output_is_the_pixel_shuffle_of_its_last_conv():
    model = zoo.create("espcn", scale=2).eval()
    x = torch.rand(1, 1, 4, 5)
    with torch.no_grad():
        maps = model.reconstruction[0](model.features(x))  # (1, 4, 4, 5)
        out = model(x)
    # sub-pixel (i, j) of LR pixel (h, w) is map i·r + j at (h, w)
    assert out[0, 0, 2 * 3 + 1, 2 * 2 + 0] == maps[0, 1 * 2 + 0, 3, 2]


def test_lr_space_models_cost_far_fewer_macs_at_the_same_output():
    # 255×255 output at ×3 (LR 85×85); MACs per layer = weights × pixels it runs on
    sr = summary(zoo.create("srcnn"), (1, 255, 255)).total_macs
    fs = summary(zoo.create("fsrcnn"), (1, 85, 85)).total_macs
    es = summary(zoo.create("espcn"), (1, 85, 85)).total_macs
    assert sr == 57_184 * 255 ** 2
    assert fs == 12_464 * 85 ** 2  # the deconvolution costs Cin·H·W·K² on the LR grid
    assert es == (25 * 64 + 9 * 64 * 32 + 9 * 32 * 9) * 85 ** 2
    assert sr / fs > 40 and sr / es > 20


@pytest.mark.parametrize("name,kw,msg", [
    ("fsrcnn", {"scale": 1}, r"`scale` must be an int from 2 to 8; got 1 \(fsrcnn\)"),
    ("espcn", {"scale": 2.5}, r"`scale` must be an int from 2 to 8; got 2.5 \(espcn\)"),
    ("fsrcnn", {"d": 0}, r"`d` must be a positive int; got 0 \(fsrcnn\)"),
])
def test_bad_arguments(name, kw, msg):
    with pytest.raises(ConfigError, match=msg):
        zoo.create(name, **kw)


def test_espcn_residual_adds_the_bicubic_upscale():
    model = zoo.create("espcn", scale=3, residual=True).eval()
    with torch.no_grad():
        model.reconstruction[0].weight.zero_()
        x = torch.rand(1, 1, 6, 5)
        bic = torch.nn.functional.interpolate(x, scale_factor=3, mode="bicubic", align_corners=False)
        torch.testing.assert_close(model(x), bic)
        plain = zoo.create("espcn", scale=3).eval()
        plain.load_state_dict(model.state_dict())  # same parameters: the residual adds no weights
        torch.testing.assert_close(model(x) - plain(x), bic)
