"""Layer gradient × activation: ∂score/∂A ⊙ A at a chosen layer's output A (Shrikumar et al. 2016's
gradient × input, taken at a layer instead of the input; Captum's ``LayerGradientXActivation``).

Attributing at a layer makes models with integer inputs explainable: for a text CNN on token ids, the
attribution at the ``nn.Embedding`` output is N×L×E, and its sum over the embedding dims is one score
per token (a token whose embedding is zero gets zero).
"""

from __future__ import annotations

import torch
from torch import nn

from cnnlab.explain._core import check_input, last_conv_layer, layer_gradient, resolve_layer


class LayerGradientXActivation:
    """Gradient of the score with respect to a layer's output, times that output.

    Args:
        model: any module; inputs may have any dtype (int64 token ids included).
        layer: a module of ``model`` or its dotted name; ``None`` = the last conv layer whose output is
            still spatial (found on the first call's input), as for Grad-CAM.

    Example:
        >>> attr = LayerGradientXActivation(text_cnn, "embedding").attribute(ids, target=1)  # doctest: +SKIP
        >>> per_token = attr.sum(-1)                                   # (N, L, E) -> (N, L)  # doctest: +SKIP
    """

    def __init__(self, model: nn.Module, layer: nn.Module | str | None = None) -> None:
        self.model = model
        self.layer = None if layer is None else resolve_layer(model, layer)

    def attribute(self, x: torch.Tensor, target=None) -> torch.Tensor:
        """A ⊙ ∂score/∂A for the batch ``x``.

        Args:
            x: the batch, any dtype and rank (N first).
            target: class index / indices, ``None`` (predicted class) or a callable ``score(output) -> (N,)``.

        Returns:
            A tensor shaped like the layer's output, detached.

        Raises:
            ShapeError: the layer is not called in the forward pass, or does not output one tensor.
        """
        check_input(x, kind="layer")
        if self.layer is None:
            self.layer = last_conv_layer(self.model, x)
        acts, grads = layer_gradient(self.model, self.layer, x, target)
        return acts * grads
