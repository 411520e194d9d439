"""Pieces shared by the zoo families: torchvision's ``Conv2dNormActivation``, channel rounding, init."""

from __future__ import annotations

from typing import Callable, Optional

from torch import nn

__all__ = ["Conv2dNormActivation", "make_divisible", "init_torchvision", "is_meta"]


def make_divisible(v: float, divisor: int = 8, min_value: Optional[int] = None) -> int:
    """Round channels to a multiple of ``divisor`` without going more than 10% down (MobileNet rule)."""
    if min_value is None:
        min_value = divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


class Conv2dNormActivation(nn.Sequential):
    """Conv2d (no bias when normalised) → norm → activation, "same"-style padding (k−1)/2·d.

    Children ``0``, ``1``, ``2`` as in torchvision, so state-dict keys match (``features.0.0.weight``).
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3, stride: int = 1,
                 groups: int = 1, norm_layer: Optional[Callable[..., nn.Module]] = nn.BatchNorm2d,
                 activation_layer: Optional[Callable[..., nn.Module]] = nn.ReLU, dilation: int = 1):
        padding = (kernel_size - 1) // 2 * dilation
        layers = [nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding, dilation=dilation,
                            groups=groups, bias=norm_layer is None)]
        if norm_layer is not None:
            layers.append(norm_layer(out_channels))
        if activation_layer is not None:
            layers.append(activation_layer(inplace=True))
        super().__init__(*layers)
        self.out_channels = out_channels


def init_torchvision(model: nn.Module, linear_std: float = 0.01, conv_mode: str = "fan_out") -> None:
    """torchvision's default init: Kaiming-normal convs (fan_out, ReLU), BN 1/0, N(0, std) linears, zero biases.

    Skipped for models on the ``meta`` device (parameter counting): there is nothing to initialise, and
    torch's meta ``normal_`` is slow on first use.
    """
    if is_meta(model):
        return
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode=conv_mode, nonlinearity="relu")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, 0, linear_std)
            if m.bias is not None:
                nn.init.zeros_(m.bias)


def is_meta(model: nn.Module) -> bool:
    """True when the model's parameters live on the ``meta`` device (shapes only, no data)."""
    p = next(model.parameters(), None)
    return p is not None and p.is_meta
