"""CNNs that draw: Deep Dream and neural style transfer (Gatys et al.).

- :func:`dream` exaggerates what a network sees in an image (Mordvintsev, Olah & Tyka, 2015).
- :func:`style_transfer` paints one image's content in another's style (Gatys, Ecker & Bethge, 2016).
Both take any ``torch.nn.Module`` or a preset name (``vgg16_bn``, ``vgg16``, ``mobilenet_v2``,
``efficientnet_lite0``) and images as paths, ``skimage:NAME``, PIL images, arrays or [0, 1] tensors.
"""

from __future__ import annotations

from cnnlab._lazy import attach

_LAZY = {
    "dream": "cnnlab.art.dream:dream",
    "DreamResult": "cnnlab.art.dream:DreamResult",
    "style_transfer": "cnnlab.art.style:style_transfer",
    "StyleResult": "cnnlab.art.style:StyleResult",
    "StyleObjective": "cnnlab.art.style:StyleObjective",
    "gram_matrix": "cnnlab.art.losses:gram_matrix",
    "style_loss": "cnnlab.art.losses:style_loss",
    "content_loss": "cnnlab.art.losses:content_loss",
    "tv_loss": "cnnlab.art.losses:tv_loss",
    "preserve_color": "cnnlab.art.color:preserve_color",
    "FeatureExtractor": "cnnlab.art.features:FeatureExtractor",
    "Preprocess": "cnnlab.art.features:Preprocess",
    "layer_names": "cnnlab.art.features:layer_names",
    "ArtModel": "cnnlab.art.presets:ArtModel",
    "PRESETS": "cnnlab.art.presets:PRESETS",
    "resolve_model": "cnnlab.art.presets:resolve_model",
    "load_image": "cnnlab.art.images:load_image",
    "save_image": "cnnlab.art.images:save_image",
}

__getattr__, __dir__, __all__ = attach(__name__, _LAZY)
