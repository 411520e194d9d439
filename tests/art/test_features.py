"""FeatureExtractor: right maps, truncated network, caller's model untouched, clear layer errors."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from cnnlab.art.features import FeatureExtractor, Preprocess, layer_names, resolve_layers, vgg_aliases
from cnnlab.errors import UnknownNameError


def test_maps_equal_a_plain_forward(net, image):
    ex = FeatureExtractor(net, ["2", "6"])
    maps = ex(image)
    with torch.no_grad():
        ref2 = net[:3](image.clone())
        ref6 = net[:7](image.clone())
    assert torch.allclose(maps["2"], ref2, atol=1e-6)
    assert torch.allclose(maps["6"], ref6, atol=1e-6)


def test_sequential_is_cut_after_last_needed_layer(net):
    ex = FeatureExtractor(net, ["relu1_1"], aliases=vgg_aliases(net))
    assert [n for n, _ in ex.net.named_children()] == ["0", "1"]
    assert len(net) == 12  # the caller's model keeps all its layers


def test_generic_model_stops_after_last_needed_layer(image):
    calls = []

    class Two(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Conv2d(3, 4, 3)
            self.b = nn.Conv2d(4, 4, 3)

        def forward(self, x):
            calls.append("a")
            x = self.a(x)
            calls.append("b")
            return self.b(x)

    out = FeatureExtractor(Two(), ["a"])(image)
    assert calls == ["a"]  # b never ran: the forward pass stopped once `a` had fired
    assert out["a"].shape == (1, 4, 38, 46)


def test_callers_model_is_not_modified(net):
    net.train()
    FeatureExtractor(net, ["relu2_2"], aliases=vgg_aliases(net))
    assert net.training
    assert all(p.requires_grad for p in net.parameters())
    assert all(m.inplace for m in net if isinstance(m, nn.ReLU))


def test_gradient_reaches_the_input_through_inplace_relus(net, image):
    ex = FeatureExtractor(net, ["conv2_1", "relu2_1"], aliases=vgg_aliases(net))
    x = image.clone().requires_grad_(True)
    maps = ex(x)
    # the conv output is captured before the (formerly in-place) ReLU: it has negative values
    assert maps["conv2_1"].min() < 0 and maps["relu2_1"].min() >= 0
    maps["conv2_1"].sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


def test_vgg_aliases_names(net):
    al = vgg_aliases(net)
    assert al["conv1_1"] == "0" and al["relu1_2"] == "3" and al["pool1"] == "4"
    assert al["conv2_1"] == "5" and al["conv3_1"] == "10" and al["relu3_1"] == "11"


def test_unknown_layer_lists_valid_names(net):
    with pytest.raises(UnknownNameError, match=r"unknown `layer` 'conv9_9'; valid names: conv1_1, relu1_1"):
        FeatureExtractor(net, ["conv9_9"], aliases=vgg_aliases(net))
    with pytest.raises(UnknownNameError, match="at least one layer"):
        resolve_layers(net, [])
    assert layer_names(net)[:3] == ["0", "1", "2"]


def test_preprocess_imagenet_and_caffe():
    x = torch.full((1, 3, 2, 2), 0.5)
    x[:, 0] = 1.0  # red channel
    im = Preprocess((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))(x)
    assert abs(float(im[0, 0, 0, 0]) - (1 - 0.485) / 0.229) < 1e-6
    caffe = Preprocess((104.0, 116.0, 122.0), scale=255.0, bgr=True)(x)
    assert abs(float(caffe[0, 2, 0, 0]) - (255.0 - 122.0)) < 1e-4  # red lands in channel 2 (BGR)
    assert abs(float(caffe[0, 0, 0, 0]) - (127.5 - 104.0)) < 1e-4


def _bn_vgg() -> nn.Sequential:
    torch.manual_seed(3)
    net = nn.Sequential(nn.Conv2d(3, 6, 3, padding=1), nn.BatchNorm2d(6), nn.ReLU(inplace=True),
                        nn.Conv2d(6, 5, 3, padding=1, bias=False), nn.BatchNorm2d(5), nn.ReLU(inplace=True))
    for bn in (net[1], net[4]):  # non-trivial running statistics and affine parameters
        bn.running_mean.uniform_(-1, 1)
        bn.running_var.uniform_(0.5, 2)
        bn.weight.data.uniform_(0.5, 1.5)
        bn.bias.data.uniform_(-0.5, 0.5)
    return net.eval()


def test_batchnorm_is_folded_exactly(image):
    net = _bn_vgg()
    ex = FeatureExtractor(net, ["relu1_1", "bn1_2", "relu1_2"], aliases=vgg_aliases(net))
    assert ex.folded == ["1", "4"]
    assert isinstance(net[1], nn.BatchNorm2d)  # the caller's model is untouched
    maps = ex(image)
    with torch.no_grad():
        assert torch.allclose(maps["relu1_1"], net[:3](image.clone()), atol=1e-5)
        assert torch.allclose(maps["bn1_2"], net[:5](image.clone()), atol=1e-5)
        assert torch.allclose(maps["relu1_2"], net(image.clone()), atol=1e-5)
        assert not torch.allclose(maps["bn1_2"], net[:4](image.clone()), atol=1e-2)  # BN really acts


def test_batchnorm_not_folded_when_conv_output_requested_or_training(image):
    net = _bn_vgg()
    ex = FeatureExtractor(net, ["conv1_1", "relu1_2"], aliases=vgg_aliases(net))
    assert ex.folded == ["4"]
    with torch.no_grad():
        assert torch.allclose(ex(image)["conv1_1"], net[0](image), atol=1e-6)
    from cnnlab.art.features import fold_batchnorm

    train_copy = _bn_vgg().train()
    assert fold_batchnorm(train_copy) == []
