"""Grad-CAM family on a hand-weighted toy net with a closed form (CAM architecture: conv → GAP → linear)."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from cnnlab.errors import ConfigError, ShapeError, UnknownNameError
from cnnlab.explain import GradCAM, GradCAMPlusPlus, GuidedBackprop, GuidedGradCAM, last_conv_layer


class CamNet(nn.Module):
    """conv(1→2, hand kernels) → ReLU → global average pool → linear(2→3, hand weights)."""

    def __init__(self, stride: int = 1):
        super().__init__()
        self.conv = nn.Conv2d(1, 2, 3, padding=1, stride=stride)
        self.relu = nn.ReLU()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(2, 3)
        with torch.no_grad():
            self.conv.weight.copy_(torch.tensor([[[[1, 0, -1], [2, 0, -2], [1, 0, -1]]],      # vertical edges
                                                 [[[1, 2, 1], [0, 0, 0], [-1, -2, -1]]]]))  # horizontal edges
            self.conv.bias.copy_(torch.tensor([0.1, -0.2]))
            self.fc.weight.copy_(torch.tensor([[2.0, -1.0], [-0.5, 3.0], [1.0, 1.0]]))
            self.fc.bias.zero_()

    def forward(self, x):
        return self.fc(self.pool(self.relu(self.conv(x))).flatten(1))


def _closed_form(net, x, c, plusplus=False):
    A = F.relu(F.conv2d(x, net.conv.weight, net.conv.bias, stride=net.conv.stride, padding=1))  # (N, 2, h, w)
    h, w = A.shape[-2:]
    g = net.fc.weight[c].view(1, -1, 1, 1) / (h * w)  # dy_c/dA_k,ij, constant over the map
    if plusplus:
        a = g**2 / (2 * g**2 + A.sum((2, 3), keepdim=True) * g**3)
        alpha = h * w * a * g.clamp(min=0)
    else:
        alpha = g
    return (alpha * A).sum(1, keepdim=True).clamp(min=0)


def _image():
    x = torch.zeros(1, 1, 6, 6, dtype=torch.float64)
    x[..., 1:5, 2] = 1.0  # a vertical bar
    x[..., 4, 1:5] += 0.7  # a horizontal bar
    return x


@pytest.mark.parametrize("cls,pp", [(GradCAM, False), (GradCAMPlusPlus, True)])
def test_gradcam_equals_closed_form(cls, pp):
    net = CamNet().double()
    x = _image()
    for c in range(3):
        cam = cls(net, layer="relu").attribute(x, target=c)
        assert cam.shape == (1, 1, 6, 6)
        torch.testing.assert_close(cam, _closed_form(net, x, c, plusplus=pp), rtol=1e-10, atol=1e-12)
    # class 0 favours vertical edges, class 1 horizontal ones: the maps differ
    assert not torch.allclose(cls(net, "relu").attribute(x, 0), cls(net, "relu").attribute(x, 1))


def test_gradcam_upsamples_bilinearly_to_the_input():
    net = CamNet(stride=2).double()
    x = _image()
    cam = GradCAM(net, layer=net.relu).attribute(x, target=1)
    expected = F.interpolate(_closed_form(net, x, 1), size=(6, 6), mode="bilinear", align_corners=False)
    assert cam.shape == (1, 1, 6, 6)
    torch.testing.assert_close(cam, expected, rtol=1e-10, atol=1e-12)


def test_gradcam_on_pre_relu_conv_output_with_in_place_relu_after_it():
    net = CamNet().double()
    net.relu = nn.ReLU(inplace=True)
    x = _image()
    A = F.conv2d(x, net.conv.weight, net.conv.bias, padding=1)  # pre-activation maps
    alpha = (net.fc.weight[2].view(1, -1, 1, 1) * (A > 0)).mean((2, 3), keepdim=True) / 36
    expected = (alpha * A).sum(1, keepdim=True).clamp(min=0)
    torch.testing.assert_close(GradCAM(net, "conv").attribute(x, target=2), expected, rtol=1e-10, atol=1e-12)


def test_default_layer_is_the_last_spatial_conv():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.c1 = nn.Conv2d(1, 4, 3, padding=1)
            self.c2 = nn.Conv2d(4, 4, 3, padding=1)
            self.pool = nn.AdaptiveAvgPool2d(1)
            self.head = nn.Conv2d(4, 3, 1)  # a 1×1 "classifier" conv on a 1×1 map: not spatial

        def forward(self, x):
            return self.head(self.pool(F.relu(self.c2(F.relu(self.c1(x)))))).flatten(1)

    net = Net()
    x = torch.randn(2, 1, 8, 8)
    assert last_conv_layer(net, x) is net.c2
    gc = GradCAM(net)
    cam = gc.attribute(x)
    assert gc.layer is net.c2 and cam.shape == (2, 1, 8, 8) and (cam >= 0).all()


def test_target_none_and_batch_rows_are_independent(trained_cnn, digits):
    x = digits[0][:5]
    gc = GradCAM(trained_cnn, "features.3")
    pred = trained_cnn(x).argmax(1)
    batch = gc.attribute(x)
    torch.testing.assert_close(batch, gc.attribute(x, target=pred.tolist()))
    for i in range(5):
        torch.testing.assert_close(batch[i : i + 1], gc.attribute(x[i : i + 1], target=int(pred[i])), rtol=1e-5, atol=1e-6)


def test_guided_gradcam_is_guided_backprop_times_cam(trained_cnn, digits):
    x = digits[0][10:12]
    ggc = GuidedGradCAM(trained_cnn, "features.3").attribute(x, target=4)
    expected = GuidedBackprop(trained_cnn).attribute(x, target=4) * GradCAM(trained_cnn, "features.3").attribute(x, target=4)
    assert ggc.shape == x.shape
    torch.testing.assert_close(ggc, expected)


def test_gradcam_errors():
    net = CamNet()
    x = torch.randn(1, 1, 6, 6)
    with pytest.raises(UnknownNameError, match=r"`layer` 'nope' is not a module of the model; known: conv, relu"):
        GradCAM(net, "nope")
    with pytest.raises(ShapeError, match=r"must output N×K×h×w feature maps; Linear gave \(1, 3\)"):
        GradCAM(net, "fc").attribute(x)
    with pytest.raises(ConfigError, match=r"`layer` must be a module of the model"):
        GradCAM(net, nn.Conv2d(1, 1, 1))
    with pytest.raises(TypeError, match=r"`layer` must be an nn.Module or a dotted module name; got int"):
        GradCAM(net, 3)
    with pytest.raises(ConfigError, match=r"no nn.Conv2d layer"):
        GradCAM(nn.Sequential(nn.Flatten(), nn.Linear(36, 2))).attribute(x)
