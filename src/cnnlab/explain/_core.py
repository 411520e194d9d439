"""Shared plumbing of the explanation methods: layer lookup, state restoration, activation capture.

Every method here follows the same rules (captum ``_utils/gradient.py``): hooks live in context
managers and are removed in ``finally``; ``model.training`` and each parameter's ``requires_grad`` are
restored after the call; the caller's input tensor is never modified.
"""

from __future__ import annotations

import contextlib
from typing import Iterator

import torch
from torch import nn

from cnnlab.errors import ConfigError, ShapeError, UnknownNameError


def resolve_layer(model: nn.Module, layer: nn.Module | str) -> nn.Module:
    """Return the sub-module named ``layer`` (a dotted name from ``model.named_modules()``) or ``layer``.

    Raises:
        UnknownNameError: the name is not a sub-module; the message lists a few known names.
        TypeError: ``layer`` is neither a string nor a module of ``model``.
    """
    if isinstance(layer, str):
        modules = dict(model.named_modules())
        if layer in modules:
            return modules[layer]
        names = [n for n in modules if n]
        shown = ", ".join(names[:12]) + (", ..." if len(names) > 12 else "")
        raise UnknownNameError(f"`layer` {layer!r} is not a module of the model; known: {shown}")
    if isinstance(layer, nn.Module):
        if not any(m is layer for m in model.modules()):
            raise ConfigError(f"`layer` must be a module of the model; got a {type(layer).__name__} that is not in it")
        return layer
    raise TypeError(f"`layer` must be an nn.Module or a dotted module name; got {type(layer).__name__}")


def layer_name(model: nn.Module, layer: nn.Module) -> str:
    """The dotted name of ``layer`` inside ``model`` ("" for the model itself)."""
    for name, module in model.named_modules():
        if module is layer:
            return name
    return "?"


def last_conv_layer(model: nn.Module, x: torch.Tensor | None = None) -> nn.Module:
    """The last convolution layer whose output is still spatial (the Grad-CAM default).

    With an example input ``x`` the check is on the real output shapes (H, W > 1, in execution order);
    without it, the last ``nn.Conv2d`` in registration order.

    Raises:
        ConfigError: the model has no 2-D convolution with a spatial output.
    """
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    if x is None or not convs:
        if not convs:
            raise ConfigError("`layer` could not be chosen automatically: the model has no nn.Conv2d layer; pass `layer=`")
        return convs[-1]
    order: list[tuple[nn.Module, tuple]] = []

    def hook(module, _inp, out):
        if isinstance(out, torch.Tensor):
            order.append((module, tuple(out.shape)))

    with preserved_state(model), contextlib.ExitStack() as stack, torch.no_grad():
        for m in convs:
            stack.enter_context(_removing(m.register_forward_hook(hook)))
        model.eval()
        model(x[:1])
    spatial = [m for m, shape in order if len(shape) == 4 and shape[-1] * shape[-2] > 1]
    if not spatial:
        raise ConfigError("`layer` could not be chosen automatically: no nn.Conv2d output is spatial (H×W > 1); pass `layer=`")
    return spatial[-1]


@contextlib.contextmanager
def _removing(handle) -> Iterator[None]:
    try:
        yield
    finally:
        handle.remove()


@contextlib.contextmanager
def preserved_state(model: nn.Module) -> Iterator[nn.Module]:
    """Restore ``model.training`` (of every sub-module) and parameters' ``requires_grad`` on exit."""
    training = [(m, m.training) for m in model.modules()]
    grads = [(p, p.requires_grad) for p in model.parameters()]
    try:
        yield model
    finally:
        for m, flag in training:
            m.training = flag
        for p, flag in grads:
            p.requires_grad_(flag)


@contextlib.contextmanager
def explaining(model: nn.Module) -> Iterator[nn.Module]:
    """Eval mode and frozen parameters for the duration of an explanation; restored afterwards.

    Freezing the parameters means back-propagation computes only what the input (or layer) needs.
    """
    with preserved_state(model):
        model.eval()
        for p in model.parameters():
            p.requires_grad_(False)
        yield model


class Capture:
    """Forward hook that keeps a layer's output (and lets gradients be taken with respect to it)."""

    def __init__(self) -> None:
        self.output: torch.Tensor | None = None

    def __call__(self, module, _inp, out):
        if not isinstance(out, torch.Tensor):
            raise ShapeError(
                f"`layer` must output a single tensor; {type(module).__name__} returned {type(out).__name__}"
            )
        self.output = out.clone()  # an in-place op after the layer (ReLU(inplace=True)) must not change it


@contextlib.contextmanager
def capturing(layer: nn.Module) -> Iterator[Capture]:
    """Context manager: a :class:`Capture` of ``layer``'s output; the hook is removed on exit."""
    cap = Capture()
    handle = layer.register_forward_hook(cap)
    try:
        yield cap
    finally:
        handle.remove()
        cap.output = None


def check_input(x: torch.Tensor, name: str = "x", ndim: int | None = 4) -> torch.Tensor:
    """Validate a batched input tensor."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"`{name}` must be a torch.Tensor; got {type(x).__name__}")
    if ndim is not None and x.dim() != ndim:
        raise ShapeError(f"`{name}` must be a batch N×C×H×W ({ndim} dims); got shape {tuple(x.shape)}")
    if not x.is_floating_point():
        raise TypeError(f"`{name}` must be a floating-point tensor; got {x.dtype}")
    return x


def resolve_target(output: torch.Tensor, target) -> torch.Tensor:
    """Class indices (N,) from ``target``: None (predicted class), an int, or a sequence/tensor of N ints."""
    n = output.shape[0]
    flat = output.reshape(n, -1)
    if target is None:
        return flat.argmax(dim=1)
    if isinstance(target, bool):
        raise TypeError("`target` must be an int, a sequence of ints or None; got bool")
    if isinstance(target, int):
        t = torch.full((n,), target, dtype=torch.long, device=output.device)
    else:
        t = torch.as_tensor(target, dtype=torch.long, device=output.device).reshape(-1)
        if t.numel() == 1:
            t = t.expand(n).clone()
        if t.numel() != n:
            raise ShapeError(f"`target` must give one class per input (N={n}); got {t.numel()}")
    k = flat.shape[1]
    if (t < 0).any() or (t >= k).any():
        raise ConfigError(f"`target` must be in [0, {k - 1}] (the model has {k} outputs); got {t.tolist()}")
    return t


def select(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """``output[i, target[i]]`` for each row, on the flattened outputs. Shape (N,)."""
    flat = output.reshape(output.shape[0], -1)
    return flat.gather(1, target.view(-1, 1)).squeeze(1)
