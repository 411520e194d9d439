"""The model is left as it was (hooks, training flags, parameters, grads); one-line errors; fallbacks."""

from __future__ import annotations

import re

import pytest
import torch
from torch import nn

from analysis_nets import lecture_cnn
from cnnlab.analysis import summary
from cnnlab.errors import ConfigError, ShapeError


def _hook_counts(model):
    return [(len(m._forward_hooks), len(m._forward_pre_hooks), len(m._backward_hooks)) for m in model.modules()]


def _state(model):
    return {k: (v.device, v.clone()) for k, v in model.state_dict().items()}


def test_no_hooks_left_flags_and_weights_restored():
    model = lecture_cnn()
    model.train()
    model[3].eval()  # a mixed state must come back exactly
    user_hook = model[0].register_forward_hook(lambda m, i, o: None)
    flags = [m.training for m in model.modules()]
    hooks, state = _hook_counts(model), _state(model)
    summary(model, (1, 28, 28))
    summary(model, (1, 28, 28), device="cpu", profile=True, repeats=1)
    assert _hook_counts(model) == hooks
    assert [m.training for m in model.modules()] == flags
    after = _state(model)
    assert all(after[k][0] == state[k][0] and torch.equal(after[k][1], state[k][1]) for k in state)
    assert all(p.grad is None for p in model.parameters())  # profiling's backward left no grads
    user_hook.remove()


def test_hooks_removed_and_flags_restored_when_the_forward_fails():
    model = lecture_cnn().train()
    hooks = _hook_counts(model)
    with pytest.raises(ShapeError):
        summary(model, (1, 5, 5))
    assert _hook_counts(model) == hooks and model.training and all(m.training for m in model.modules())


def test_batch_norm_statistics_untouched():
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2)).train()
    before = {k: v.clone() for k, v in model[1].state_dict().items()}
    summary(model, (1, 8, 8), device="cpu")
    assert all(torch.equal(before[k], v) for k, v in model[1].state_dict().items())


def test_existing_grads_survive_profiling():
    model = nn.Sequential(nn.Conv2d(1, 2, 3))
    model(torch.randn(1, 1, 6, 6)).sum().backward()
    grads = [p.grad.clone() for p in model.parameters()]
    summary(model, (1, 6, 6), profile=True, repeats=1)
    assert all(torch.equal(g, p.grad) for g, p in zip(grads, model.parameters()))


def test_meta_failure_falls_back_to_a_real_pass():
    class DataDependent(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(1, 2, 3)

        def forward(self, x):
            y = self.conv(x)
            return y * 2 if y.sum().item() > -1e9 else y  # .item() cannot run on meta

    s = summary(DataDependent(), (1, 6, 6))
    assert s.device == "cpu" and s.total_macs == 2 * 16 * 9
    assert any("meta pass failed" in n for n in s.notes)
    with pytest.raises(ShapeError, match="layer '\\(model\\)' \\(DataDependent\\) raised"):
        summary(DataDependent(), (1, 6, 6), device="meta")


@pytest.mark.parametrize("shape, message", [
    ((28, 28), r"`input_shape` must have 3 axes \(C, H, W\) for layer '0' \(Conv2d\); it received "
               r"\(1, 28, 28\), batch axis included"),
    ((3, 28, 28), r"`input_shape` \(3, 28, 28\) does not fit the model: layer '0' \(Conv2d\) raised "
                  r"RuntimeError: .*expected input\[1, 3, 28, 28\] to have 1 channels"),
    ((1, 5, 5), r"`input_shape` \(1, 5, 5\) does not fit the model: layer '3' \(Conv2d\) raised RuntimeError: "
                r"Calculated padded input size per channel: \(1 x 1\)"),
    ((1, 32, 32), r"does not fit the model: layer '9' \(Linear\) raised RuntimeError: mat1 and mat2 shapes"),
])
def test_shape_errors_name_the_layer(shape, message):
    with pytest.raises(ShapeError, match=message) as info:
        summary(lecture_cnn(), shape)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("shape", [(), (0, 28, 28), "1,28,28", (1.0, 28, 28), (True, 2)])
def test_bad_input_shape_values(shape):
    with pytest.raises(ShapeError, match=r"`input_shape` must be a non-empty tuple of positive ints "
                                         r"without the batch axis, e.g. \(1, 28, 28\); got"):
        summary(lecture_cnn(), shape)


@pytest.mark.parametrize("kwargs, message", [
    ({"batch_size": 0}, r"`batch_size` must be an int ≥ 1; got 0"),
    ({"depth": -1}, r"`depth` must be an int ≥ 0 or None; got -1"),
    ({"repeats": 0}, r"`repeats` must be an int ≥ 1; got 0"),
    ({"dtype": "float32"}, r"`dtype` must be a torch.dtype such as torch.float32; got 'float32'"),
    ({"device": "gpu7"}, r"`device` must be None, 'meta' or a torch device such as 'cpu'; got 'gpu7'"),
    ({"device": "cuda"}, r"`device` cuda differs from the model's device cpu; move the model"),
])
def test_bad_options(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        summary(lecture_cnn(), (1, 28, 28), **kwargs)


def test_profiling_a_meta_model_is_refused():
    with torch.device("meta"):
        model = lecture_cnn()
    with pytest.raises(ConfigError, match=r"`profile=True` times real kernels; the model is on the meta device"):
        summary(model, (1, 28, 28), profile=True)


def test_model_must_be_a_module():
    with pytest.raises(TypeError, match="`model` must be a torch.nn.Module; got function"):
        summary(lambda x: x, (1, 28, 28))


@pytest.mark.parametrize("model, shape, axes", [
    (nn.Conv1d(2, 2, 3), (8,), "2 axes (C, L)"),
    (nn.MaxPool2d(2), (4, 4), "3 axes (C, H, W)"),
    (nn.AvgPool3d(2), (4, 4, 4), "4 axes (C, D, H, W)"),
])
def test_missing_axis_for_conv_and_pool(model, shape, axes):
    with pytest.raises(ShapeError, match=rf"`input_shape` must have {re.escape(axes)} for layer '\(model\)'"):
        summary(model, shape)
