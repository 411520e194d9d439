"""Look inside a CNN: filters, feature maps, activation maximisation, saliency, Grad-CAM, occlusion.

One interface per family (as in Captum): construct with the model (and layer), call ``.attribute(x,
target=None, ...)``, get a tensor shaped like the input ("input" methods) or computed at a layer's output
("layer" methods: Grad-CAM maps N×1×H×W, layer gradient × activation shaped like the layer's output).
``target`` is a class index (int, sequence or tensor; ``None`` = the predicted class) or a callable
``score(output) -> (N,)``. ``layer`` is a module or its dotted name from ``model.named_modules()``.
Hooks are always removed, ``model.training`` and ``requires_grad`` always restored.

Every attribution method is in one registry (:mod:`cnnlab.explain.registry`): ``attribute(name, model,
x, target)`` dispatches by name, ``names()`` lists them. Names load their module on first use, so
importing this package (and listing the registry) does not import torch.
"""

from __future__ import annotations

import sys
import types

from cnnlab._lazy import attach

_LAZY = {
    "Saliency": "cnnlab.explain.saliency:Saliency",
    "InputXGradient": "cnnlab.explain.saliency:InputXGradient",
    "GuidedBackprop": "cnnlab.explain.saliency:GuidedBackprop",
    "Deconvolution": "cnnlab.explain.saliency:Deconvolution",
    "SmoothGrad": "cnnlab.explain.saliency:SmoothGrad",
    "GradCAM": "cnnlab.explain.gradcam:GradCAM",
    "GradCAMPlusPlus": "cnnlab.explain.gradcam:GradCAMPlusPlus",
    "GuidedGradCAM": "cnnlab.explain.gradcam:GuidedGradCAM",
    "LayerGradientXActivation": "cnnlab.explain.layer_gradxact:LayerGradientXActivation",
    "Occlusion": "cnnlab.explain.occlusion:Occlusion",
    "OcclusionMaps": "cnnlab.explain.occlusion:OcclusionMaps",
    "maximize": "cnnlab.explain.maximize:maximize",
    "MaximizeResult": "cnnlab.explain.maximize:MaximizeResult",
    "PRESETS": "cnnlab.explain.maximize:PRESETS",
    "filters": "cnnlab.explain.visual:filters",
    "feature_maps": "cnnlab.explain.visual:feature_maps",
    "confusion_matrix": "cnnlab.explain.diagnostics:confusion_matrix",
    "per_class_accuracy": "cnnlab.explain.diagnostics:per_class_accuracy",
    "confident_mistakes": "cnnlab.explain.diagnostics:confident_mistakes",
    "predict_proba": "cnnlab.explain.diagnostics:predict_proba",
    "last_conv_layer": "cnnlab.explain._core:last_conv_layer",
    "resolve_layer": "cnnlab.explain._core:resolve_layer",
    "scores": "cnnlab.explain._core:scores",
    "attribute": "cnnlab.explain.registry:attribute",
    "register": "cnnlab.explain.registry:register",
    "unregister": "cnnlab.explain.registry:unregister",
    "methods": "cnnlab.explain.registry:names",
    "registry": "cnnlab.explain.registry",
    "visual": "cnnlab.explain.visual",
}

__getattr__, __dir__, __all__ = attach(__name__, _LAZY)


class _Package(types.ModuleType):
    """This package, where the public function ``maximize`` keeps its name when its submodule is imported.

    Importing a submodule binds it on its package (``cnnlab.explain.maximize`` = the module); with lazy
    names that would hide the function of the same name. The eagerly imported package this replaces
    re-bound the function after the import; this keeps that behaviour.
    """

    def __setattr__(self, name, value):
        if isinstance(value, types.ModuleType) and _LAZY.get(name, "").startswith(f"{__name__}.{name}:"):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
