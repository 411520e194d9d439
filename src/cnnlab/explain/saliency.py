"""Gradient saliency: vanilla gradient, gradient × input, guided back-propagation, deconvnet, SmoothGrad.

- Saliency: |∂y_c/∂x| (Simonyan, Vedaldi & Zisserman 2014), or the signed gradient.
- InputXGradient: x ⊙ ∂y_c/∂x (Shrikumar et al. 2016).
- GuidedBackprop: at every ReLU only positive gradients pass, and only where the forward input was
  positive (Springenberg et al. 2015, "Striving for simplicity").
- Deconvolution: at every ReLU only positive gradients pass, whatever the forward input was (Zeiler &
  Fergus 2014; keras-vis's "relu" back-prop modifier).
- SmoothGrad: the mean of any of the above over noisy copies of the input (Smilkov et al. 2017).

Guided back-prop and deconvnet change the backward rule of the ReLU *function*, not of ``nn.ReLU``
modules: a ``TorchFunctionMode`` active during the forward pass swaps every rectifier call for an
autograd function with the modified backward. So ``nn.ReLU()``, ``nn.ReLU(inplace=True)``, ``F.relu``,
``F.relu(inplace=True)``, ``torch.relu``, ``x.relu()``/``x.relu_()``, ``nn.ReLU6``/``F.relu6`` and
``F.hardtanh(x, 0, t)`` (ReLU6-like clips, as in MobileNetV2) are all handled, in place or not. Not
handled (passed through with their ordinary gradient): rectifiers written as ``torch.clamp``/
``torch.maximum``/``x * (x > 0)``, and other activations (LeakyReLU, GELU, SiLU, ...).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.overrides import TorchFunctionMode

from cnnlab.errors import ConfigError
from cnnlab.explain._core import check_input, explaining, fixed_target, scores


class _ModifiedRectifier(torch.autograd.Function):
    """clamp(x, lo, hi) forward; backward keeps only positive gradients (and, if guided, the active mask)."""

    @staticmethod
    def forward(ctx, x, lo, hi, guided, inplace):
        active = x > lo if hi is None else (x > lo) & (x < hi)
        if inplace:
            ctx.mark_dirty(x)
            out = x.clamp_(min=lo, max=hi)
        else:
            out = x.clamp(min=lo, max=hi)
        ctx.guided = guided
        ctx.save_for_backward(active)
        return out

    @staticmethod
    def backward(ctx, grad):
        (active,) = ctx.saved_tensors
        grad = grad.clamp(min=0)
        if ctx.guided:
            grad = grad * active
        return grad, None, None, None, None


_RELU_FUNCS = {
    F.relu: False, torch.relu: False, torch.Tensor.relu: False,
    torch.relu_: True, torch.Tensor.relu_: True, F.relu_: True,
}
_RELU6_FUNCS = {F.relu6}
_HARDTANH_FUNCS = {F.hardtanh: False, F.hardtanh_: True}


class ModifiedReLUMode(TorchFunctionMode):
    """While active, every rectifier call back-propagates with the guided (or deconvnet) rule."""

    def __init__(self, guided: bool) -> None:
        super().__init__()
        self.guided = guided

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func in _RELU_FUNCS:
            inplace = _RELU_FUNCS[func] or bool(kwargs.get("inplace", args[1] if len(args) > 1 else False))
            return _ModifiedRectifier.apply(args[0], 0.0, None, self.guided, inplace)
        if func in _RELU6_FUNCS:
            inplace = bool(kwargs.get("inplace", args[1] if len(args) > 1 else False))
            return _ModifiedRectifier.apply(args[0], 0.0, 6.0, self.guided, inplace)
        if func in _HARDTANH_FUNCS:
            lo = kwargs.get("min_val", args[1] if len(args) > 1 else -1.0)
            hi = kwargs.get("max_val", args[2] if len(args) > 2 else 1.0)
            if lo == 0:
                inplace = _HARDTANH_FUNCS[func] or bool(kwargs.get("inplace", args[3] if len(args) > 3 else False))
                return _ModifiedRectifier.apply(args[0], 0.0, float(hi), self.guided, inplace)
        return func(*args, **kwargs)


def input_gradient(model: nn.Module, x: torch.Tensor, target=None, rule: str | None = None) -> torch.Tensor:
    """∂score/∂x for a batch, with the ordinary (``rule=None``), ``"guided"`` or ``"deconv"`` ReLU rule.

    ``target`` is a class index / indices, ``None`` (predicted class) or a callable ``score(output) -> (N,)``
    (see :func:`cnnlab.explain._core.scores`). Each row's score is taken from its own output, so the rows
    do not mix. ``x``: floating point, any rank ≥ 2. Shape: like ``x``.
    """
    check_input(x)
    with explaining(model):
        xi = x.detach().clone().requires_grad_(True)
        if rule is None:
            out = model(xi)
        else:
            with ModifiedReLUMode(guided=(rule == "guided")):
                out = model(xi)
        (grad,) = torch.autograd.grad(scores(out, target).sum(), xi)
    return grad


class Saliency:
    """Vanilla gradient saliency.

    Example:
        >>> sal = Saliency(model).attribute(x, target=3)        # doctest: +SKIP
        >>> sal.shape == x.shape                                # doctest: +SKIP
    """

    def __init__(self, model: nn.Module) -> None:
        self.model = model

    def attribute(self, x: torch.Tensor, target=None, abs: bool = True) -> torch.Tensor:
        """|∂y_c/∂x| (``abs=True``) or the signed gradient.

        ``target``: class index / indices, ``None`` (the predicted class) or a callable score. Shape: like ``x``.
        """
        g = input_gradient(self.model, x, target)
        return g.abs() if abs else g


class InputXGradient:
    """Gradient × input: x ⊙ ∂y_c/∂x."""

    def __init__(self, model: nn.Module) -> None:
        self.model = model

    def attribute(self, x: torch.Tensor, target=None) -> torch.Tensor:
        return x.detach() * input_gradient(self.model, x, target)


class GuidedBackprop:
    """Guided back-propagation (signed; take ``.abs()`` or clip when rendering)."""

    rule = "guided"

    def __init__(self, model: nn.Module) -> None:
        self.model = model

    def attribute(self, x: torch.Tensor, target=None) -> torch.Tensor:
        return input_gradient(self.model, x, target, rule=self.rule)


class Deconvolution(GuidedBackprop):
    """Deconvnet back-propagation: the ReLU passes positive gradients whatever its forward input."""

    rule = "deconv"


class SmoothGrad:
    """Average an attribution over ``n_samples`` noisy copies of the input.

    Args:
        method: an attribution object (``Saliency(model)``, ``GuidedBackprop(model)``, ...).
        n_samples: number of noisy copies.
        stdev: noise standard deviation as a fraction of each input's value range (max − min), as in
            the paper (10–20% works well).
        seed: seed of the noise (deterministic output).
    """

    def __init__(self, method, n_samples: int = 25, stdev: float = 0.15, seed: int = 0) -> None:
        if not hasattr(method, "attribute") or not hasattr(method, "model"):
            raise TypeError(f"`method` must be an attribution object such as Saliency(model); got {type(method).__name__}")
        if int(n_samples) < 1:
            raise ConfigError(f"`n_samples` must be ≥ 1; got {n_samples}")
        if stdev < 0:
            raise ConfigError(f"`stdev` must be ≥ 0; got {stdev}")
        self.method, self.n_samples, self.stdev, self.seed = method, int(n_samples), float(stdev), seed
        self.model = method.model

    def attribute(self, x: torch.Tensor, target=None, **kwargs) -> torch.Tensor:
        check_input(x)
        target = fixed_target(self.model, x, target)  # the predicted class of the clean input, not of each noisy copy
        gen = torch.Generator(device=x.device).manual_seed(self.seed)
        rest = tuple(range(1, x.dim()))  # every axis but N: the value range of each input
        span = (x.amax(dim=rest, keepdim=True) - x.amin(dim=rest, keepdim=True)).detach()
        total = torch.zeros_like(x)
        for _ in range(self.n_samples):
            noise = torch.randn(x.shape, generator=gen, device=x.device, dtype=x.dtype) * (self.stdev * span)
            total += self.method.attribute(x.detach() + noise, target=target, **kwargs)
        return total / self.n_samples


def smooth_saliency(model: nn.Module, n_samples: int = 25, stdev: float = 0.15, seed: int = 0) -> SmoothGrad:
    """SmoothGrad of the vanilla gradient saliency (the registry's ``"smoothgrad"``)."""
    return SmoothGrad(Saliency(model), n_samples=n_samples, stdev=stdev, seed=seed)
