"""The evaluation protocol: the bicubic golden numbers on Set5, the PIL-vs-MATLAB gap, PSNR of models on Y."""

from __future__ import annotations

import numpy as np
import pytest
from torch import nn

from cnnlab.apps.superres import protocol
from cnnlab.apps.superres.data import SRImage
from cnnlab.errors import ConfigError

from conftest import needs_sr_data, synthetic_rgb


def _y_numpy(rgb: np.ndarray) -> np.ndarray:
    """Independent MATLAB Y in [0, 1] (float64) from the formula in the issue."""
    r, g, b = (rgb[..., k].astype(np.float64) / 255 for k in range(3))
    return (16 + 65.481 * r + 128.553 * g + 24.966 * b) / 255


def _psnr_numpy(a: np.ndarray, b: np.ndarray, shave: int) -> float:
    d = (a - b)[shave:-shave, shave:-shave]
    return 10 * np.log10(1.0 / np.mean(d ** 2))


@needs_sr_data
@pytest.mark.parametrize("scale,golden", [(2, 33.67), (3, 30.40), (4, 28.43)])
def test_bicubic_golden_numbers_on_set5(scale, golden):
    ev = protocol.evaluate(None, scale)
    assert [s.name for s in ev.images] == [f"img_00{i}" for i in range(1, 6)]
    assert round(ev.mean("bicubic_psnr"), 2) == golden
    assert ev.mean("psnr") is None
    # the same number from the formula in NumPy, image by image
    for s, im in zip(ev.images, protocol.set5(scale)):
        from PIL import Image
        bic = np.asarray(Image.fromarray(im.lr).resize(im.hr.shape[1::-1], Image.BICUBIC))
        assert s.bicubic_psnr == pytest.approx(_psnr_numpy(_y_numpy(bic), _y_numpy(im.hr), scale), abs=1e-9)
    assert 0.80 < ev.mean("bicubic_ssim") < 0.94  # papers: 0.9299 / 0.8682 / 0.8104


@needs_sr_data
def test_pil_downscaling_is_close_to_matlab_imresize():
    gap = protocol.resize_gap(3)
    assert 55 < gap["y_psnr"] < 65  # measured 59.44 dB
    assert abs(gap["bicubic_psnr_pil_lr"] - gap["bicubic_psnr_matlab_lr"]) < 0.01  # measured 0.0013 dB
    assert 0 < gap["max_abs_diff"] <= 10  # close, not identical


class _Nearest(nn.Module):
    """An LR-space 'model' that repeats each pixel scale×scale times (its first op is a 1×1 identity conv)."""

    def __init__(self, scale: int):
        super().__init__()
        self.upscale = scale
        self.conv = nn.Conv2d(1, 1, 1, bias=False)
        nn.init.ones_(self.conv.weight)

    def forward(self, x):
        return nn.functional.interpolate(self.conv(x), scale_factor=self.upscale, mode="nearest")


def test_model_psnr_is_measured_on_rounded_y_against_the_hr_image():
    hr = synthetic_rgb(36, 42)
    from PIL import Image
    lr = np.asarray(Image.fromarray(hr).resize((14, 12), Image.BICUBIC))
    ev = protocol.evaluate(_Nearest(3).eval(), 3, [SRImage("toy", hr, lr)], data="toy")
    y_lr = np.round(_y_numpy(lr) * 255) / 255  # the model's Y output is stored as 8-bit
    pred = np.repeat(np.repeat(y_lr, 3, 0), 3, 1)
    s = ev.images[0]
    assert s.psnr == pytest.approx(_psnr_numpy(pred, _y_numpy(hr), 3), abs=1e-5)  # model runs in float32
    assert s.size == (36, 42) and ev.to_dict()["mean"]["psnr"] == s.psnr


def test_wrong_scale_for_an_lr_model_is_refused():
    hr = synthetic_rgb(24, 24)
    with pytest.raises(ConfigError, match=r"this model upscales by 3; got `scale` 2"):
        protocol.evaluate(_Nearest(3).eval(), 2, [SRImage("toy", hr, hr[::2, ::2])])
