"""Hand-built reference models and independent references for the summary tests.

- ``lecture_cnn()``: the Keras lecture CNN as a plain ``nn.Sequential`` (no cnnlab builder).
- ``vgg16_features()`` / ``resnet50(stride_in_1x1)``: torchvision-layout VGG16 and ResNet-50
  (``stride_in_1x1=True`` is the original ResNet v1, whose receptive field is the published 483;
  torchvision's v1.5 puts the stride in the 3×3 conv).
- ``reference_macs(model, shape)``: conv/linear (and single-layer LSTM, log-mel filterbank) MACs from the
  analytic formula
  Cout·OH·OW·(Cin/groups)·KH·KW, read from plain forward hooks (no dispatch counting).
- ``empirical_field(model, shape)``: receptive field measured with autograd: the input extent whose
  gradient is non-zero for one output unit, with positive weights and inputs (no cancellations).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


def lecture_cnn() -> nn.Sequential:
    """Conv32-pool-Conv64-pool-Conv64-Flatten-Dense64-Dense10 on 1×28×28 (valid padding)."""
    return nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(64, 64, 3), nn.ReLU(),
        nn.Flatten(), nn.Linear(3 * 3 * 64, 64), nn.ReLU(), nn.Linear(64, 10),
    )


VGG16_CFG = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]


def vgg16_features(pool: type = nn.MaxPool2d, width: int = 1) -> nn.Sequential:
    """VGG16's ``features`` (index 30 is pool5); ``width`` divides every channel count."""
    layers, c = [], 3
    for v in VGG16_CFG:
        if v == "M":
            layers.append(pool(2, 2))
        else:
            layers += [nn.Conv2d(c, v // width, 3, padding=1), nn.ReLU(inplace=True)]
            c = v // width
    return nn.Sequential(*layers)


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, cin: int, width: int, stride: int, stride_in_1x1: bool) -> None:
        super().__init__()
        s1, s3 = (stride, 1) if stride_in_1x1 else (1, stride)
        cout = width * self.expansion
        self.conv1 = nn.Conv2d(cin, width, 1, stride=s1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, stride=s3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, cout, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False),
                                            nn.BatchNorm2d(cout))

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        out += identity
        return self.relu(out)


class ResNet50(nn.Module):
    def __init__(self, stride_in_1x1: bool = False, num_classes: int = 1000, div: int = 1,
                 pool: type = nn.MaxPool2d) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64 // div, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64 // div)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = pool(3, stride=2, padding=1)
        cin, stages = 64 // div, []
        for width, blocks, stride in ((64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)):
            layer = []
            for i in range(blocks):
                layer.append(Bottleneck(cin, width // div, stride if i == 0 else 1, stride_in_1x1))
                cin = width // div * 4
            stages.append(nn.Sequential(*layer))
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(cin, num_classes)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def resnet50(stride_in_1x1: bool = False, **kw) -> ResNet50:
    """``stride_in_1x1=True``: original ResNet (rf 483); False: torchvision's v1.5 (rf 427)."""
    return ResNet50(stride_in_1x1, **kw)


class Inception(nn.Module):
    """GoogLeNet-style module: 1×1, 1×1→3×3, 1×1→5×5 and pool→1×1 branches, concatenated."""

    def __init__(self, cin: int = 8) -> None:
        super().__init__()
        self.b1 = nn.Conv2d(cin, 4, 1)
        self.b3 = nn.Sequential(nn.Conv2d(cin, 4, 1), nn.Conv2d(4, 4, 3, padding=1))
        self.b5 = nn.Sequential(nn.Conv2d(cin, 4, 1), nn.Conv2d(4, 4, 5, padding=2))
        self.bp = nn.Sequential(nn.MaxPool2d(3, 1, padding=1), nn.Conv2d(cin, 4, 1))

    def forward(self, x):
        return torch.cat([self.b1(x), self.b3(x), self.b5(x), self.bp(x)], 1)


class FunctionalNet(nn.Module):
    """Conv and dense written with ``F.conv2d``, ``F.max_pool2d`` and ``x @ w`` in ``forward``."""

    def __init__(self) -> None:
        super().__init__()
        self.w1 = nn.Parameter(torch.randn(8, 3, 3, 3))
        self.b1 = nn.Parameter(torch.zeros(8))
        self.w2 = nn.Parameter(torch.randn(16, 4, 3, 3))  # groups=2
        self.w3 = nn.Parameter(torch.randn(16 * 7 * 7, 10))

    def forward(self, x):
        x = F.relu(F.conv2d(x, self.w1, self.b1, stride=1, padding=1))
        x = F.max_pool2d(x, 2)
        x = F.relu(F.conv2d(x, self.w2, None, stride=2, padding=1, dilation=1, groups=2))
        return x.flatten(1) @ self.w3


class ModuleNet(nn.Module):
    """The module twin of :class:`FunctionalNet`."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(8, 16, 3, stride=2, padding=1, groups=2, bias=False)
        self.fc = nn.Linear(16 * 7 * 7, 10, bias=False)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        return self.fc(F.relu(self.conv2(x)).flatten(1))


def reference_macs(model: nn.Module, shape) -> int:
    """Conv/linear MACs by the analytic formula, from output shapes seen by plain forward hooks.

    Runs on the meta device when the model lives there, else on the model's device.
    """
    from cnnlab.apps.speech.frontend import LogMel

    total = 0

    def hook(m, inp, out):
        nonlocal total
        x = inp[0]
        if isinstance(m, nn.LSTM):  # steps × directions × 4 gates × hidden × (inputs + hidden), one layer
            n, steps = (x.shape[0], x.shape[1]) if m.batch_first else (x.shape[1], x.shape[0])
            dirs = 2 if m.bidirectional else 1
            total += n * steps * dirs * 4 * m.hidden_size * (m.input_size + m.hidden_size)
        elif isinstance(m, LogMel):  # the mel filterbank (M, K) applied to every frame's K power bins
            n, mels, frames = out.shape
            total += n * frames * mels * (m.n_fft // 2 + 1)
        elif isinstance(m, nn.modules.conv._ConvTransposeNd):
            total += x.numel() * (m.out_channels // m.groups) * math.prod(m.kernel_size)
        elif isinstance(m, nn.modules.conv._ConvNd):
            n, cout, *spatial = out.shape
            total += n * cout * math.prod(spatial) * (m.in_channels // m.groups) * math.prod(m.kernel_size)
        elif isinstance(m, nn.Linear):
            total += out.numel() // m.out_features * m.in_features * m.out_features

    device = next(iter(model.parameters())).device
    handles = [m.register_forward_hook(hook) for m in model.modules()
               if isinstance(m, (nn.modules.conv._ConvNd, nn.Linear, nn.LSTM, LogMel))]
    was = model.training
    try:
        model.eval()
        with torch.no_grad():
            model(torch.zeros((1, *shape), device=device))
    finally:
        model.train(was)
        for h in handles:
            h.remove()
    return total


def positive_weights(model: nn.Module) -> nn.Module:
    """float64 copy-in-place with all weights in [0.1, 1] so no gradient cancels."""
    g = torch.Generator().manual_seed(0)
    model.double()
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.rand(p.shape, generator=g, dtype=torch.float64) * 0.9 + 0.1)
    return model.eval()


def empirical_field(model: nn.Module, shape, index=None):
    """(rf, first input pixel) along H of one output unit, from the non-zero input gradient.

    ``index`` is the output (h, w) to probe (default: the centre of the output map).
    """
    x = (torch.rand((1, *shape), dtype=torch.float64, generator=torch.Generator().manual_seed(1)) + 0.5)
    x.requires_grad_(True)
    y = model(x)
    h, w = index if index is not None else (y.shape[2] // 2, y.shape[3] // 2)
    y[0, :, h, w].sum().backward()
    rows = (x.grad[0].abs().sum(dim=(0, 2)) > 0).nonzero().flatten()
    return int(rows.max() - rows.min() + 1), int(rows.min()), (h, w)
