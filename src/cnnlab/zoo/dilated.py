"""The context module of Yu & Koltun (ICLR 2016, "Multi-scale context aggregation by dilated convolutions").

Seven 3×3 convolutions with dilations 1, 1, 2, 4, 8, 16, 1 (each followed by ReLU) and a final 1×1
conv: the receptive field grows exponentially (3, 5, 9, 17, 33, 65, 67) while the resolution stays.
It maps C class-score maps to C refined maps. Basic module: C channels throughout (64·C² weights);
large module: 2C, 2C, 4C, 8C, 16C, 32C, 32C, C. The paper's identity initialisation
(w(t, a) = 1[t = 0]·1[a = b], eq. 3; eq. 4 for the large module, without its noise) is the default, so
an untrained basic module passes its (non-negative) input through unchanged.
"""

from __future__ import annotations

import torch
from torch import nn

from cnnlab.zoo.common import is_meta
from cnnlab.zoo.registry import register

__all__ = ["ContextModule", "DILATIONS"]

DILATIONS = (1, 1, 2, 4, 8, 16, 1)
_LARGE = (2, 2, 4, 8, 16, 32, 32)


class ContextModule(nn.Module):
    """``features`` (7 dilated 3×3 conv + ReLU) → ``classifier`` (1×1 conv). Shape: (N, C, H, W) -> (N, C, H, W)."""

    def __init__(self, num_classes: int = 21, large: bool = False, identity_init: bool = True):
        super().__init__()
        widths = [num_classes * m for m in _LARGE] if large else [num_classes] * len(DILATIONS)
        layers, cin = [], num_classes
        for d, cout in zip(DILATIONS, widths):
            layers += [nn.Conv2d(cin, cout, 3, padding=d, dilation=d), nn.ReLU(inplace=True)]
            cin = cout
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Conv2d(cin, num_classes, 1)
        if identity_init and not is_meta(self):
            for conv in [m for m in self.features if isinstance(m, nn.Conv2d)] + [self.classifier]:
                _identity_(conv, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


@torch.no_grad()
def _identity_(conv: nn.Conv2d, classes: int) -> None:
    """Paper eq. 4 without its noise term: w[b, a, centre] = C / c_out if ⌊a·C/c_in⌋ = ⌊b·C/c_out⌋, else 0.

    With c_in = c_out = C this is eq. 3, the identity.
    """
    conv.weight.zero_()
    conv.bias.zero_()
    cout, cin, kh, kw = conv.weight.shape
    for b in range(cout):
        for a in range(cin):
            if a * classes // cin == b * classes // cout:
                conv.weight[b, a, kh // 2, kw // 2] = classes / cout


@register("dilated_context", (21, 64, 64), "Yu & Koltun (2016) context module: 3×3 convs dilated 1-1-2-4-8-16-1, RF 67")
def dilated_context(num_classes: int = 21, large: bool = False, identity_init: bool = True) -> ContextModule:
    """The basic (default) or large context module for ``num_classes`` score maps."""
    return ContextModule(num_classes, large, identity_init)
