"""Networks for the art tools: offline pretrained presets with good default layers, or any module.

An :class:`ArtModel` bundles a network, the preprocessing from [0, 1] RGB to its input, friendly layer
aliases and the default layers/weights of Deep Dream and style transfer. Presets load their weights
from the zoo (offline asset packages); nothing downloads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from torch import nn

from cnnlab.art.features import Preprocess, vgg_aliases
from cnnlab.bundle import resolve
from cnnlab.errors import ConfigError, UnknownNameError

_GATYS_STYLE = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")


@dataclass
class ArtModel:
    """A network ready for the art tools (see module docstring)."""

    name: str
    net: nn.Module
    preprocess: Callable = field(default_factory=nn.Identity)
    aliases: dict[str, str] = field(default_factory=dict)
    dream_layers: tuple[str, ...] = ()
    content_layers: tuple[str, ...] = ()
    style_layers: tuple[str, ...] = ()
    style_weight: float = 30.0
    tv_weight: float = 5.0


def _preprocess_from_spec(spec) -> Preprocess:
    return spec.normalizer()


def _vgg16_bn() -> ArtModel:
    from cnnlab import zoo

    net, preprocess = _trunk(zoo, "easyocr")
    return ArtModel("vgg16_bn", net, preprocess, vgg_aliases(net),
                    dream_layers=("relu4_3", "relu5_2"), content_layers=("relu4_2",), style_layers=_GATYS_STYLE)


def _vgg16() -> ArtModel:
    from cnnlab import zoo

    net, preprocess = _trunk(zoo, "hed")
    return ArtModel("vgg16", net, preprocess, vgg_aliases(net),
                    dream_layers=("relu4_3", "relu5_2"), content_layers=("relu4_2",), style_layers=_GATYS_STYLE)


def _trunk(zoo, source: str):
    trunk = zoo.vgg16_trunk(source=source)
    if isinstance(trunk, tuple):
        net, preprocess = trunk
    else:
        net, preprocess = trunk, getattr(trunk, "preprocess", None)
    if preprocess is None or not callable(preprocess):
        preprocess = _preprocess_from_spec(preprocess or zoo.weight_spec(f"vgg16_trunk_{source}"))
    return net, preprocess


def _mobilenet_v2() -> ArtModel:
    b = resolve("mobilenet_v2")  # offline pretrained weights with their preprocessing
    return ArtModel("mobilenet_v2", b.model, b.preprocess, dream_layers=("features.10", "features.13"))


def _efficientnet_lite0() -> ArtModel:
    b = resolve("efficientnet_lite0")
    return ArtModel("efficientnet_lite0", b.model, b.preprocess, dream_layers=("_blocks.8", "_blocks.10"))


PRESETS: dict[str, Callable[[], ArtModel]] = {
    "vgg16_bn": _vgg16_bn,
    "vgg16": _vgg16,
    "mobilenet_v2": _mobilenet_v2,
    "efficientnet_lite0": _efficientnet_lite0,
}


def _generic(model: nn.Module, preprocess) -> ArtModel:
    """Defaults for an arbitrary module: convolutions spread over its depth."""
    convs = [name for name, m in model.named_modules() if isinstance(m, nn.Conv2d)]
    if not convs:
        raise UnknownNameError(f"model {type(model).__name__} has no Conv2d layer; pass layer names explicitly")
    picks = sorted({convs[round(i * (len(convs) - 1) / 4)] for i in range(5)}, key=convs.index)
    return ArtModel(type(model).__name__, model, preprocess if preprocess is not None else nn.Identity(),
                    aliases=vgg_aliases(model) if isinstance(model, nn.Sequential) else {},
                    dream_layers=(convs[-1],), content_layers=(picks[-2] if len(picks) > 1 else picks[-1],),
                    style_layers=tuple(picks))


def resolve_model(model, *, preprocess=None) -> ArtModel:
    """Turn a preset name, any model :func:`cnnlab.bundle.resolve` knows, an :class:`ArtModel` or any module into
    an :class:`ArtModel`.

    Raises:
        UnknownNameError: unknown preset name (the message lists them).
    """
    if isinstance(model, ArtModel):
        return model
    if isinstance(model, str):
        loader = PRESETS.get(model)
        if loader is None:  # any other model a user names (zoo name, run folder, JSON) through the one resolver
            try:
                b = resolve(model)
            except UnknownNameError:
                raise UnknownNameError(f"unknown `model` {model!r}; art presets: {', '.join(PRESETS)}, or a zoo "
                                       "name, run folder or JSON description") from None
            if b.source == "random":
                raise ConfigError(f"`model` {model!r} has random weights (no offline pretrained weights); the art "
                                  f"tools need a trained network: a preset ({', '.join(PRESETS)}) or a run folder")
            return _generic(b.model, preprocess if preprocess is not None else b.preprocess)
        art = loader()
        if preprocess is not None:
            art.preprocess = preprocess
        return art
    if isinstance(model, nn.Module):
        return _generic(model, preprocess)
    raise TypeError(f"`model` must be a preset name, ArtModel or torch.nn.Module; got {type(model).__name__}")
