"""The three spoken-digit models: sizes counted by hand, one front end for waveforms and features,
and filters that really slide along frequency only."""

from __future__ import annotations

import pytest
import torch

from cnnlab import zoo
from cnnlab.errors import ShapeError

# hand counts: weights + biases (+ BatchNorm γ, β)
FREQ = (1 * 32 * 8 + 32) + 64 + (32 * 32 * 4 + 32) + 64 + 2 * (4 * 22 * (32 * 4 + 22) + 2 * 4 * 22) + (44 * 10 + 10)
CNN2D = (9 * 16 + 16) + 32 + (16 * 32 * 9 + 32) + 64 + (32 * 88 * 9 + 88) + 176 + (88 * 10 + 10)
DNN = (40 * 21 * 36 + 36) + (36 * 36 + 36) + (36 * 10 + 10)


def test_parameter_counts_are_small_and_about_equal():
    counts = {name: zoo.info(name)["params"] for name in ("speech_freq", "speech_cnn2d", "speech_dnn")}
    assert counts == {"speech_freq": FREQ, "speech_cnn2d": CNN2D, "speech_dnn": DNN} == \
        {"speech_freq": 31746, "speech_cnn2d": 31394, "speech_dnn": 31978}
    assert max(counts.values()) <= 50_000 and max(counts.values()) / min(counts.values()) < 1.05


@pytest.mark.parametrize("name", ["speech_freq", "speech_cnn2d", "speech_dnn"])
def test_waveform_and_feature_inputs_give_the_same_scores(name):
    model = zoo.create(name).eval()
    x = torch.randn(3, 8000, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        feats = model.features(x)
        assert feats.shape == (3, 40, 63)
        torch.testing.assert_close(model(x), model(feats), rtol=0, atol=0)
    with pytest.raises(ShapeError, match=r"waveforms \(N, 8000\) at 8000 Hz; got shape \(3, 4000\)"):
        model(x[:, :4000])
    with pytest.raises(ShapeError, match=r"features must have shape \(N, 40, 63\); got \(3, 40, 10\)"):
        model(feats[:, :, :10])


def test_the_frequency_only_filters_never_mix_frames():
    body = zoo.create("speech_freq").body.eval()
    x = torch.randn(1, 40, 63, generator=torch.Generator().manual_seed(0))
    moved = x.clone()
    moved[0, :, 30] += 1.0  # change one frame
    with torch.no_grad():
        a, b = body.features(x[:, None]), body.features(moved[:, None])  # (1, C, F', T)
    changed = (a - b).abs().amax(dim=(0, 1, 2)) > 0  # (T,)
    assert changed.nonzero().flatten().tolist() == [30]
    kernels = [m.kernel_size for m in body.features if isinstance(m, torch.nn.Conv2d)]
    pools = [m.kernel_size for m in body.features if isinstance(m, torch.nn.MaxPool2d)]
    assert kernels == [(8, 1), (4, 1)] and pools == [(3, 1), (2, 1)]


def test_the_2d_cnn_mixes_neighbouring_frames():
    body = zoo.create("speech_cnn2d").body.eval()
    x = torch.randn(1, 40, 63, generator=torch.Generator().manual_seed(0))
    moved = x.clone()
    moved[0, :, 30] += 1.0
    with torch.no_grad():
        a, b = body.features[0](x[:, None]), body.features[0](moved[:, None])  # first 3×3 conv
    assert ((a - b).abs().amax(dim=(0, 1, 2)) > 0).nonzero().flatten().tolist() == [29, 30, 31]


def test_summary_counts_every_speech_model():
    from cnnlab.analysis import summary

    s = summary(zoo.create("speech_freq"))
    assert s.total_params == 31746
    lstm = 63 * 2 * 4 * 22 * (128 + 22)  # frames × directions × gates × hidden × (inputs + recurrent)
    body = summary(zoo.create("speech_freq").body, (40, 63))
    assert body.total_macs == 33 * 63 * 32 * 8 + 8 * 63 * 32 * 32 * 4 + lstm + 44 * 10
