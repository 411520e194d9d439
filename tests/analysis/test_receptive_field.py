"""Receptive field, jump and start from the executed graph, against goldens and autograd.

The independent reference is :func:`analysis_nets.empirical_field`: with positive weights and inputs,
the input pixels whose gradient is non-zero for one output unit are exactly its receptive field (max
pooling is swapped for average pooling there, since a max passes gradient to one pixel only).
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from analysis_nets import Inception, empirical_field, positive_weights, resnet50, vgg16_features
from cnnlab.analysis import summary


def _first_pixel(rec, index: int) -> float:
    """First input row of output ``index``'s field from the summary's start/jump/rf."""
    return rec.start + index * rec.jump - 0.5 - (rec.receptive_field - 1) / 2


def test_three_3x3_convs_have_field_7():
    model = nn.Sequential(*[nn.Conv2d(2, 2, 3) for _ in range(3)])
    s = summary(model, (2, 20, 20))
    assert [s.layer(str(i)).receptive_field for i in range(3)] == [3, 5, 7]
    assert s.receptive_field == 7 and s.layer("2").jump == 1 and not s.layer("2").rf_merged
    rf, first, (h, _) = empirical_field(positive_weights(model), (2, 20, 20))
    assert rf == 7 and first == _first_pixel(s.layer("2"), h)


def test_two_3x3_equal_one_5x5():
    two = summary(nn.Sequential(nn.Conv2d(1, 1, 3), nn.Conv2d(1, 1, 3)), (1, 9, 9))
    one = summary(nn.Conv2d(1, 1, 5), (1, 9, 9))
    assert two.receptive_field == one.receptive_field == 5


def test_vgg16_pool5_field_212_jump_32():
    with torch.device("meta"):
        s = summary(vgg16_features(), (3, 224, 224))
    pool5 = s.layer("30")
    assert (pool5.type, pool5.receptive_field, pool5.jump) == ("MaxPool2d", 212, 32)
    assert s.receptive_field == 212


def test_vgg16_fields_match_autograd():
    """The same layout with 1/32 of the channels (fields do not depend on widths), pools averaged."""
    model = positive_weights(vgg16_features(pool=nn.AvgPool2d, width=32))
    s = summary(model, (3, 256, 256))
    rf, first, (h, _) = empirical_field(model, (3, 256, 256))
    assert rf == s.layer("30").receptive_field == 212
    assert first == _first_pixel(s.layer("30"), h)
    pool3 = nn.Sequential(*list(model)[:17])
    rf3, first3, (h3, _) = empirical_field(pool3, (3, 96, 96))
    assert (rf3, first3) == (s.layer("16").receptive_field, _first_pixel(s.layer("16"), h3))
    assert (s.layer("16").receptive_field, s.layer("16").jump) == (44, 8)


def test_zoo_vgg16_pool5():
    zoo = pytest.importorskip("cnnlab.zoo")
    if "vgg16" not in zoo.names():
        pytest.skip("zoo vgg16 not registered yet")
    with torch.device("meta"):
        s = summary(zoo.create("vgg16"), (3, 224, 224))
    assert (s.layer("features.30").receptive_field, s.layer("features.30").jump) == (212, 32)


def _trunk(model):
    return nn.Sequential(model.conv1, model.bn1, model.relu, model.maxpool,
                         model.layer1, model.layer2, model.layer3, model.layer4)


def test_resnet50_field_483_original_and_427_torchvision():
    with torch.device("meta"):
        v1, v15 = resnet50(stride_in_1x1=True), resnet50(stride_in_1x1=False)
    a, b = summary(v1, (3, 224, 224)), summary(v15, (3, 224, 224))
    assert (a.layer("layer4").receptive_field, a.layer("layer4").jump) == (483, 32)
    assert (b.layer("layer4").receptive_field, b.layer("layer4").jump) == (427, 32)
    assert a.layer("layer4").rf_merged and not a.layer("conv1").rf_merged
    # global average pooling is not "the" receptive field of the network
    assert a.layer("avgpool").receptive_field > 483
    assert a.receptive_field == 483 and b.receptive_field == 427


@pytest.mark.parametrize("stride_in_1x1, expected", [(True, 483), (False, 427)])
def test_resnet50_field_matches_autograd(stride_in_1x1, expected):
    model = positive_weights(_trunk(resnet50(stride_in_1x1, div=16, pool=nn.AvgPool2d)))
    s = summary(model, (3, 544, 544))
    rf, first, (h, _) = empirical_field(model, (3, 544, 544))
    assert rf == s.layer("7").receptive_field == expected
    assert first == _first_pixel(s.layer("7"), h)


def test_zoo_resnet50_field():
    zoo = pytest.importorskip("cnnlab.zoo")
    if "resnet50" not in zoo.names():
        pytest.skip("zoo resnet50 not registered yet")
    with torch.device("meta"):
        s = summary(zoo.create("resnet50").to("meta"), (3, 224, 224))
    # torchvision's layout (stride in the 3×3 conv, "v1.5") gives 427; the original ResNet 483
    assert s.layer("layer4").receptive_field in (427, 483)
    assert s.layer("layer4").rf_merged


def test_dilation_context_module_field_67():
    dil = (1, 1, 2, 4, 8, 16, 1)
    model = nn.Sequential(*[nn.Conv2d(2, 2, 3, padding=d, dilation=d) for d in dil], nn.Conv2d(2, 2, 1))
    s = summary(model, (2, 100, 100))
    assert s.layer("7").receptive_field == 1 + 2 * sum(dil) == 67
    assert s.layer("2").dilation == [2, 2]
    rf, first, (h, _) = empirical_field(positive_weights(model), (2, 100, 100))
    assert rf == 67 and first == _first_pixel(s.layer("7"), h)


def test_zoo_dilated_context_field():
    zoo = pytest.importorskip("cnnlab.zoo")
    if "dilated_context" not in zoo.names():
        pytest.skip("zoo dilated_context not registered yet")
    with torch.device("meta"):
        model = zoo.create("dilated_context").to("meta")
    s = summary(model, tuple(zoo.input_shape_for("dilated_context")))
    assert s.receptive_field == 67


def test_inception_takes_the_largest_branch_and_marks_it():
    model = Inception(cin=3)
    s = summary(model, (3, 16, 16), depth=0)
    root = s.layers[0]
    assert root.receptive_field == 5 and root.rf_merged
    rf, _, _ = empirical_field(positive_weights(Inception(cin=3)), (3, 16, 16))
    assert rf == 5
    branches = summary(model, (3, 16, 16))
    assert [branches.layer(n).receptive_field for n in ("b1", "b3", "b5", "bp")] == [1, 3, 5, 3]


def test_residual_add_merges_paths():
    class Res(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b = nn.Conv2d(2, 2, 3, padding=1), nn.Conv2d(2, 2, 3, padding=1)

        def forward(self, x):
            return F.relu(x + self.b(F.relu(self.a(x))))

    model = Res()
    s = summary(model, (2, 12, 12), depth=0)
    assert (s.layers[0].receptive_field, s.layers[0].rf_merged) == (5, True)
    assert empirical_field(positive_weights(Res()), (2, 12, 12))[0] == 5


@pytest.mark.parametrize("mode, rf", [("nearest", 3), ("bilinear", 5)])
def test_upsampling_divides_the_jump(mode, rf):
    model = nn.Sequential(nn.Conv2d(1, 1, 3, stride=2), nn.Upsample(scale_factor=2, mode=mode))
    s = summary(model, (1, 21, 21))
    up = s.layer("1")
    assert (s.layer("0").jump, up.jump, up.receptive_field) == (2, 1, rf)
    measured, _, _ = empirical_field(positive_weights(model), (1, 21, 21))
    assert measured == rf


def test_start_with_padding_and_stride():
    model = nn.Sequential(nn.Conv2d(1, 1, 3, padding=1), nn.Conv2d(1, 1, 3), nn.Conv2d(1, 1, 5, stride=3, padding=2))
    s = summary(model, (1, 40, 40))
    assert [s.layer(str(i)).start for i in range(3)] == [0.5, 1.5, 1.5]
    rf, first, (h, _) = empirical_field(positive_weights(model), (1, 40, 40))
    assert rf == s.layer("2").receptive_field == 9 and first == _first_pixel(s.layer("2"), h)


def test_squeeze_excitation_gate_is_not_a_path():
    class SE(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(4, 4, 3, padding=1)
            self.fc = nn.Conv2d(4, 4, 1)

        def forward(self, x):
            y = self.conv(x)
            return y * torch.sigmoid(self.fc(y.mean((2, 3), keepdim=True)))

    s = summary(SE(), (4, 10, 10), depth=0)
    assert s.layers[0].receptive_field == 3 and not s.layers[0].rf_merged


def test_flatten_drops_the_field_and_1d_and_rectangular_fields():
    s = summary(nn.Sequential(nn.Conv1d(4, 4, 3), nn.Conv1d(4, 4, 3, dilation=2), nn.Flatten()), (4, 20))
    assert (s.layer("1").receptive_field, s.layer("2").receptive_field) == (7, None)
    r = summary(nn.Sequential(nn.Conv2d(1, 1, (3, 5)), nn.MaxPool2d((2, 1))), (1, 10, 10))
    assert r.layer("1").receptive_field == [4, 5] and r.layer("1").jump == [2, 1]
    assert "4x5" in str(r)
