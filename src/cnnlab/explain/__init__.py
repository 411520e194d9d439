"""Look inside a CNN: filters, feature maps, activation maximisation, saliency, Grad-CAM, occlusion.

One interface per family (as in Captum): construct with the model (and layer), call ``.attribute(x,
target=None, ...)``, get a tensor shaped like the input (or N×1×H×W for Grad-CAM maps). ``target=None``
means the predicted class; ``layer`` is a module or its dotted name from ``model.named_modules()``.
Hooks are always removed, ``model.training`` and ``requires_grad`` always restored.
"""

from __future__ import annotations

from cnnlab.explain._core import last_conv_layer, resolve_layer
from cnnlab.explain.diagnostics import confident_mistakes, confusion_matrix, per_class_accuracy, predict_proba
from cnnlab.explain.gradcam import GradCAM, GradCAMPlusPlus, GuidedGradCAM
from cnnlab.explain.maximize import PRESETS, MaximizeResult, maximize
from cnnlab.explain.occlusion import Occlusion, OcclusionMaps
from cnnlab.explain.saliency import Deconvolution, GuidedBackprop, InputXGradient, Saliency, SmoothGrad
from cnnlab.explain.visual import feature_maps, filters

__all__ = [
    "Saliency", "InputXGradient", "GuidedBackprop", "Deconvolution", "SmoothGrad",
    "GradCAM", "GradCAMPlusPlus", "GuidedGradCAM",
    "Occlusion", "OcclusionMaps",
    "maximize", "MaximizeResult", "PRESETS",
    "filters", "feature_maps",
    "confusion_matrix", "per_class_accuracy", "confident_mistakes", "predict_proba",
    "last_conv_layer", "resolve_layer",
]
