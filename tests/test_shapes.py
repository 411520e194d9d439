"""The lecture formulas in cnnlab.shapes against hand-computed values and torch itself."""

import pytest
import torch
import torch.nn as nn

from cnnlab import shapes


def test_output_size_lecture_formula():
    # ⌊(n + 2p − f)/s⌋ + 1
    assert shapes.conv_output_size(28, 3) == 26
    assert shapes.conv_output_size(6, 3) == 4
    assert shapes.conv_output_size(7, 3, stride=2) == 3
    assert shapes.conv_output_size(100, 3, padding=2) == 102
    assert shapes.conv_output_size(5, 3, padding=1, dilation=2) == 3


@pytest.mark.parametrize("n,k,s,p,d", [(9, 3, 2, 1, 1), (10, 4, 3, 2, 2), (13, 5, 1, 0, 3), (8, 2, 2, 0, 1)])
def test_output_size_matches_torch(n, k, s, p, d):
    conv = nn.Conv2d(1, 1, k, stride=s, padding=p, dilation=d)
    assert conv(torch.zeros(1, 1, n, n)).shape[-1] == shapes.conv_output_size(n, k, s, p, d)


@pytest.mark.parametrize("n,k,s,p", [(7, 3, 2, 0), (8, 3, 2, 1), (5, 2, 2, 0), (6, 3, 3, 1)])
def test_ceil_mode_matches_torch(n, k, s, p):
    pool = nn.MaxPool2d(k, stride=s, padding=p, ceil_mode=True)
    assert pool(torch.zeros(1, 1, n, n)).shape[-1] == shapes.conv_output_size(n, k, s, p, ceil_mode=True)


def test_maxpool_design_example():
    # nn.MaxPool2d(3, padding=1, stride=(2, 1)) on 1×2×4×4 -> 1×2×2×4
    assert (shapes.conv_output_size(4, 3, 2, 1), shapes.conv_output_size(4, 3, 1, 1)) == (2, 4)


@pytest.mark.parametrize("n,k,s", [(28, 3, 1), (28, 3, 2), (7, 2, 2), (224, 7, 2), (5, 4, 1)])
def test_same_padding_keeps_ceil_n_over_s(n, k, s):
    before, after = shapes.same_padding(n, k, s)
    assert shapes.conv_output_size(n, k, s, before, padding_end=after) == -(-n // s)
    assert 0 <= after - before <= 1


def test_param_formulas_golden():
    assert shapes.conv_params(3, 10, 3) == 280
    assert shapes.dense_params(3 * 256 * 256, 1000) == 196_609_000
    assert shapes.conv_params(2, 3, (3, 5)) == nn.Conv2d(2, 3, (3, 5)).weight.numel() + 3
    assert shapes.conv_params(8, 16, 3, groups=4, bias=False) == nn.Conv2d(8, 16, 3, groups=4).weight.numel()


def test_param_formula_rejects_bad_groups():
    with pytest.raises(ValueError, match="divisible by groups=3"):
        shapes.conv_params(4, 6, 3, groups=3)


def test_receptive_field_goldens():
    assert shapes.receptive_field([(3, 1, 0, 1)] * 3).rf == 7
    assert shapes.receptive_field([(3, 1, 0, 1)] * 2).rf == shapes.receptive_field([(5, 1, 0, 1)]).rf == 5
    # VGG16 through pool5: 13 convs 3×3 pad 1 and 5 pools 2×2 stride 2
    cfg = [2, 2, 3, 3, 3]
    layers = []
    for n in cfg:
        layers += [(3, 1, 1, 1)] * n + [(2, 2, 0, 1)]
    field = shapes.receptive_field(layers)
    assert (field.rf, field.jump) == (212, 32)
    # dilation: a 3×3 conv with dilation 2 sees 5 pixels; stacking 1,2,4 gives 15 (Yu & Koltun)
    assert shapes.receptive_field([(3, 1, 0, 1), (3, 1, 0, 2), (3, 1, 0, 4)]).rf == 15


def test_pair_validation():
    assert shapes.pair(3) == (3, 3)
    assert shapes.pair((1, 2)) == (1, 2)
    with pytest.raises(ValueError, match="must have 2 values; got 3"):
        shapes.pair((1, 2, 3), "kernel_size")
    with pytest.raises(TypeError, match="`stride` must be an int"):
        shapes.pair(None, "stride")
