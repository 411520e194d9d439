"""The torch bridge: copying models into the NumPy engine and the per-layer comparison."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from cnnlab.errors import ConfigError, ShapeError
from cnnlab.scratch.verify import render, to_scratch, verify


def _zoo_or_skip(name):
    from cnnlab import zoo

    if name not in zoo.names():
        pytest.skip(f"zoo model {name} not registered")
    from cnnlab.bundle import resolve

    b = resolve(name, pretrained=False)
    return b.model, b.desc, b.input_shape


def test_every_mapped_layer_on_a_hand_built_model():
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.ZeroPad2d((1, 0, 2, 1)), nn.Conv2d(3, 4, (3, 2), stride=(1, 2), dilation=(2, 1)),
        nn.BatchNorm2d(4), nn.ReLU(inplace=True), nn.MaxPool2d(2, stride=1, padding=1),
        nn.Conv2d(4, 4, 3, padding="same", groups=2), nn.Sigmoid(), nn.AvgPool2d(2, ceil_mode=True),
        nn.LPPool2d(2, 2), nn.Tanh(), nn.Dropout(0.3), nn.Identity(), nn.AdaptiveAvgPool2d((2, 1)),
        nn.Flatten(), nn.Linear(8, 6), nn.Softmax(dim=1))
    with torch.no_grad():                  # non-trivial running statistics
        model[2].running_mean.uniform_(-0.5, 0.5)
        model[2].running_var.uniform_(0.5, 2.0)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    for dtype in ("float32", "float64"):
        report = verify(model, (3, 13, 17), batch_size=3, dtype=dtype)
        assert report.ok, render(report)
        assert [c.kind for c in report.layers][:3] == ["ZeroPad2d", "Conv2d", "BatchNorm2d"]
        assert set(report.layers[1].diffs) == {"out", "d_input", "d_weight", "d_bias"}
    # float64 agreement is at rounding level, far inside the tolerance
    assert max(max(c.diffs.values()) for c in report.layers) < 1e-12
    # the user's model is untouched (a copy is compared)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items()) and model.training


def test_conv1d_and_train_mode_batch_norm():
    model = nn.Sequential(nn.Conv1d(2, 3, 3, padding=2, dilation=2), nn.BatchNorm1d(3), nn.ReLU(),
                          nn.Conv1d(3, 2, 2, stride=2), nn.Flatten(), nn.Linear(2 * 5, 4))
    report = verify(model, (2, 11), mode="train", dtype="float64")
    assert report.ok and report.mode == "train"
    with pytest.raises(ConfigError, match="dropout with p > 0 cannot be compared in train mode"):
        verify(nn.Sequential(nn.Flatten(), nn.Dropout(0.5)), (2, 3), mode="train")


def test_a_wrong_mapping_is_caught(monkeypatch):
    # the NumPy copy gets a weight off by 0.1%: verify must fail, starting at that layer's output
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(2 * 4 * 4, 3))
    import cnnlab.scratch.verify as bridge

    original = bridge.to_scratch

    def perturbed(m):
        names, net = original(m)
        net.layers[3].params["weight"] = net.layers[3].params["weight"] * (1 + 1e-3)
        return names, net

    monkeypatch.setattr(bridge, "to_scratch", perturbed)
    report = verify(model, (1, 6, 6))
    assert not report.ok
    outs = [c.diffs["out"] <= report.rtol * c.scales["out"] + report.atol for c in report.layers]
    assert outs == [True, True, True, False]
    assert "FAIL" in render(report).splitlines()[-1]


def test_unsupported_layers_and_non_chains_are_named():
    with pytest.raises(ConfigError, match=r"unsupported layer 1 \(LeakyReLU\): the NumPy engine maps "):
        to_scratch(nn.Sequential(nn.Conv2d(1, 1, 3), nn.LeakyReLU()))
    with pytest.raises(ConfigError, match=r"unsupported option in layer 0 \(Conv2d\): padding_mode='reflect'"):
        to_scratch(nn.Sequential(nn.Conv2d(1, 1, 3, padding=1, padding_mode="reflect")))

    class Residual(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(2, 2, 3, padding=1)
            self.relu = nn.ReLU()

        def forward(self, x):
            return self.relu(self.conv(x)) + x

    with pytest.raises(ConfigError, match="the model is not a plain chain of its layers"):
        verify(Residual(), (2, 5, 5))
    with pytest.raises(ShapeError, match=r"input shape \(3, 8, 8\) does not fit the model"):
        verify(nn.Sequential(nn.Conv2d(1, 2, 3)), (3, 8, 8))
    with pytest.raises(ConfigError, match="`dtype` must be float32 or float64"):
        verify(nn.Sequential(nn.ReLU()), (2,), dtype="float16")


@pytest.mark.parametrize("name", ["lecture_cnn", "lenet5"])
def test_zoo_models_pass(name):
    model, _, input_shape = _zoo_or_skip(name)
    report = verify(model, input_shape)
    assert report.ok, render(report)
    assert report.layers[0].kind == "Conv2d" and report.layers[-1].kind == "Linear"
    assert report.loss_diff < 1e-5
    report64 = verify(model, input_shape, dtype="float64", batch_size=2)
    assert max(max(c.diffs.values()) for c in report64.layers) < 1e-12


def test_render_table_lists_every_layer():
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(8, 3))
    text = render(verify(model, (1, 4, 4)))
    lines = text.splitlines()
    assert lines[0].split()[:4] == ["#", "layer", "type", "output"]
    assert len(lines) == 2 + 4 + 1 and lines[2].split()[:4] == ["0", "0", "Conv2d", "2×2×2"]
    assert lines[-1].endswith("PASS") and "1e-06" in lines[-1]
    assert np.isfinite(float(lines[2].split()[4]))
