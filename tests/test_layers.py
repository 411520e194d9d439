"""Keras-style builder: golden shapes and parameter counts, numerics against plain torch, every error."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn
from torch.nn import functional as F

from cnnlab.errors import ConfigError, ShapeError, UnknownNameError
from cnnlab.layers import (Activation, AveragePooling1D, AveragePooling2D, BatchNormalization, Conv1D, Conv2D,
                           Dense, Dropout, Embedding, Flatten, GlobalAveragePooling2D, GlobalMaxPooling2D,
                           MaxPooling1D, MaxPooling2D, Maxout, Sequential, layer_from_config)


def n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def lecture_layers(head: bool = True):
    layers = [Conv2D(32, 3, activation="relu"), MaxPooling2D(2), Conv2D(64, 3, activation="relu"), MaxPooling2D(2),
              Conv2D(64, 3, activation="relu")]
    return layers + ([Flatten(), Dense(64, activation="relu"), Dense(10)] if head else [])


# ---------------------------------------------------------------------------------------------- goldens


def test_lecture_cnn_goldens():
    conv = Sequential(lecture_layers(head=False), input_shape=(1, 28, 28))
    assert n_params(conv) == 55_744
    assert [r.output_shape for r in conv.records] == [(32, 26, 26), (32, 13, 13), (64, 11, 11), (64, 5, 5),
                                                      (64, 3, 3)]
    full = Sequential(lecture_layers(), input_shape=(1, 28, 28))
    assert n_params(full) == 93_322
    assert full.output_shape == (10,)
    assert full(torch.zeros(2, 1, 28, 28)).shape == (2, 10)


def test_keras_like_names_and_plain_modules():
    model = Sequential(lecture_layers(), input_shape=(1, 28, 28))
    names = [name for name, _ in model.named_children()]
    assert names == ["conv2d", "conv2d_relu", "max_pooling2d", "conv2d_1", "conv2d_1_relu", "max_pooling2d_1",
                     "conv2d_2", "conv2d_2_relu", "flatten", "dense", "dense_relu", "dense_1"]
    assert type(model.conv2d) is nn.Conv2d and type(model.max_pooling2d) is nn.MaxPool2d
    assert type(model.dense_1) is nn.Linear and type(model.flatten) is nn.Flatten and type(model.conv2d_relu) is nn.ReLU
    named = Sequential([Conv2D(4, 3, name="stem"), Conv2D(4, 3)], input_shape=(1, 8, 8))
    assert [n for n, _ in named.named_children()] == ["stem", "conv2d"]


def test_param_formula_goldens():
    assert n_params(Sequential([Conv2D(10, 3)], input_shape=(3, 32, 32))) == 280
    with torch.device("meta"):  # 196,609,000 weights: count without allocating them
        fc = Sequential([Flatten(), Dense(1000)], input_shape=(3, 256, 256))
    assert n_params(fc) == 196_609_000


def test_torch_shape_examples_through_the_builder():
    m = Sequential([Conv2D(4, 3, padding=2)], input_shape=(3, 100, 100))
    assert m.output_shape == (4, 102, 102)
    assert m(torch.zeros(1, 3, 100, 100)).shape == (1, 4, 102, 102)
    m = Sequential([Conv2D(3, (3, 5), padding=(1, 2))], input_shape=(2, 3, 5))
    assert m.output_shape == (3, 3, 5) and tuple(m.conv2d.weight.shape) == (3, 2, 3, 5)
    assert m(torch.zeros(4, 2, 3, 5)).shape == (4, 3, 3, 5)
    m = Sequential([MaxPooling2D(3, strides=(2, 1), padding=1)], input_shape=(2, 4, 4))
    assert m.output_shape == (2, 2, 4) and m(torch.zeros(1, 2, 4, 4)).shape == (1, 2, 2, 4)


def test_vertical_edge_worked_example():
    image = torch.tensor([[3, 0, 1, 2, 7, 4], [1, 5, 8, 9, 3, 1], [2, 7, 2, 5, 1, 3], [0, 1, 3, 1, 7, 8],
                          [4, 2, 1, 6, 2, 8], [2, 4, 5, 2, 3, 9]], dtype=torch.float64).view(1, 1, 6, 6)
    m = Sequential([Conv2D(1, 3, use_bias=False)], input_shape=(1, 6, 6)).double()
    with torch.no_grad():
        m.conv2d.weight.copy_(torch.tensor([[1, 0, -1]] * 3, dtype=torch.float64).view(1, 1, 3, 3))
    expected = [[-5, -4, 0, 8], [-10, -2, 2, 3], [0, -2, -4, -7], [-3, -2, -3, -16]]
    assert m(image)[0, 0].tolist() == expected


# ---------------------------------------------------------------------------------------------- numerics


class HandLecture(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1, self.c2, self.c3 = nn.Conv2d(1, 32, 3), nn.Conv2d(32, 64, 3), nn.Conv2d(64, 64, 3)
        self.f1, self.f2 = nn.Linear(576, 64), nn.Linear(64, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.c1(x)), 2)
        x = F.max_pool2d(F.relu(self.c2(x)), 2)
        x = F.relu(self.c3(x)).flatten(1)
        return self.f2(F.relu(self.f1(x)))


def test_builder_equals_hand_written_torch():
    built, hand = Sequential(lecture_layers(), input_shape=(1, 28, 28)), HandLecture()
    for p_built, p_hand in zip(built.parameters(), hand.parameters()):
        assert p_built.shape == p_hand.shape
        with torch.no_grad():
            p_built.copy_(p_hand)
    x = torch.randn(3, 1, 28, 28)
    with torch.no_grad():
        torch.testing.assert_close(built(x), hand(x), rtol=0, atol=0)


def test_same_padding_stride2_even_kernel_is_tf_asymmetric():
    # TF rule on 9 with k=4, s=2: out ⌈9/2⌉ = 5, total pad (5−1)·2 + 4 − 9 = 3 -> 1 before, 2 after
    m = Sequential([Conv2D(5, 4, strides=2, padding="same")], input_shape=(3, 9, 9)).double()
    assert m.output_shape == (5, 5, 5)
    assert type(m.conv2d_pad) is nn.ZeroPad2d and m.conv2d.padding == (0, 0)
    x = torch.randn(2, 3, 9, 9, dtype=torch.float64)
    ref = F.conv2d(F.pad(x, (1, 2, 1, 2)), m.conv2d.weight, m.conv2d.bias, stride=2)
    torch.testing.assert_close(m(x), ref)


def test_same_padding_stride1_odd_kernel_is_symmetric_and_dilated():
    m = Sequential([Conv2D(2, 3, padding="same", dilation_rate=2)], input_shape=(1, 7, 7))
    assert m.output_shape == (2, 7, 7) and m.conv2d.padding == (2, 2) and not hasattr(m, "conv2d_pad")


def test_same_max_pooling_pads_with_minus_infinity():
    m = Sequential([MaxPooling2D(2, strides=2, padding="same")], input_shape=(1, 3, 3))
    x = -torch.arange(1.0, 10.0).view(1, 1, 3, 3)  # all negative: zero padding would win the max
    assert m.output_shape == (1, 2, 2)
    assert m(x)[0, 0].tolist() == [[-1.0, -3.0], [-7.0, -9.0]]


def average_same_reference(x: np.ndarray, k: int, s: int) -> np.ndarray:
    """TF "same" average pooling from the definition: mean over the window cells inside the image."""
    h, w = x.shape
    oh, ow = -(-h // s), -(-w // s)
    pt, pl = max((oh - 1) * s + k - h, 0) // 2, max((ow - 1) * s + k - w, 0) // 2
    out = np.zeros((oh, ow))
    for i in range(oh):
        for j in range(ow):
            r0, c0 = i * s - pt, j * s - pl
            cells = [x[r, c] for r in range(r0, r0 + k) for c in range(c0, c0 + k) if 0 <= r < h and 0 <= c < w]
            out[i, j] = sum(cells) / len(cells)
    return out


@pytest.mark.parametrize("k,s,n", [(2, 1, 5), (3, 2, 6), (3, 1, 5), (2, 2, 5)])
def test_same_average_pooling_matches_definition(k, s, n):
    m = Sequential([AveragePooling2D(k, strides=s, padding="same")], input_shape=(1, n, n)).double()
    x = torch.randn(1, 1, n, n, dtype=torch.float64)
    np.testing.assert_allclose(m(x)[0, 0].numpy(), average_same_reference(x[0, 0].numpy(), k, s), rtol=1e-12)


def test_one_d_layers_and_embedding():
    m = Sequential([Embedding(50, 8), Conv1D(6, 3, padding="same", activation="tanh"), MaxPooling1D(2),
                    AveragePooling1D(2), Flatten(), Dense(2)], input_shape=(12,))
    assert [r.output_shape for r in m.records] == [(8, 12), (6, 12), (6, 6), (6, 3), (18,), (2,)]
    assert type(m.conv1d) is nn.Conv1d and type(m.embedding) is nn.Embedding
    tokens = torch.randint(0, 50, (3, 12))
    emb = m.embedding(tokens).transpose(1, 2)  # (N, L, D) -> (N, D, L)
    ref = F.avg_pool1d(F.max_pool1d(torch.tanh(F.conv1d(emb, m.conv1d.weight, m.conv1d.bias, padding=1)), 2), 2)
    torch.testing.assert_close(m(tokens), m.dense(ref.flatten(1)))


def test_global_pools_batchnorm_dropout_activations():
    m = Sequential([Conv2D(4, 3, padding="same"), BatchNormalization(), Activation("relu6"), Dropout(0.5),
                    GlobalAveragePooling2D()], input_shape=(2, 5, 5))
    assert m.output_shape == (4,)
    assert type(m.batch_normalization) is nn.BatchNorm2d and m.batch_normalization.eps == 1e-3
    assert m.batch_normalization.momentum == pytest.approx(0.01)  # Keras 0.99 keeps 99% of the running stats
    m.eval()
    x = torch.randn(2, 2, 5, 5)
    ref = F.relu6(m.batch_normalization(m.conv2d(x))).mean(dim=(2, 3))
    torch.testing.assert_close(m(x), ref)
    g = Sequential([GlobalMaxPooling2D()], input_shape=(3, 4, 4))
    assert g(x[:, :1].expand(2, 3, 5, 5)[:, :, :4, :4]).shape == (2, 3)
    assert type(Sequential([BatchNormalization()], input_shape=(7,))[0]) is nn.BatchNorm1d


@pytest.mark.parametrize("name,fn", [("sigmoid", torch.sigmoid), ("tanh", torch.tanh), ("relu", torch.relu),
                                     ("leaky_relu", lambda t: F.leaky_relu(t, 0.01)),
                                     ("softmax", lambda t: torch.softmax(t, dim=1))])
def test_activation_functions(name, fn):
    m = Sequential([Dense(4, activation=name)], input_shape=(3,))
    x = torch.randn(5, 3)
    torch.testing.assert_close(m(x), fn(m.dense(x)))


def test_maxout_takes_the_max_of_channel_pairs():
    m = Sequential([Activation("maxout", pieces=2)], input_shape=(4, 2, 2))
    assert m.output_shape == (2, 2, 2) and type(m.activation) is Maxout
    x = torch.randn(1, 4, 2, 2)
    expected = np.maximum(x.numpy()[0, 0::2], x.numpy()[0, 1::2])  # channels (0,1) and (2,3)
    np.testing.assert_array_equal(m(x)[0].numpy(), expected)


def test_grouped_conv_params():
    m = Sequential([Conv2D(8, 3, groups=4, use_bias=False)], input_shape=(8, 5, 5))
    assert n_params(m) == 8 * 2 * 9 and m.conv2d.groups == 4


# ---------------------------------------------------------------------------------------------- errors


@pytest.mark.parametrize("make,exc,match", [
    (lambda: Conv2D(0, 3), ConfigError, r"`filters` must be a positive int; got 0 \(Conv2D\)"),
    (lambda: Conv2D(8, (3, 3, 3)), ConfigError, r"`kernel_size` must have 2 values; got 3"),
    (lambda: Conv2D(8, 0), ConfigError, r"`kernel_size` must be ≥ 1; got 0"),
    (lambda: Conv2D(8, "3"), ConfigError, r"`kernel_size` must be an int or a tuple of 2 ints"),
    (lambda: Conv2D(8, 3, padding="full"), ConfigError, r"`padding` must be \"valid\", \"same\".*got 'full'"),
    (lambda: Conv2D(8, 3, padding=-1), ConfigError, r"`padding` must be ≥ 0; got -1"),
    (lambda: Conv2D(8, 3, activation="swish"), UnknownNameError, r"unknown activation 'swish' \(Conv2D\); known: relu"),
    (lambda: Conv2D(8, 3, name="a.b"), ConfigError, r"`name` must be a Python identifier.*'a.b'"),
    (lambda: MaxPooling2D(2, padding=2), ConfigError, r"`padding` must be at most half of `pool_size` 2×2; got 2×2"),
    (lambda: Dense(0), ConfigError, r"`units` must be a positive int; got 0 \(Dense\)"),
    (lambda: Dropout(1.0), ConfigError, r"`rate` must be a number in \[0, 1\); got 1.0"),
    (lambda: BatchNormalization(momentum=1.5), ConfigError, r"`momentum` must be in \[0, 1\); got 1.5"),
    (lambda: BatchNormalization(epsilon=0), ConfigError, r"`epsilon` must be > 0; got 0"),
    (lambda: Activation("linear"), ConfigError, r"`activation` must name a function"),
    (lambda: Activation("relu", pieces=0), ConfigError, r"`pieces` must be a positive int; got 0"),
    (lambda: Embedding(0, 4), ConfigError, r"`input_dim` must be a positive int; got 0 \(Embedding\)"),
])
def test_argument_errors(make, exc, match):
    with pytest.raises(exc, match=match):
        make()


@pytest.mark.parametrize("layers,shape,exc,match", [
    (lecture_layers(head=False) + [Conv2D(64, 5)], (1, 28, 28), ShapeError,
     r"`kernel_size` 5×5 is larger than the input 3×3 \(with padding\) at layer 5 \(Conv2D, input 64×3×3\)"),
    ([Conv2D(8, 3), Conv2D(8, 3), Conv2D(8, 3), Conv2D(8, 3), Conv2D(8, 5)], (1, 11, 11), ShapeError,
     r"^`kernel_size` 5×5 is larger than the input 3×3 \(with padding\) at layer 4 \(Conv2D, input 8×3×3\)$"),
    ([Conv2D(8, 3, dilation_rate=3)], (1, 6, 6), ShapeError,
     r"`kernel_size` with `dilation_rate` 7×7 is larger than the input 6×6 \(with padding\) at layer 0"),
    ([Flatten(), Conv2D(8, 3)], (1, 4, 4), ShapeError,
     r"expected an input \(C, H, W\); got 1 axes at layer 1 \(Conv2D, input 16\)"),
    ([Conv1D(8, 3)], (1, 4, 4), ShapeError, r"expected an input \(C, L\); got 3 axes at layer 0 \(Conv1D"),
    ([Conv2D(8, 3, groups=2)], (3, 5, 5), ShapeError,
     r"input channels \(3\) must be divisible by `groups`=2 at layer 0 \(Conv2D, input 3×5×5\)"),
    ([Conv2D(5, 3, groups=2)], (4, 5, 5), ShapeError, r"`filters` \(5\) must be divisible by `groups`=2 at layer 0"),
    ([Conv2D(4, 3, strides=2, dilation_rate=2, padding="same")], (1, 9, 9), ConfigError,
     r"\"same\" padding with both `strides` > 1 and `dilation_rate` > 1 is not supported.* at layer 0 \(Conv2D"),
    ([MaxPooling2D(2), MaxPooling2D(2), MaxPooling2D(2)], (1, 5, 5), ShapeError,
     r"`pool_size` 2×2 is larger than the input 1×1 \(with padding\) at layer 2 \(MaxPooling2D, input 1×1×1\)"),
    ([MaxPooling2D(2)], (4,), ShapeError, r"expected an input \(C, H, W\); got 1 axes at layer 0 \(MaxPooling2D"),
    ([AveragePooling1D(2, strides=1, padding="same")], (1, 5), ConfigError,
     r"asymmetric \"same\" padding for AveragePooling1D is not supported.* at layer 0"),
    ([GlobalAveragePooling2D()], (3, 4), ShapeError, r"expected an input \(C, H, W\); got 2 axes at layer 0"),
    ([Conv2D(4, 3), Dense(10)], (1, 5, 5), ShapeError,
     r"Dense expects a flat input \(features,\); add Flatten\(\).* at layer 1 \(Dense, input 4×3×3\)"),
    ([Flatten(), Activation("maxout", pieces=4)], (1, 3, 2), ShapeError,
     r"maxout needs channels divisible by `pieces`=4; got 6 channels at layer 1 \(Activation"),
    ([Conv2D(3, 1, activation="maxout")], (1, 3, 3), ShapeError, r"maxout needs channels divisible by `pieces`=2; got 3"),
    ([BatchNormalization()], (1, 2, 3, 4), ShapeError, r"expected an input \(F,\), \(C, L\) or \(C, H, W\); got 4 axes"),
    ([Embedding(10, 4)], (1, 8), ShapeError, r"expected an input \(L,\) of token ids; got 2 axes at layer 0 \(Embedding"),
    ([Conv2D(4, 3, name="x"), Conv2D(4, 1, name="x")], (1, 5, 5), ConfigError,
     r"duplicate layer name 'x' at layer 1 \(Conv2D, input 4×3×3\)"),
    ([Conv2D(4, 3), nn.ReLU()], (1, 5, 5), TypeError, r"layer 1 must be a cnnlab layer \(Conv2D, Dense, ...\); got ReLU"),
])
def test_shape_errors_name_layer_type_and_input(layers, shape, exc, match):
    with pytest.raises(exc, match=match):
        Sequential(layers, input_shape=shape)


@pytest.mark.parametrize("bad", [(), (1, 0, 5), "abc", None, (True, 2)])
def test_bad_input_shape(bad):
    with pytest.raises(ConfigError, match=r"`input_shape` must be a tuple of positive ints like \(C, H, W\)"):
        Sequential([Flatten()], input_shape=bad)


def test_layers_argument_must_be_a_list():
    with pytest.raises(TypeError, match="expected a list of layers; got Conv2D"):
        Sequential(Conv2D(4, 3), input_shape=(1, 5, 5))


def test_layer_from_config_errors():
    with pytest.raises(ConfigError, match=r"a layer description must be a dict with \"class\" and \"config\""):
        layer_from_config(["Conv2D"])
    with pytest.raises(UnknownNameError, match=r"unknown layer class 'Conv3D'; known: .*Conv2D"):
        layer_from_config({"class": "Conv3D", "config": {}})
    with pytest.raises(ConfigError, match=r"bad arguments for Dense: .*unexpected keyword argument 'filters'"):
        layer_from_config({"class": "Dense", "config": {"filters": 3}})
    with pytest.raises(ConfigError, match=r"a builder description needs \"sequential\""):
        Sequential.from_config({"layers": []})


def test_layer_config_round_trip():
    layers = [Conv2D(4, (3, 5), strides=2, padding="same", dilation_rate=1, activation="leaky_relu", use_bias=False),
              MaxPooling2D(3, strides=1, padding=1), AveragePooling2D(2), Activation("maxout", pieces=2),
              BatchNormalization(momentum=0.9), Dropout(0.1), Flatten(), Dense(3, activation="sigmoid", name="head")]
    for layer in layers:
        again = layer_from_config(layer.to_config())
        assert type(again) is type(layer) and again.get_config() == layer.get_config()


def test_same_padding_even_kernel_stride1_and_1d():
    # k=2, s=1: TF pads 0 before and 1 after
    m = Sequential([Conv2D(2, 2, padding="same")], input_shape=(1, 4, 5)).double()
    x = torch.randn(1, 1, 4, 5, dtype=torch.float64)
    torch.testing.assert_close(m(x), F.conv2d(F.pad(x, (0, 1, 0, 1)), m.conv2d.weight, m.conv2d.bias))
    m1 = Sequential([Conv1D(3, 4, strides=2, padding="same"), MaxPooling1D(2, padding="same")],
                    input_shape=(2, 7)).double()
    assert [r.output_shape for r in m1.records] == [(3, 4), (3, 2)]
    assert type(m1.conv1d_pad) is nn.ConstantPad1d and m1.conv1d_pad.padding == (1, 2)  # total (4−1)·2 + 4 − 7 = 3
    x1 = torch.randn(1, 2, 7, dtype=torch.float64)
    ref = F.conv1d(F.pad(x1, (1, 2)), m1.conv1d.weight, m1.conv1d.bias, stride=2)
    torch.testing.assert_close(m1(x1), F.max_pool1d(ref, 2))


def test_slicing_gives_plain_sequential_and_mutation_is_detected():
    from cnnlab import spec

    m = Sequential(lecture_layers(), input_shape=(1, 28, 28))
    head = m[:3]
    assert type(head) is nn.Sequential and list(dict(head.named_children())) == ["conv2d", "conv2d_relu", "max_pooling2d"]
    assert head(torch.zeros(1, 1, 28, 28)).shape == (1, 32, 13, 13)
    assert type(m[0]) is nn.Conv2d and spec.describe(m) is not None
    m.append(nn.Softmax(dim=1))
    assert m.is_modified and spec.describe(m) is None
    with pytest.raises(ConfigError, match=r"this Sequential was changed after construction"):
        m.to_config()
