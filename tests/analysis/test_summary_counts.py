"""Parameters, shapes, MACs and FLOPs of ``cnnlab.summary`` against analytic formulas and goldens."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import cnnlab
from analysis_nets import (FunctionalNet, ModuleNet, lecture_cnn, reference_macs, resnet50,
                           vgg16_features)
from cnnlab.analysis import summary


def test_lecture_cnn_shapes_params_and_macs():
    s = summary(lecture_cnn(), (1, 28, 28))
    shapes = [r.output_shape for r in s.layers if r.type in ("Conv2d", "MaxPool2d")]
    assert shapes == [[1, 32, 26, 26], [1, 32, 13, 13], [1, 64, 11, 11], [1, 64, 5, 5], [1, 64, 3, 3]]
    conv_params = sum(r.params for r in s.layers if r.type == "Conv2d")
    assert conv_params == 55_744
    assert s.total_params == s.trainable_params == 93_322 and s.non_trainable_params == 0
    # Cout·OH·OW·Cin·KH·KW per conv, in·out per dense: by hand from the lecture shapes
    expected = {"0": 32 * 26 * 26 * 1 * 9, "3": 64 * 11 * 11 * 32 * 9, "6": 64 * 3 * 3 * 64 * 9,
                "9": 576 * 64, "11": 64 * 10}
    for name, macs in expected.items():
        assert s.layer(name).macs == macs
        assert s.layer(name).flops == 2 * macs
    assert s.total_macs == sum(expected.values()) == 2_794_240
    assert s.uncounted_ops == []


def test_cnnlab_summary_is_the_lazy_export():
    assert cnnlab.summary is summary


def test_keras_parameter_examples():
    assert summary(nn.Conv2d(3, 10, 3), (3, 8, 8)).total_params == 280
    with torch.device("meta"):  # 196 M parameters: build them on meta, no memory
        fc = nn.Sequential(nn.Flatten(), nn.Linear(3 * 256 * 256, 1000))
    s = summary(fc, (3, 256, 256))
    assert s.total_params == 196_609_000
    assert s.total_macs == 3 * 256 * 256 * 1000


@pytest.mark.parametrize("module, shape, out", [
    (nn.Conv2d(3, 4, kernel_size=3, padding=2), (3, 100, 100), [4, 4, 102, 102]),
    (nn.Conv2d(2, 3, (3, 5), padding=(1, 2)), (2, 3, 5), [4, 3, 3, 5]),
    (nn.MaxPool2d(3, padding=1, stride=(2, 1)), (2, 4, 4), [1, 2, 2, 4]),
])
def test_design_shape_examples(module, shape, out):
    s = summary(module, shape, batch_size=out[0])
    assert s.layers[-1].output_shape == out


def test_functional_ops_count_like_their_module_twin():
    fn = summary(FunctionalNet(), (3, 28, 28))
    mod = summary(ModuleNet(), (3, 28, 28))
    # conv1 8·28·28·3·9, conv2 (groups 2) 16·7·7·4·9, dense 784·10
    expected = 8 * 28 * 28 * 27 + 16 * 7 * 7 * 4 * 9 + 784 * 10
    assert fn.total_macs == mod.total_macs == expected
    assert fn.total_flops == mod.total_flops
    assert fn.total_params == mod.total_params == 8 * 27 + 8 + 16 * 36 + 784 * 10
    assert fn.uncounted_ops == mod.uncounted_ops == []
    # the functional model's own forward is a row of its own, carrying everything
    assert [r.name for r in fn.layers] == [""] and fn.layers[0].macs == expected


def test_matmul_family_is_counted():
    class Attn(nn.Module):
        def forward(self, x):  # (N, L, D)
            q = x @ torch.ones(8, 8)
            a = torch.bmm(q, x.transpose(1, 2))  # (N, L, L)
            return torch.baddbmm(x, a, x) + torch.einsum("nld,de->nle", x, torch.ones(8, 4)).sum()

    s = summary(Attn(), (5, 8), batch_size=2)
    n, l, d = 2, 5, 8
    assert s.total_macs == n * l * d * d + n * l * d * l + n * l * l * d + n * l * d * 4


def test_flop_rules_for_other_ops():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(2, 4, 3, padding=1, bias=False)
            self.bn = nn.BatchNorm2d(4)
            self.pool = nn.MaxPool2d(2)
            self.avg = nn.AvgPool2d(3, stride=1)
            self.gap = nn.AdaptiveAvgPool2d(1)

        def forward(self, x):
            y = torch.relu(self.bn(self.conv(x)))  # (1, 4, 8, 8)
            y = y + self.conv(x)
            y = self.avg(self.pool(y))  # (1, 4, 4, 4) -> (1, 4, 2, 2)
            return torch.softmax(self.gap(y).flatten(1), 1)

    s = summary(Net(), (2, 8, 8))
    el = 4 * 8 * 8
    assert s.layer("bn").flops == 2 * el  # inference batch norm: x·a + b
    assert s.layer("pool").flops == 4 * 4 * 4 * 4  # 2×2 window per output
    assert s.layer("avg").flops == 4 * 2 * 2 * 9
    assert s.layer("gap").flops == 4 * 2 * 2  # global average: one add per input element
    conv = 2 * 4 * 8 * 8 * 2 * 9
    assert s.layer("conv", 1).flops == s.layer("conv", 2).flops == conv
    root = s.layer("")  # relu + add + softmax run in the model's own forward
    assert root.flops == el + el + 3 * 4 and root.macs == 0
    assert s.total_flops == 2 * conv + 2 * el + 256 + 144 + 16 + root.flops
    assert s.total_macs == conv  # one conv row per call, each with conv/2 MACs
    assert s.layer("conv", 1).macs == conv // 2


def test_uncounted_ops_are_listed_not_zero():
    class Sorter(nn.Module):
        def forward(self, x):
            return torch.sort(x, dim=-1).values

    model = nn.Sequential(nn.Conv2d(1, 2, 3), Sorter())
    s = summary(model, (1, 6, 6))
    assert s.uncounted_ops == ["aten.sort"]
    assert s.uncounted_calls == {"aten.sort": 1}
    assert s.layer("1").uncounted_ops == ["aten.sort"]
    assert s.layer("0").uncounted_ops == []
    assert "Uncounted ops:" in str(s) and "aten.sort (x1)" in str(s)
    assert summary(lecture_cnn(), (1, 28, 28)).uncounted_ops == []


def test_transposed_dilated_grouped_convs():
    model = nn.Sequential(nn.Conv2d(4, 8, 3, dilation=2, groups=2, padding=2),
                          nn.ConvTranspose2d(8, 6, 4, stride=2, padding=1, groups=2))
    s = summary(model, (4, 10, 10))
    assert s.layer("0").macs == 8 * 10 * 10 * 2 * 9
    assert s.layer("1").output_shape == [1, 6, 20, 20]
    assert s.layer("1").macs == 8 * 10 * 10 * 3 * 16  # every input element through (Cout/g)·KH·KW
    assert s.total_macs == reference_macs(model, (4, 10, 10))
    assert (s.layer("0").dilation, s.layer("0").groups) == ([2, 2], 2)


def test_counts_scale_with_batch_and_do_not_depend_on_it():
    one = summary(ModuleNet(), (3, 28, 28))
    for n in (2, 3):
        many = summary(ModuleNet(), (3, 28, 28), batch_size=n)
        assert many.total_macs == n * one.total_macs and many.total_flops == n * one.total_flops
        assert [r.macs for r in many.layers] == [n * r.macs for r in one.layers]
        assert many.total_params == one.total_params


def test_meta_pass_equals_real_pass():
    """The meta fast paths (conv, batch norm, reductions, matmul) give what torch's kernels give."""
    model = nn.Sequential(
        nn.Conv2d(3, 8, 3, stride=2, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
        nn.Conv2d(8, 8, 3, dilation=2, groups=4, padding=1), nn.MaxPool2d(3, 2, ceil_mode=True),
        nn.ConvTranspose2d(8, 4, 3, stride=2, output_padding=1), nn.Upsample(scale_factor=2),
        nn.AdaptiveMaxPool2d((6, 7)), nn.AdaptiveAvgPool2d((3, 5)), nn.Flatten(), nn.Linear(60, 7),
    )
    meta = summary(model, (3, 33, 29), device="meta", batch_size=2)
    real = summary(model, (3, 33, 29), device="cpu", batch_size=2)
    assert (meta.device, real.device) == ("meta", "cpu")
    key = lambda s: [(r.name, r.output_shape, r.macs, r.flops, r.receptive_field, r.jump, r.start,
                      r.activation_bytes) for r in s.layers]
    assert key(meta) == key(real)
    assert (meta.total_macs, meta.total_flops, meta.activation_bytes) == \
        (real.total_macs, real.total_flops, real.activation_bytes)


def test_meta_pass_equals_real_pass_on_residual_and_gates():
    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(4, 4, 3, padding=1)
            self.bn = nn.BatchNorm2d(4)
            self.relu6 = nn.ReLU6(inplace=True)
            self.pool = nn.AvgPool2d(2, ceil_mode=True)

        def forward(self, x):
            y = self.relu6(self.bn(self.conv(x)))
            y += x  # in-place add
            gate = torch.sigmoid(y.mean((2, 3), keepdim=True))
            y = F.hardswish(y * gate) - 0.5 * x
            y = torch.relu_(y)
            return self.pool(torch.cat([y, x], 1)).sum((2, 3)) @ torch.ones(8, 3)

    meta = summary(Block(), (4, 9, 7), device="meta", batch_size=3)
    real = summary(Block(), (4, 9, 7), device="cpu", batch_size=3)
    key = lambda s: [(r.name, r.output_shape, r.macs, r.flops, r.receptive_field, r.jump, r.start,
                      r.activation_bytes, r.uncounted_ops) for r in s.layers]
    assert key(meta) == key(real)
    assert (meta.total_flops, meta.activation_bytes) == (real.total_flops, real.activation_bytes)


def test_depth_folds_rows_and_keeps_totals():
    with torch.device("meta"):
        model = resnet50()
    full = summary(model, (3, 64, 64))
    top = summary(model, (3, 64, 64), depth=1)
    assert [r.name for r in top.layers] == ["conv1", "bn1", "relu", "maxpool", "layer1", "layer2",
                                            "layer3", "layer4", "avgpool", "fc"]
    for s in (full, top):
        assert sum(r.macs for r in s.layers) == s.total_macs
        assert sum(r.flops for r in s.layers) == s.total_flops
        assert sum(r.params for r in s.layers) == s.total_params == 25_557_032
    assert top.total_macs == full.total_macs
    # a folded stage carries its blocks' MACs; its geometry is not one kernel
    stage = top.layer("layer2")
    assert stage.macs == sum(r.macs for r in full.layers if r.name.startswith("layer2."))
    assert stage.kernel_size is None and not stage.is_leaf
    zero = summary(model, (3, 64, 64), depth=0)
    assert [r.name for r in zero.layers] == [""] and zero.layers[0].macs == full.total_macs


def test_module_called_twice_gives_two_rows_and_params_once():
    class Twice(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(4, 4, 3, padding=1)

        def forward(self, x):
            return self.conv(self.conv(x))

    s = summary(Twice(), (4, 8, 8))
    first, second = s.layer("conv", 1), s.layer("conv", 2)
    assert first.params == 148 and second.params == 0 and s.total_params == 148
    assert first.macs == second.macs == 4 * 64 * 36
    assert (first.receptive_field, second.receptive_field) == (3, 5)


def test_tied_weights_count_once():
    enc, dec = nn.Linear(6, 6, bias=False), nn.Linear(6, 6, bias=False)
    dec.weight = enc.weight
    s = summary(nn.Sequential(enc, dec), (6,))
    assert s.total_params == 36 and s.total_macs == 72


def test_non_trainable_params_and_memory():
    model = lecture_cnn()
    model[0].requires_grad_(False)
    s = summary(model, (1, 28, 28), batch_size=4)
    assert (s.trainable_params, s.non_trainable_params) == (93_322 - 320, 320)
    assert s.layer("0").trainable_params == 0 and s.layer("0").params == 320
    assert s.param_bytes == 93_322 * 4 and s.input_bytes == 4 * 28 * 28 * 4
    assert s.layer("0").activation_bytes == 4 * 32 * 26 * 26 * 4
    # new tensors of the forward: every row's output (none is a view or in-place here except
    # Flatten, a view) plus the int64 indices of the two max-pools
    rows = sum(r.activation_bytes for r in s.layers if r.type != "Flatten")
    indices = 4 * (32 * 13 * 13 + 64 * 5 * 5) * 8
    assert s.activation_bytes == rows + indices
    assert s.forward_backward_bytes == 2 * s.activation_bytes


def test_inplace_relu_allocates_nothing():
    a = summary(nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(inplace=True)), (1, 10, 10))
    b = summary(nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU()), (1, 10, 10))
    assert b.activation_bytes - a.activation_bytes == 4 * 8 * 8 * 4


def test_integer_inputs_for_embeddings():
    model = nn.Sequential(nn.Embedding(50, 8), nn.Flatten(), nn.Linear(8 * 12, 2))
    s = summary(model, (12,), dtype=torch.long)
    assert s.layer("0").output_shape == [1, 12, 8]
    assert s.total_macs == 96 * 2 and s.dtype == "int64"


# Golden MACs at 224² (torchvision layouts): VGG16 ≈ 15.5 G, ResNet-18 ≈ 1.82 G, AlexNet ≈ 0.71 G.
def test_vgg16_and_resnet50_golden_macs():
    with torch.device("meta"):
        vgg = nn.Sequential(vgg16_features(), nn.Flatten(), nn.Linear(512 * 7 * 7, 4096),
                            nn.Linear(4096, 4096), nn.Linear(4096, 1000))
        res = resnet50()
    s = summary(vgg, (3, 224, 224))
    assert s.total_macs == 15_470_264_320 == reference_macs(vgg, (3, 224, 224))
    assert s.total_flops >= 2 * s.total_macs
    r = summary(res, (3, 224, 224))
    assert r.total_macs == reference_macs(res, (3, 224, 224))
    assert abs(r.total_macs / 4.09e9 - 1) < 0.01 and r.total_params == 25_557_032


ZOO_GOLDEN_MACS = {"vgg16": 15.47e9, "resnet18": 1.82e9, "alexnet": 0.714e9}


def _zoo():
    return pytest.importorskip("cnnlab.zoo")


@pytest.mark.parametrize("name", sorted(ZOO_GOLDEN_MACS))
def test_zoo_golden_macs(name):
    zoo = _zoo()
    if name not in zoo.names():
        pytest.skip(f"zoo model {name} is not registered yet")
    with torch.device("meta"):
        model = zoo.create(name).to("meta")
    s = summary(model, (3, 224, 224))
    assert abs(s.total_macs / ZOO_GOLDEN_MACS[name] - 1) < 0.01, s.total_macs
    assert s.total_flops >= 2 * s.total_macs


def _zoo_names():
    try:
        from cnnlab import zoo
    except ImportError:
        return []
    return zoo.names()


@pytest.mark.parametrize("name", _zoo_names())
def test_every_zoo_model_matches_the_analytic_formula(name):
    from cnnlab import zoo

    with torch.device("meta"):
        model = zoo.create(name).to("meta")  # buffers made from numpy/CPU tensors too
    shape = tuple(zoo.input_shape_for(name))
    dtype = torch.long if any(isinstance(m, nn.Embedding) for m in model.modules()) else None
    s = summary(model, shape, dtype=dtype)
    assert s.total_params == sum(p.numel() for p in model.parameters())
    if dtype is None:
        assert s.total_macs == reference_macs(model, shape)
    # per row: every conv row's MACs is its own formula
    for r in s.layers:
        m = model.get_submodule(r.name)
        if isinstance(m, nn.modules.conv._ConvNd) and not isinstance(m, nn.modules.conv._ConvTransposeNd) \
                and r.call == 1:
            n, cout, *sp = r.output_shape
            assert r.macs == n * cout * math.prod(sp) * m.in_channels // m.groups * math.prod(m.kernel_size)
    assert sum(r.macs for r in s.layers) == s.total_macs


@pytest.mark.parametrize("mode", ["nearest", "bilinear", "bicubic"])
@pytest.mark.parametrize("kw", [{"scale_factor": 2}, {"size": (13, 9)}, {"scale_factor": 1.5}])
def test_meta_upsampling_equals_real(mode, kw):
    model = nn.Sequential(nn.Conv2d(1, 2, 3, stride=2), nn.Upsample(mode=mode, **kw))
    meta, real = summary(model, (1, 21, 17)), summary(model, (1, 21, 17), device="cpu")
    assert [r.output_shape for r in meta.layers] == [r.output_shape for r in real.layers]
    assert (meta.total_flops, meta.activation_bytes) == (real.total_flops, real.activation_bytes)
    taps = {"nearest": 0, "bilinear": 4, "bicubic": 16}[mode]
    assert meta.layer("1").flops == 2 * taps * math.prod(meta.layer("1").output_shape)


def test_fused_attention_counts_like_its_decomposition():
    """On CPU, SDPA and nn.MultiheadAttention run fused kernels; on meta they decompose into matmuls."""
    class SDPA(nn.Module):
        def forward(self, x):
            return F.scaled_dot_product_attention(x, x, x)

    class MHA(nn.Module):
        def __init__(self):
            super().__init__()
            self.attn = nn.MultiheadAttention(8, 2, batch_first=True)

        def forward(self, x):
            return self.attn(x, x, x)[0]

    n, l, e = 2, 5, 8
    for model, shape, macs in ((SDPA(), (n, l, e), n * l * l * e * 2),
                               (MHA(), (l, e), l * e * 3 * e + 2 * l * l * e + l * e * e)):
        meta, real = summary(model, shape, device="meta"), summary(model, shape, device="cpu")
        assert meta.total_macs == real.total_macs == macs
        assert meta.uncounted_ops == real.uncounted_ops == []


def test_modules_never_called_keep_their_params():
    class WithAux(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(1, 2, 3)
            self.aux = nn.Sequential(nn.Flatten(), nn.Linear(8, 3))  # only used in training

        def forward(self, x):
            return self.conv(x)

    s = summary(WithAux(), (1, 4, 4))
    assert s.total_params == 20 + 27
    aux = s.layer("aux", call=0)
    assert aux.output_shape is None and aux.params == 0 and s.layer("aux.1", call=0).params == 27
    assert sum(r.params for r in s.layers) == s.total_params
    assert "aux.1 (not called) (Linear)" in str(s)
    folded = summary(WithAux(), (1, 4, 4), depth=1)
    assert folded.layer("aux", call=0).params == 27


def test_docstring_example_runs():
    import doctest

    import cnnlab.analysis.summarize as mod

    result = doctest.testmod(mod)
    assert result.attempted >= 3 and result.failed == 0
