"""Shared plumbing of the explanation methods: layer lookup, state restoration, activation capture, and
the one rule for ``target`` (:func:`scores`: a class index or a callable score).

Every method here follows the same rules (captum ``_utils/gradient.py``): hooks live in context
managers and are removed in ``finally``; ``model.training`` and each parameter's ``requires_grad`` are
restored after the call; the caller's input tensor is never modified.
"""

from __future__ import annotations

import contextlib
import math
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

    Convolutions are ``nn.Conv2d`` and ``nn.Conv1d`` (text and signal CNNs). With an example input ``x``
    the check is on the real output shapes (h·w > 1, or L > 1, in execution order); without it, the last
    convolution in registration order.

    Raises:
        ConfigError: the model has no convolution with a spatial output.
    """
    convs = [m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Conv1d))]
    if x is None or not convs:
        if not convs:
            raise ConfigError("`layer` could not be chosen automatically: the model has no nn.Conv2d layer "
                              "(nor nn.Conv1d); pass `layer=`")
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
    spatial = [m for m, shape in order if len(shape) >= 3 and math.prod(shape[2:]) > 1]
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


def check_input(x: torch.Tensor, name: str = "x", kind: str = "input", ndim: int | None = None) -> torch.Tensor:
    """Validate a batched input tensor for an explanation method of ``kind``.

    Input methods differentiate with respect to ``x``, so it must be floating point (any rank ≥ 2:
    N×C×H×W images, N×C×L signals, N×D vectors). Layer methods differentiate with respect to a layer's
    output, so ``x`` may have any dtype and rank (int64 token ids N×L included).

    Args:
        x: the batch.
        name: the argument's name in error messages.
        kind: ``"input"`` or ``"layer"``.
        ndim: the exact rank the method needs (``None``: any rank allowed by ``kind``).

    Returns:
        ``x`` unchanged.

    Raises:
        TypeError: not a tensor, or an input method on a non-floating-point tensor.
        ShapeError: the rank is not what the method needs.
    """
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"`{name}` must be a torch.Tensor; got {type(x).__name__}")
    if ndim is not None and x.dim() != ndim:
        what = "a batch N×C×H×W" if ndim == 4 else f"a batch with {ndim} dims"
        raise ShapeError(f"`{name}` must be {what} ({ndim} dims); got shape {tuple(x.shape)}")
    low = 2 if kind == "input" else 1
    if x.dim() < low:
        raise ShapeError(f"`{name}` must be a batch with at least {low} dims (N first); got shape {tuple(x.shape)}")
    if kind == "input" and not x.is_floating_point():
        raise TypeError(f"`{name}` must be a floating-point tensor for an input attribution; got {x.dtype} "
                        "(explain integer inputs such as token ids at a layer: gradcam, layer-gradxact)")
    return x


def resolve_target(output: torch.Tensor, target) -> torch.Tensor:
    """Class indices (N,) from ``target``: None (predicted class), an int, or a sequence/tensor of N ints."""
    n = output.shape[0]
    flat = output.reshape(n, -1)
    if target is None:
        return flat.argmax(dim=1)
    if isinstance(target, bool):
        raise TypeError("`target` must be an int, a sequence of ints, a callable score or None; got bool")
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


def is_score(target) -> bool:
    """True when ``target`` is a score function ``score(output) -> (N,)`` rather than class indices."""
    return callable(target) and not isinstance(target, torch.Tensor)


def scores(output: torch.Tensor, target) -> torch.Tensor:
    """The score each row's explanation follows: the one rule for ``target`` in every method. Shape (N,).

    Args:
        output: the model's output for a batch, N first (N×K logits, N×C×H×W images, N×D embeddings).
        target: ``None`` (the predicted class: the largest flattened output of each row), an int, a
            sequence / tensor of N ints (indices into the flattened output of each row), or a callable
            ``score(output) -> (N,)`` tensor (one output pixel ``lambda out: out[:, 0, 5, 7]``, a move
            logit, an embedding similarity). A callable must be row-wise (row i's score depends only on
            row i of the output): occlusion calls it on batches of occluded copies.

    Returns:
        The scores, one per row, differentiable when ``output`` is.

    Raises:
        ShapeError: a class target of the wrong length, or a callable that does not return N scores.
        ConfigError: a class index outside the output.
        TypeError: a callable that returns no tensor, or a score cut off from the output's graph.
    """
    if not is_score(target):
        return select(output, resolve_target(output, target))
    s = target(output)
    n = output.shape[0]
    if not isinstance(s, torch.Tensor):
        raise TypeError(f"`target` callable must return a tensor of N={n} scores; got {type(s).__name__}")
    if tuple(s.shape) != (n,):
        raise ShapeError(f"`target` callable must return one score per input, shape ({n},); got {tuple(s.shape)}")
    if output.requires_grad and not s.requires_grad:
        raise TypeError("`target` callable must compute its score from the model output (differentiably); "
                        "got a tensor with no gradient")
    return s


def fixed_target(model: nn.Module, x: torch.Tensor, target):
    """``target`` with ``None`` replaced by the predicted class of the clean batch ``x``.

    Methods that run the model on modified copies of ``x`` (SmoothGrad's noisy copies, guided Grad-CAM's
    two passes) follow the clean input's class, not each copy's. Class indices and callables pass through.
    """
    if target is not None:
        return target
    with explaining(model), torch.no_grad():
        return model(x).reshape(x.shape[0], -1).argmax(1)


class LeafCapture:
    """Forward hook that replaces a layer's output by a leaf copy, so gradients stop there.

    ``output`` is the leaf (requires grad); the model continues from a clone of it, so an in-place
    activation after the layer cannot change the captured values, and the backward pass of a score
    stops at the layer (cheaper than an input gradient, and possible for integer inputs).
    """

    def __init__(self, check=None) -> None:
        self.output: torch.Tensor | None = None
        self.check = check

    def __call__(self, module, _inp, out):
        if not isinstance(out, torch.Tensor):
            raise ShapeError(
                f"`layer` must output a single tensor; {type(module).__name__} returned {type(out).__name__}"
            )
        if self.check is not None:
            self.check(module, out)
        if not out.is_floating_point():
            raise TypeError(f"`layer` must output floating-point values to take gradients; "
                            f"{type(module).__name__} gave {out.dtype}")
        leaf = out.detach().requires_grad_(True)
        self.output = leaf
        return leaf.clone()


def layer_gradient(model: nn.Module, layer: nn.Module, x: torch.Tensor, target=None,
                   check=None) -> tuple[torch.Tensor, torch.Tensor]:
    """A layer's output A for the batch ``x`` and ∂score/∂A (see :func:`scores`), both detached.

    Args:
        model: any module; ``x`` may have any dtype (token ids too).
        layer: a module of ``model`` (called exactly once in the forward pass).
        target: class index / indices, ``None`` (predicted class) or a callable score.
        check: optional ``check(module, output)`` that raises when the layer's output does not suit the method.

    Returns:
        (A, ∂score/∂A), both shaped like the layer's output.

    Raises:
        ShapeError: the layer was not called, or its output is not one tensor.
    """
    cap = LeafCapture(check)
    with explaining(model), contextlib.ExitStack() as stack:
        stack.enter_context(_removing(layer.register_forward_hook(cap)))
        out = model(x.detach())
        if cap.output is None:
            raise ShapeError(f"`layer` {type(layer).__name__} was not called in the forward pass")
        (grads,) = torch.autograd.grad(scores(out, target).sum(), cap.output)
    return cap.output.detach(), grads
