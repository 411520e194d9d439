"""Zoo registry: create/info/names, the lecture CNNs' golden numbers, errors."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from cnnlab import zoo
from cnnlab.errors import ConfigError, UnknownNameError
from cnnlab.zoo.lenet import C3_TABLE


def n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("name,params", [("lecture_cnn", 93_322), ("kerasvis_mnist", 1_199_882), ("lenet5", 61_706),
                                         ("mnist_convnet", 34_826), ("lenet5_classic", 60_000)])
def test_golden_param_counts(name, params):
    model = zoo.create(name)
    assert n_params(model) == params
    assert zoo.info(name)["params"] == params  # counted on the meta device
    x = torch.zeros(2, *zoo.input_shape_for(name))
    with torch.no_grad():
        assert model.eval()(x).shape == (2, 10)


def test_info_and_names():
    assert {"lecture_cnn", "kerasvis_mnist", "lenet5", "lenet5_classic"} <= set(zoo.names())
    assert zoo.names() == sorted(zoo.names())
    info = zoo.info("lecture_cnn")
    assert set(info) == {"name", "input_shape", "params", "description"}
    assert info["input_shape"] == [1, 28, 28] and info["description"]
    assert zoo.input_shape_for("lenet5", {"in_channels": 3}) == (3, 28, 28)
    assert zoo.input_shape_for("lecture_cnn", {"input_shape": [3, 32, 32]}) == (3, 32, 32)


def test_lecture_cnn_shapes_and_kwargs():
    model = zoo.create("lecture_cnn")
    assert [r.output_shape for r in model.records[:5]] == [(32, 26, 26), (32, 13, 13), (64, 11, 11), (64, 5, 5),
                                                           (64, 3, 3)]
    rgb = zoo.create("lecture_cnn", num_classes=3, input_shape=(3, 32, 32))
    assert rgb.conv2d.in_channels == 3 and rgb.dense.in_features == 64 * 4 * 4 and rgb.dense_1.out_features == 3


def test_lenet5_modern_equals_hand_written():
    model = zoo.create("lenet5").eval()
    conv1, conv2 = model.features[0], model.features[3]
    assert conv1.padding == (2, 2)
    x = torch.randn(2, 1, 28, 28)
    h = F.max_pool2d(F.relu(conv1(x)), 2)
    h = F.max_pool2d(F.relu(conv2(h)), 2).flatten(1)
    fc1, fc2, fc3 = model.classifier[0], model.classifier[2], model.classifier[4]
    with torch.no_grad():
        torch.testing.assert_close(model(x), fc3(F.relu(fc2(F.relu(fc1(h))))))


def test_lenet5_classic_connection_table_and_layers():
    # Table I: 6 maps of 3 contiguous, 6 of 4 contiguous, 3 of 4 non-contiguous, 1 of all 6 -> 60 connections
    assert sum(len(t) for t in C3_TABLE) == 60 and [len(t) for t in C3_TABLE].count(3) == 6
    model = zoo.create("lenet5_classic").eval()
    c3 = model.features[4]
    assert n_params(c3) == 1_516 and n_params(model.features[2]) == 12 and n_params(model.features[6]) == 32
    # C3 map 4 sees S2 maps 0, 4, 5 only: changing map 1 leaves it unchanged, changing map 4 does not
    x = torch.randn(1, 6, 14, 14)
    y = x.clone()
    y[:, 1] += 1.0
    with torch.no_grad():
        assert torch.equal(c3(x)[:, 4], c3(y)[:, 4])
        assert not torch.equal(c3(x)[:, 1], c3(y)[:, 1])
        a = torch.tensor([0.0, 1.0, -2.0])
        torch.testing.assert_close(model.features[1](a), 1.7159 * torch.tanh(2 * a / 3))
        centers = model.classifier[-1].centers
        h = torch.randn(3, 84)
        torch.testing.assert_close(model.classifier[-1](h), -torch.cdist(h, centers) ** 2, atol=1e-4, rtol=1e-5)


def test_registry_errors():
    with pytest.raises(UnknownNameError, match=r"unknown zoo model 'lenet4'; known: .*lecture_cnn"):
        zoo.create("lenet4")
    with pytest.raises(UnknownNameError, match=r"unknown zoo model 'nope'"):
        zoo.info("nope")
    with pytest.raises(ConfigError, match=r"zoo model 'lenet5' takes num_classes, in_channels; got unknown depth"):
        zoo.create("lenet5", depth=3)
    with pytest.raises(ConfigError, match=r"zoo model 'lenet5' is already registered"):
        zoo.register("lenet5", (1, 28, 28), "again")(lambda: nn.Linear(1, 1))
