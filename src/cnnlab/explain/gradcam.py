"""Grad-CAM (Selvaraju et al. 2017), Grad-CAM++ (Chattopadhyay et al. 2018) and guided Grad-CAM.

Grad-CAM weights the K feature maps A^k of a layer by the spatial mean of the class score's gradient,
α_k = mean_ij ∂y_c/∂A^k_ij, and keeps the positive part of Σ_k α_k A^k, upsampled (bilinear) to the
input size. Grad-CAM++ only changes the channel weights (as in pytorch-grad-cam's ``grad_cam_plusplus``).
Guided Grad-CAM multiplies guided back-propagation by the upsampled Grad-CAM map.

The layer's output is captured by a forward hook that substitutes a leaf copy, so the backward pass
stops at that layer (cheaper than a full input gradient) and an in-place activation after the layer
cannot change the captured maps.
"""

from __future__ import annotations

import contextlib

import torch
import torch.nn.functional as F
from torch import nn

from cnnlab.errors import ShapeError
from cnnlab.explain._core import check_input, explaining, last_conv_layer, resolve_layer, resolve_target, select


class _LeafCapture:
    def __init__(self) -> None:
        self.output: torch.Tensor | None = None

    def __call__(self, module, _inp, out):
        if not isinstance(out, torch.Tensor) or out.dim() != 4:
            got = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
            raise ShapeError(f"`layer` for Grad-CAM must output N×K×h×w feature maps; {type(module).__name__} gave {got}")
        leaf = out.detach().requires_grad_(True)
        self.output = leaf
        return leaf.clone()


class GradCAM:
    """Grad-CAM heat maps: N×1×H×W, upsampled to the input, ReLU applied, not normalised.

    Args:
        model: any module mapping N×C×H×W to N×classes.
        layer: a module of ``model`` or its dotted name; ``None`` = the last conv layer whose output is
            still spatial (found on the first call's input).

    Example:
        >>> cam = GradCAM(model).attribute(x, target=243)   # doctest: +SKIP
    """

    def __init__(self, model: nn.Module, layer: nn.Module | str | None = None) -> None:
        self.model = model
        self.layer = None if layer is None else resolve_layer(model, layer)

    def _layer(self, x: torch.Tensor) -> nn.Module:
        if self.layer is None:
            self.layer = last_conv_layer(self.model, x)
        return self.layer

    def maps_and_grads(self, x: torch.Tensor, target=None) -> tuple[torch.Tensor, torch.Tensor]:
        """The layer's maps A (N×K×h×w) and ∂y_target/∂A, detached."""
        check_input(x)
        layer = self._layer(x)
        cap = _LeafCapture()
        with explaining(self.model), contextlib.ExitStack() as stack:
            handle = layer.register_forward_hook(cap)
            stack.callback(handle.remove)
            out = self.model(x.detach())
            if cap.output is None:
                raise ShapeError(f"`layer` {type(layer).__name__} was not called in the forward pass")
            t = resolve_target(out, target)
            (grads,) = torch.autograd.grad(select(out, t).sum(), cap.output)
        return cap.output.detach(), grads

    @staticmethod
    def channel_weights(acts: torch.Tensor, grads: torch.Tensor) -> torch.Tensor:
        """α_k = mean over the map of the gradient. Shape (N, K, 1, 1)."""
        return grads.mean(dim=(2, 3), keepdim=True)

    def attribute(self, x: torch.Tensor, target=None) -> torch.Tensor:
        acts, grads = self.maps_and_grads(x, target)
        cam = (self.channel_weights(acts, grads) * acts).sum(dim=1, keepdim=True).clamp(min=0)  # (N, 1, h, w)
        if cam.shape[-2:] != x.shape[-2:]:
            cam = F.interpolate(cam, size=x.shape[-2:], mode="bilinear", align_corners=False)
        return cam


class GradCAMPlusPlus(GradCAM):
    """Grad-CAM++: α_k = Σ_ij a_ij ReLU(g_ij), a_ij = g² / (2g² + Σ_ab A_ab · g³) (exp-score closed form)."""

    @staticmethod
    def channel_weights(acts: torch.Tensor, grads: torch.Tensor) -> torch.Tensor:
        g2, g3 = grads**2, grads**3
        sum_a = acts.sum(dim=(2, 3), keepdim=True)
        denom = 2 * g2 + sum_a * g3
        a = torch.where(grads != 0, g2 / torch.where(denom != 0, denom, torch.ones_like(denom)), torch.zeros_like(g2))
        return (a * grads.clamp(min=0)).sum(dim=(2, 3), keepdim=True)


class GuidedGradCAM:
    """Guided back-propagation × Grad-CAM. Shaped like the input (N×C×H×W): it is an image, not a map."""

    def __init__(self, model: nn.Module, layer: nn.Module | str | None = None) -> None:
        self.model = model
        self.gradcam = GradCAM(model, layer)

    @property
    def layer(self):
        return self.gradcam.layer

    def attribute(self, x: torch.Tensor, target=None) -> torch.Tensor:
        from cnnlab.explain.saliency import input_gradient

        if target is None:
            with explaining(self.model), torch.no_grad():
                target = self.model(x).reshape(x.shape[0], -1).argmax(1)
        cam = self.gradcam.attribute(x, target)
        return input_gradient(self.model, x, target, rule="guided") * cam
