"""What a layer holds: its filters (weights) and its feature maps (outputs) for an input.

Returned as plain tensors laid out for display (one image per row of the first axis); rendering to a
grid / PNG lives in :mod:`cnnlab.pictures`.
"""

from __future__ import annotations

import torch
from torch import nn

from cnnlab.errors import ConfigError, ShapeError
from cnnlab.explain._core import capturing, check_input, explaining, resolve_layer


def first_conv_layer(model: nn.Module) -> nn.Module:
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            return m
    raise ConfigError("the model has no nn.Conv2d layer; pass `layer=`")


def filters(model: nn.Module, layer: nn.Module | str | None = None, mode: str = "auto",
            max_channels: int = 8) -> torch.Tensor:
    """A conv layer's kernels as images. Shape (F', C', KH, KW), detached, float32.

    Args:
        layer: conv layer (module or dotted name); ``None`` = the first ``nn.Conv2d``.
        mode: ``"rgb"`` (F, C, KH, KW): one image per filter, only for C ∈ {1, 3} (the first layer);
            ``"channels"``: one grey image per (filter, input channel), first ``max_channels`` channels,
            (F·C', 1, KH, KW) filter-major; ``"norm"``: the L2 norm over input channels, (F, 1, KH, KW);
            ``"auto"``: ``"rgb"`` when C ∈ {1, 3}, else ``"channels"``.
    """
    layer = first_conv_layer(model) if layer is None else resolve_layer(model, layer)
    w = getattr(layer, "weight", None)
    if not isinstance(w, torch.Tensor) or w.dim() != 4:
        raise ShapeError(f"`layer` must be a 2-D convolution with a F×C×KH×KW weight; got {type(layer).__name__}")
    w = w.detach().float().clone()  # (F, C, KH, KW)
    C = w.shape[1]
    if mode == "auto":
        mode = "rgb" if C in (1, 3) else "channels"
    if mode == "rgb":
        if C not in (1, 3):
            raise ConfigError(f"`mode`='rgb' needs 1 or 3 input channels; the layer has {C}; use 'channels' or 'norm'")
        return w
    if mode == "channels":
        c = min(C, max_channels)
        return w[:, :c].reshape(-1, 1, *w.shape[2:])  # (F, c, KH, KW) -> (F*c, 1, KH, KW)
    if mode == "norm":
        return w.norm(dim=1, keepdim=True)
    raise ConfigError(f"`mode` must be 'auto', 'rgb', 'channels' or 'norm'; got {mode!r}")


def feature_maps(model: nn.Module, layer: nn.Module | str, x: torch.Tensor) -> torch.Tensor:
    """The output of ``layer`` for the batch ``x`` (eval mode, no gradients). Shape: the layer's output."""
    check_input(x, kind="layer")
    layer = resolve_layer(model, layer)
    with explaining(model), capturing(layer) as cap, torch.no_grad():
        model(x)
        out = cap.output
    if out is None:
        raise ShapeError(f"`layer` {type(layer).__name__} was not called in the forward pass")
    return out.detach().clone()


def spatial_layers(model: nn.Module, x: torch.Tensor) -> list[tuple[str, tuple[int, ...]]]:
    """(name, output shape) of every leaf module with a 4-D output, in execution order."""
    check_input(x, kind="layer")
    seen: list[tuple[str, tuple[int, ...]]] = []
    names = {m: n for n, m in model.named_modules()}
    handles = []

    def hook(module, _i, out):
        if isinstance(out, torch.Tensor) and out.dim() == 4:
            seen.append((names[module], tuple(out.shape[1:])))

    try:
        for m in model.modules():
            if not list(m.children()):
                handles.append(m.register_forward_hook(hook))
        with explaining(model), torch.no_grad():
            model(x[:1])
    finally:
        for h in handles:
            h.remove()
    return seen
