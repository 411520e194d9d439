"""Grad-CAM (Selvaraju et al. 2017), Grad-CAM++ (Chattopadhyay et al. 2018) and guided Grad-CAM.

Grad-CAM weights the K feature maps A^k of a layer by the spatial mean of the class score's gradient,
α_k = mean_ij ∂y_c/∂A^k_ij, and keeps the positive part of Σ_k α_k A^k, upsampled (bilinear) to the
input size. Grad-CAM++ only changes the channel weights (as in pytorch-grad-cam's ``grad_cam_plusplus``).
Guided Grad-CAM multiplies guided back-propagation by the upsampled Grad-CAM map.

The layer's output is captured by a forward hook that substitutes a leaf copy
(:func:`cnnlab.explain._core.layer_gradient`), so the backward pass stops at that layer (cheaper than a
full input gradient, and possible on integer inputs) and an in-place activation after the layer cannot
change the captured maps.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from cnnlab.errors import ShapeError
from cnnlab.explain._core import check_input, fixed_target, last_conv_layer, layer_gradient, resolve_layer


def _check_maps(module, out) -> None:
    if out.dim() < 3:
        raise ShapeError(f"`layer` for Grad-CAM must output N×K×h×w feature maps; {type(module).__name__} gave "
                         f"{tuple(out.shape)} (N×K×L maps of a 1-D conv work too)")


_MODES = {1: "linear", 2: "bilinear", 3: "trilinear"}


class GradCAM:
    """Grad-CAM heat maps: N×1×H×W, upsampled to the input, ReLU applied, not normalised.

    Works on any layer with N×K×(spatial) maps: N×K×h×w for image CNNs, N×K×L for text and signal CNNs
    (token ids as input: ``x`` may be an integer tensor, only the layer's output is differentiated).
    The map is upsampled (linear / bilinear) to the last spatial dims of the input: H×W of an image,
    L of a token sequence; it keeps the layer's size when the input has fewer trailing dims.

    Args:
        model: any module mapping the batch to outputs (N×classes, or anything a callable target scores).
        layer: a module of ``model`` or its dotted name; ``None`` = the last conv layer whose output is
            still spatial (found on the first call's input).

    Example:
        >>> cam = GradCAM(model).attribute(x, target=243)                          # doctest: +SKIP
        >>> cam = GradCAM(srcnn, "conv2").attribute(x, target=lambda y: y[:, 0, 5, 7])  # doctest: +SKIP
    """

    def __init__(self, model: nn.Module, layer: nn.Module | str | None = None) -> None:
        self.model = model
        self.layer = None if layer is None else resolve_layer(model, layer)

    def _layer(self, x: torch.Tensor) -> nn.Module:
        if self.layer is None:
            self.layer = last_conv_layer(self.model, x)
        return self.layer

    def maps_and_grads(self, x: torch.Tensor, target=None) -> tuple[torch.Tensor, torch.Tensor]:
        """The layer's maps A (N×K×h×w, or N×K×L) and ∂score/∂A, detached. ``target``: see :meth:`attribute`."""
        check_input(x, kind="layer")
        return layer_gradient(self.model, self._layer(x), x, target, check=_check_maps)

    @staticmethod
    def channel_weights(acts: torch.Tensor, grads: torch.Tensor) -> torch.Tensor:
        """α_k = mean over the map of the gradient. Shape (N, K, 1, 1) (or (N, K, 1) for 1-D maps)."""
        return grads.mean(dim=tuple(range(2, grads.dim())), keepdim=True)

    def attribute(self, x: torch.Tensor, target=None) -> torch.Tensor:
        """The Grad-CAM map of each row.

        Args:
            x: the batch (images N×C×H×W; any dtype and rank, e.g. int64 token ids N×L).
            target: class index / indices, ``None`` (predicted class) or a callable ``score(output) -> (N,)``.

        Returns:
            N×1×(spatial) maps, ReLU'd, upsampled to the input's trailing spatial size.
        """
        acts, grads = self.maps_and_grads(x, target)
        cam = (self.channel_weights(acts, grads) * acts).sum(dim=1, keepdim=True).clamp(min=0)  # (N, 1, h, w)
        s = cam.dim() - 2
        size = tuple(x.shape[-s:])
        if x.dim() - 1 >= s and cam.shape[2:] != size and s in _MODES:
            cam = F.interpolate(cam, size=size, mode=_MODES[s], align_corners=False)
        return cam


class GradCAMPlusPlus(GradCAM):
    """Grad-CAM++: α_k = Σ_ij a_ij ReLU(g_ij), a_ij = g² / (2g² + Σ_ab A_ab · g³) (exp-score closed form)."""

    @staticmethod
    def channel_weights(acts: torch.Tensor, grads: torch.Tensor) -> torch.Tensor:
        space = tuple(range(2, grads.dim()))  # (2, 3) for N×K×h×w maps
        g2, g3 = grads**2, grads**3
        sum_a = acts.sum(dim=space, keepdim=True)
        denom = 2 * g2 + sum_a * g3
        a = torch.where(grads != 0, g2 / torch.where(denom != 0, denom, torch.ones_like(denom)), torch.zeros_like(g2))
        return (a * grads.clamp(min=0)).sum(dim=space, keepdim=True)


class GuidedGradCAM:
    """Guided back-propagation × Grad-CAM. Shaped like the input (N×C×H×W): it is an image, not a map."""

    def __init__(self, model: nn.Module, layer: nn.Module | str | None = None) -> None:
        self.model = model
        self.gradcam = GradCAM(model, layer)

    @property
    def layer(self):
        return self.gradcam.layer

    def attribute(self, x: torch.Tensor, target=None) -> torch.Tensor:
        """Guided back-propagation × the Grad-CAM map (``x`` floating point). ``target``: see :meth:`GradCAM.attribute`."""
        from cnnlab.explain.saliency import input_gradient

        check_input(x)
        target = fixed_target(self.model, x, target)
        cam = self.gradcam.attribute(x, target)
        return input_gradient(self.model, x, target, rule="guided") * cam
