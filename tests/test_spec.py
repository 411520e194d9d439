"""Model descriptions: JSON round trips (no pickle), build/save/load, and resolving MODEL arguments."""

from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import save_file
from torch import nn

from cnnlab import spec, zoo
from cnnlab.blocks import Concatenate, InceptionModule, ResidualBlock
from cnnlab.errors import CheckpointError, ConfigError, DataError, UnknownNameError
from cnnlab.layers import (Activation, BatchNormalization, Conv2D, Dense, Dropout, GlobalAveragePooling2D,
                           MaxPooling2D, Sequential)


def branchy_model() -> Sequential:
    return Sequential([
        Conv2D(8, 3, padding="same", activation="relu"), BatchNormalization(),
        ResidualBlock([Conv2D(8, 3, strides=2, padding="same", activation="relu"), Conv2D(8, 3, padding="same")],
                      shortcut_batchnorm=True),
        InceptionModule(4, 2, 4, 2, 4, 4),
        Concatenate([[Conv2D(2, 1)], [MaxPooling2D(3, strides=1, padding="same"), Conv2D(3, 1)]]),
        Activation("leaky_relu", negative_slope=0.2), GlobalAveragePooling2D(), Dropout(0.2), Dense(3),
    ], input_shape=(3, 8, 8))


def test_builder_model_round_trips_through_json_with_same_numbers(tmp_path):
    model = branchy_model().eval()
    path = spec.save(model, tmp_path / "model.json")
    text = path.read_text()
    desc = json.loads(text)
    assert desc["input_shape"] == [3, 8, 8] and desc["sequential"][2]["class"] == "ResidualBlock"
    again = spec.load(path).eval()
    assert spec.describe(again) == desc
    assert list(again.state_dict()) == list(model.state_dict())
    again.load_state_dict(model.state_dict())
    x = torch.randn(2, 3, 8, 8)
    with torch.no_grad():
        torch.testing.assert_close(again(x), model(x), rtol=0, atol=0)
    assert not list(tmp_path.glob(".*.tmp"))  # atomic write left no temporary file


def test_zoo_description():
    model = zoo.create("lecture_cnn", num_classes=5)
    assert spec.describe(model) == {"zoo": "lecture_cnn", "kwargs": {"num_classes": 5}}
    built = spec.build({"zoo": "lenet5", "kwargs": {"num_classes": 3}})
    assert built.classifier[-1].out_features == 3
    assert spec.input_shape_of({"zoo": "lenet5", "kwargs": {"in_channels": 3}}) == (3, 28, 28)
    assert spec.describe(nn.Linear(2, 2)) is None


def test_spec_errors(tmp_path):
    with pytest.raises(ConfigError, match="a model description must be a dict; got list"):
        spec.build([1])
    with pytest.raises(ConfigError, match=r"a model description needs a \"zoo\" or a \"sequential\" key; got keys layers"):
        spec.build({"layers": []})
    with pytest.raises(ConfigError, match=r"\"kwargs\" of a zoo description must be a dict; got \[1\]"):
        spec.build({"zoo": "lenet5", "kwargs": [1]})
    with pytest.raises(UnknownNameError, match=r"unknown zoo model 'lenet6'; known: .*lenet5"):
        spec.build({"zoo": "lenet6"})
    with pytest.raises(ConfigError, match=r"cannot describe a Linear as JSON: only zoo and builder models"):
        spec.save(nn.Linear(2, 2), tmp_path / "x.json")
    with pytest.raises(ConfigError, match=r"the model description is not JSON-able"):
        spec.save({"zoo": "lenet5", "kwargs": {"num_classes": object()}}, tmp_path / "x.json")
    with pytest.raises(ConfigError, match=r"expected a model or a description dict; got str"):
        spec.save("lenet5", tmp_path / "x.json")
    assert not (tmp_path / "x.json").exists()
    with pytest.raises(FileNotFoundError, match=r"model description '.*nope.json' does not exist"):
        spec.load(tmp_path / "nope.json")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(DataError, match=r"bad.json is not valid JSON"):
        spec.load(tmp_path / "bad.json")
    with pytest.raises(ConfigError, match=r"a model description needs a \"zoo\" or a \"sequential\" key"):
        spec.input_shape_of({})
