"""torchvision-layout zoo models: exact parameter counts, state-dict keys, forward on tiny inputs."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from cnnlab import zoo
from cnnlab.zoo.efficientnet import Conv2dSame


def meta_model(name: str, **kw) -> nn.Module:
    with torch.device("meta"):
        return zoo.create(name, **kw)


def n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("name,params", [
    ("mobilenet_v2", 3_504_872), ("vgg16", 138_357_544),
    # torchvision's documented counts for the other VGGs
    ("vgg11", 132_863_336), ("vgg11_bn", 132_868_840), ("vgg13", 133_047_848), ("vgg13_bn", 133_053_736),
    ("vgg16_bn", 138_365_992), ("vgg19", 143_667_240), ("vgg19_bn", 143_678_248),
])
def test_torchvision_param_counts(name, params):
    assert zoo.info(name)["params"] == params


def test_mobilenet_v2_structure_and_keys():
    model = meta_model("mobilenet_v2")
    keys = list(model.state_dict())
    assert keys[0] == "features.0.0.weight" and keys[-2:] == ["classifier.1.weight", "classifier.1.bias"]
    assert "features.1.conv.0.0.weight" in keys and "features.2.conv.0.0.weight" in keys
    assert "features.18.0.weight" in keys and len(model.features) == 19
    # the skip connection is used exactly where stride 1 and channels stay: blocks 3,5,6,8,9,10,12,13,15,16
    skips = [i for i, m in enumerate(model.features) if getattr(m, "use_res_connect", False)]
    assert skips == [3, 5, 6, 8, 9, 10, 12, 13, 15, 16]
    assert isinstance(model.avgpool, nn.AdaptiveAvgPool2d) and isinstance(model.classifier[1], nn.Linear)


def test_small_mobilenet_forward():
    model = zoo.create("mobilenet_v2", num_classes=7, width_mult=0.25).eval()
    with torch.no_grad():
        assert model(torch.randn(2, 3, 32, 32)).shape == (2, 7)


def test_vgg_structure():
    model = meta_model("vgg16")
    convs = [m for m in model.features if isinstance(m, nn.Conv2d)]
    pools = [i for i, m in enumerate(model.features) if isinstance(m, nn.MaxPool2d)]
    assert len(convs) == 13 and pools == [4, 9, 16, 23, 30]
    assert all(c.kernel_size == (3, 3) and c.padding == (1, 1) for c in convs)
    assert model.avgpool.output_size == (7, 7) and model.classifier[0].in_features == 25088
    bn = meta_model("vgg16_bn")
    assert len(bn.features) == 44 and isinstance(bn.features[1], nn.BatchNorm2d)
    assert "features.41.running_var" in bn.state_dict()


def test_efficientnet_lite0_structure():
    model = meta_model("efficientnet_lite0")
    assert n_params(model) == 4_652_008 and len(model._blocks) == 16
    assert model._bn0.eps == 1e-3 and isinstance(model._blocks[3]._depthwise_conv, Conv2dSame)
    assert [b._depthwise_conv.kernel_size[0] for b in model._blocks] == [3, 3, 3, 5, 5, 3, 3, 3, 5, 5, 5, 5, 5, 5, 5, 3]
    assert "_blocks.0._expand_conv.weight" not in model.state_dict()
    assert "_blocks.1._expand_conv.weight" in model.state_dict()


@pytest.mark.parametrize("n,k,s,pads", [(224, 3, 2, (0, 1)), (56, 5, 2, (1, 2)), (7, 3, 2, (1, 1))])
def test_conv2d_same_pads_like_tensorflow(n, k, s, pads):
    conv = Conv2dSame(2, 3, k, s, bias=True).double()
    x = torch.randn(1, 2, n, n, dtype=torch.float64)
    ref = F.conv2d(F.pad(x, (pads[0], pads[1], pads[0], pads[1])), conv.weight, conv.bias, stride=s)
    out = conv(x)
    assert out.shape[-1] == -(-n // s)
    torch.testing.assert_close(out, ref)


def test_efficientnet_lite0_forward_small():
    model = zoo.create("efficientnet_lite0", num_classes=5).eval()
    with torch.no_grad():
        assert model(torch.randn(1, 3, 64, 64)).shape == (1, 5)
