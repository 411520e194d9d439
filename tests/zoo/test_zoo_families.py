"""AlexNet, GoogLeNet, ResNet, NIN, dilated context module, SRCNN: counts, structure, numerics."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from cnnlab import shapes, zoo
from cnnlab.blocks import ResidualBlock
from cnnlab.errors import ConfigError
from cnnlab.layers import Activation, BatchNormalization, Conv2D, Sequential
from cnnlab.zoo.googlenet import GoogLeNetOutputs
from cnnlab.zoo.resnet import BasicBlock


def meta_model(name: str, **kw) -> nn.Module:
    with torch.device("meta"):
        return zoo.create(name, **kw)


def n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("name,kw,params", [
    ("alexnet", {}, 61_100_840), ("googlenet", {}, 6_624_904), ("resnet18", {}, 11_689_512),
    ("resnet34", {}, 21_797_672), ("resnet50", {}, 25_557_032),
    ("googlenet", {"aux_logits": True}, 13_004_888),  # torchvision with its two auxiliary heads
])
def test_torchvision_counts(name, kw, params):
    assert n_params(meta_model(name, **kw)) == params


def test_nin_dilated_srcnn_counts_from_the_formula():
    cp = shapes.conv_params
    nin = (cp(3, 192, 5) + cp(192, 160, 1) + cp(160, 96, 1) + cp(96, 192, 5) + cp(192, 192, 1) * 2 + cp(192, 192, 3)
           + cp(192, 192, 1) + cp(192, 10, 1))
    assert zoo.info("nin")["params"] == nin == 966_986
    assert zoo.info("dilated_context")["params"] == 64 * 21 ** 2 + 8 * 21  # paper: 64·C² weights, C = 21 (VOC)
    sr = zoo.create("srcnn")
    assert sum(p.numel() for n, p in sr.named_parameters() if n.endswith("weight")) == 57_184  # paper, 9-5-5


def test_resnet_keys_and_shortcuts():
    keys = meta_model("resnet18").state_dict()
    assert "layer1.0.conv1.weight" in keys and "layer2.0.downsample.0.weight" in keys and "fc.weight" in keys
    assert "layer1.0.downsample.0.weight" not in keys
    r50 = meta_model("resnet50")
    assert r50.layer1[0].downsample[0].out_channels == 256 and r50.layer2[0].conv2.stride == (2, 2)
    assert r50.fc.in_features == 2048


def test_resnet_basic_block_equals_builder_residual_block():
    # resnet18.layer2[0]: the first block of stage 2 (stride 2, 64 -> 128, projection shortcut)
    block = BasicBlock(64, 128, 2, nn.Sequential(nn.Conv2d(64, 128, 1, stride=2, bias=False), nn.BatchNorm2d(128)))
    block.eval()
    assert [type(m) for m in block.modules()] == [type(m) for m in meta_model("resnet18").layer2[0].modules()]
    built = Sequential([ResidualBlock([
        Conv2D(128, 3, strides=2, padding=1, use_bias=False), BatchNormalization(momentum=0.9, epsilon=1e-5),
        Activation("relu"), Conv2D(128, 3, padding=1, use_bias=False), BatchNormalization(momentum=0.9, epsilon=1e-5),
    ], shortcut_batchnorm=True)], input_shape=(64, 8, 8)).eval()
    theirs, ours = block.state_dict(), built.state_dict()
    assert [v.shape for v in theirs.values()] == [v.shape for v in ours.values()]
    for t in theirs.values():  # non-trivial BN statistics too
        if t.is_floating_point():
            t.copy_(torch.randn_like(t).abs() + 0.1)
    built.load_state_dict(dict(zip(ours, theirs.values())))
    x = torch.randn(2, 64, 8, 8)
    with torch.no_grad():
        torch.testing.assert_close(built(x), block(x))


def test_small_forwards():
    with torch.no_grad():
        g = zoo.create("googlenet", num_classes=5).eval()
        assert g(torch.randn(1, 3, 64, 64)).shape == (1, 5)
        aux = zoo.create("googlenet", num_classes=5, aux_logits=True).train()
        out = aux(torch.randn(2, 3, 64, 64))
        assert isinstance(out, GoogLeNetOutputs) and all(t.shape == (2, 5) for t in out)
        assert zoo.create("alexnet", num_classes=3).eval()(torch.randn(1, 3, 63, 63)).shape == (1, 3)
        assert zoo.create("resnet18", num_classes=4).eval()(torch.randn(1, 3, 32, 32)).shape == (1, 4)
        nin = zoo.create("nin").eval()
        assert nin.features(torch.randn(1, 3, 32, 32)).shape == (1, 10, 8, 8)
        sr = zoo.create("srcnn")
        assert sr(torch.randn(1, 1, 20, 24)).shape == (1, 1, 20, 24)
        assert zoo.create("srcnn", padding="valid")(torch.randn(1, 1, 33, 33)).shape == (1, 1, 17, 17)
    torch.testing.assert_close(nin(torch.ones(1, 3, 32, 32)), nin.features(torch.ones(1, 3, 32, 32)).mean((2, 3)))


def test_googlenet_five_by_five_option():
    paper = meta_model("googlenet", five_by_five=True)
    assert paper.inception3a.branch3[1].conv.kernel_size == (5, 5)
    assert meta_model("googlenet").inception3a.branch3[1].conv.kernel_size == (3, 3)  # torchvision's choice


def test_dilated_context_identity_init_and_receptive_field():
    ctx = zoo.create("dilated_context", num_classes=3).eval()
    assert [m.dilation[0] for m in ctx.features if isinstance(m, nn.Conv2d)] == [1, 1, 2, 4, 8, 16, 1]
    x = torch.rand(1, 3, 40, 40)
    with torch.no_grad():
        torch.testing.assert_close(ctx(x), x)  # identity init passes non-negative scores through
    # receptive field 67: with positive weights every path is active; the gradient of one output pixel
    ctx = zoo.create("dilated_context", num_classes=2, identity_init=False)
    with torch.no_grad():
        for p in ctx.parameters():
            p.abs_()
    x = torch.rand(1, 2, 81, 81, requires_grad=True)
    ctx(x)[0, 0, 40, 40].backward()
    rows = (x.grad[0].abs().sum(0).sum(1) > 0).nonzero().flatten()
    assert int(rows.max() - rows.min() + 1) == 67
    large = meta_model("dilated_context", large=True)
    assert [m.out_channels for m in large.features if isinstance(m, nn.Conv2d)] == [42, 42, 84, 168, 336, 672, 672]


def test_srcnn_bad_padding():
    with pytest.raises(ConfigError, match=r"`padding` must be \"same\" or \"valid\"; got 'full' \(srcnn\)"):
        zoo.create("srcnn", padding="full")


def test_every_model_has_a_description_and_input_shape():
    for name in zoo.names():
        info = zoo.info(name)
        # (C, H, W) images; applications' models may take (L,) inputs (waveforms, token ids)
        assert info["description"] and len(info["input_shape"]) in (1, 3) and info["params"] > 0
