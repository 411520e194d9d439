"""``cnnlab explain``'s workflow: load a model (zoo name, run folder, JSON description) with its input
normalisation and class names, explain one image with one method, write the PNGs atomically.

Attribution methods come from the registry (:mod:`cnnlab.explain.registry`) and are drawn by their
``display``; the visualisations that are not attributions (``filters``, ``featuremaps``, ``maximize``)
are named cases here.

Example:
    >>> ex = load_explainable("mobilenet_v2")                                          # doctest: +SKIP
    >>> explain_image(ex, "dog.jpg", "gradcam", "out/", target="mountain bike")       # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from cnnlab.errors import ConfigError, UnknownNameError
from cnnlab import pictures as im

VISUALS = ("filters", "featuremaps", "maximize")  # not attributions: named cases of this workflow


def methods() -> list[str]:
    """Every ``--method``: the visualisations, then the registry's attribution methods (registration order)."""
    from cnnlab.explain import registry

    return [*VISUALS, *registry.names()]


def load_explainable(ref: str):
    """A :class:`cnnlab.bundle.Bundle` of images for explanation: a zoo name (offline pretrained weights when
    they exist), a run folder, a JSON description or a module."""
    from cnnlab import bundle

    b = bundle.resolve(ref)
    shape = b.require_shape("`cnnlab explain`")
    if len(shape) != 3:
        raise ConfigError(f"`MODEL` must take images C×H×W; {ref!r} takes {shape}")
    if getattr(b.preprocess, "bgr", False):
        raise ConfigError(f"`MODEL` {ref!r} expects BGR input, which explain does not convert")
    b.model.eval()
    return b


def resolve_class(ex, target) -> int | None:
    """``None``, an index ("3") or a class name (exact, else a unique substring, case-insensitive)."""
    if target is None or isinstance(target, int):
        return target
    t = str(target).strip()
    if t.lstrip("-").isdigit():
        return int(t)
    low = [c.lower() for c in ex.classes]
    if t.lower() in low:
        return low.index(t.lower())
    hits = [i for i, c in enumerate(low) if t.lower() in c]
    if len(hits) == 1:
        return hits[0]
    if not hits:
        raise UnknownNameError(f"`--target` {t!r} is not a class of {ex.name}" + (f" (classes: {', '.join(ex.classes[:12])}...)" if ex.classes else " (it has no class names; give an index)"))
    raise UnknownNameError(f"`--target` {t!r} matches several classes: " + ", ".join(f"{i} {ex.classes[i]}" for i in hits[:8]))


def explain_image(ex, image, method: str, out_dir, *, layer: str | None = None, target=None,
                  steps: int | None = None, window: int | None = None, size: tuple[int, int] | None = None,
                  seed: int = 0) -> dict:
    """Explain one image file with one method; write PNGs into ``out_dir``.

    ``size`` = (H, W) feeds the image at that size instead of the model's input size (fully convolutional
    models with global pooling, e.g. MobileNetV2, accept any size; keeping the photo's aspect ratio and
    a larger size gives finer Grad-CAM maps).

    Returns:
        A JSON-able record: model, method, layer, target / predicted class (index, name, probability), files.
    """
    from cnnlab import explain
    from cnnlab.data import load_image
    from cnnlab.explain import registry

    if method not in methods():
        raise ConfigError(f"`--method` must be one of {', '.join(methods())}; got {method!r}")
    out = Path(out_dir)
    C, H, W = ex.input_shape
    if size is not None:
        if len(size) != 2 or min(size) < 8:
            raise ConfigError(f"`--size` must be H,W with both ≥ 8; got {tuple(size)}")
        H, W = int(size[0]), int(size[1])
    raw = load_image(image, (H, W), C)[None] if image is not None else None  # (1, C, H, W) in [0, 1]
    m = ex.model
    rec: dict = {"model": ex.name, "weights": ex.weights, "method": method, "files": []}

    def save(name: str, rgb) -> None:
        p = im.save_png(out / name, rgb)
        rec["files"].append(str(p))

    def big(rgb, target_px=224):
        return im.upscale(rgb, im.auto_factor(*rgb.shape[:2], target=target_px))

    if method in ("filters",):
        lay = layer or _first_conv_name(m)
        w = explain.filters(m, lay)
        rec["layer"] = lay
        save(f"filters-{_safe(lay)}.png", im.batch_grid(w.numpy(), mode="symmetric", scale=max(2, 48 // max(w.shape[-2:]))))
        return rec
    if method == "maximize":
        return _maximize(ex, rec, save, big, layer, target, steps, seed)
    if raw is None:
        raise ConfigError(f"`--image` is needed for --method {method}")
    x = ex.norm(raw)
    with torch.no_grad():
        probs = m(x).softmax(1)[0]
    pred = int(probs.argmax())
    t = resolve_class(ex, target)
    t = pred if t is None else t
    if not 0 <= t < probs.numel():
        raise ConfigError(f"`--target` must be in [0, {probs.numel() - 1}]; got {t}")
    rec.update(predicted=pred, predicted_name=ex.class_name(pred), predicted_probability=float(probs[pred]),
               target=t, target_name=ex.class_name(t), target_probability=float(probs[t]))
    save("input.png", big(im.to_rgb8(raw[0])))
    stem = f"{method}-{_safe(ex.class_name(t))}"
    if method == "featuremaps":
        lay = layer or _first_conv_name(m)
        fm = explain.feature_maps(m, lay, x)[0]
        if fm.dim() != 3:
            raise ConfigError(f"`--layer` {lay!r} has no spatial maps (output {tuple(fm.shape)})")
        rec["layer"] = lay
        save(f"featuremaps-{_safe(lay)}.png", im.batch_grid(fm[:64, None].numpy(), ncol=8, cmap="viridis",
                                                            scale=max(1, 64 // max(fm.shape[-2:]))))
        return rec
    entry = registry.get(method)
    win = window or max(2, min(H, W) // 7)
    offered = {"window": win, "stride": 1 if max(H, W) <= 64 else max(1, win // 4),
               "baseline": ex.norm(torch.full((1, C, 1, 1), 0.5))}  # the lecture's grey square
    res = registry.attribute(entry, m, x, target=t, layer=layer, **{k: offered[k] for k in entry.options})
    if res.layer is not None:
        rec["layer"] = _name_of(m, res.layer)
    for suffix, rgb in pictures(entry.display, res.value[0], raw[0]):
        save(f"{stem}{suffix}.png", big(rgb))
    if entry.display == "occlusion":
        rec.update(window=win, stride=offered["stride"])
        maps = occlusion_maps(res.explainer, x, t, win, offered["baseline"], (H, W), max(10, probs.numel()))
        for suffix, rgb in maps.pictures:
            save(f"{stem}{suffix}.png", big(rgb))
        rec["occluded_predictions"] = sorted({ex.class_name(k) for k in maps.predicted_classes})
    return rec


def pictures(display: str, attr: torch.Tensor, raw: torch.Tensor) -> list[tuple[str, np.ndarray]]:
    """Draw one attribution (one row, no batch axis) as RGB pictures by its registry ``display``.

    Args:
        display: see :class:`cnnlab.explain.registry.Method`.
        attr: the attribution of one input: C×H×W for input methods, 1×H×W for maps, the layer's output
            shape (without N) for layer methods.
        raw: the input image in [0, 1], C×H×W (for overlays).

    Returns:
        (file-name suffix, H×W×3 uint8) pairs: ``""`` is the main picture, ``"-overlay"`` a map over the image.

    Raises:
        ConfigError: an unknown display.
    """
    if display == "magnitude":
        return [("", im.heatmap(attr.abs().amax(0), "hot", mode="max"))]
    if display == "signed":
        return [("", im.to_rgb8(im.normalize(attr, "std")))]
    if display == "map":
        return [("", im.heatmap(attr[0], "jet")), ("-overlay", im.overlay(raw, attr[0]))]
    if display == "occlusion":  # every channel holds the same value: draw one
        return [("", im.heatmap(attr[0], "RdBu_r", mode="symmetric"))]
    if display == "layer":
        return [("", im.heatmap(_layer_map(attr), "RdBu_r", mode="symmetric"))]
    raise ConfigError(f"`display` {display!r} is not drawn by this workflow")


def _layer_map(attr: torch.Tensor) -> torch.Tensor:
    """A 2-D picture of a layer-shaped attribution: the sum over channels (K×h×w -> h×w; K×L -> 1×L; K -> 1×K)."""
    if attr.dim() >= 3:
        return attr.sum(0).reshape(attr.shape[1], -1)  # (K, h, w, ...) -> (h, w·...)
    if attr.dim() == 2:
        return attr.sum(0)[None]  # (K, L) -> (1, L)
    return attr.reshape(1, -1)


@dataclass
class OcclusionPictures:
    """The lecture's occlusion maps as pictures, and the classes predicted with some window occluded."""

    pictures: list[tuple[str, np.ndarray]]
    predicted_classes: list[int]


def occlusion_maps(occ, x: torch.Tensor, target: int, window: int, baseline, size: tuple[int, int],
                   n_classes: int) -> OcclusionPictures:
    """Non-overlapping occlusion: the target's probability and the predicted class at each window (one image)."""
    maps = occ.probability_map(x, target=target, window=window, stride=window, baseline=baseline)
    prob, predmap = maps.upsampled(size)
    pics = [("-probability", im.colorize(prob[0].numpy(), "viridis")),
            ("-predicted", im.colorize(predmap[0].numpy() / (n_classes - 1), "tab10" if n_classes <= 10 else "tab20"))]
    return OcclusionPictures(pics, sorted({int(v) for v in maps.predicted.flatten()}))


def _maximize(ex, rec, save, big, layer, target, steps, seed):
    from cnnlab import explain

    C, H, W = ex.input_shape
    preset = "imagenet" if min(H, W) >= 96 else "mnist"
    kw = dict(shape=(C, H, W), mean=list(ex.mean), std=list(ex.std), preset=preset, seed=seed)
    if steps is not None:
        kw["steps"] = steps
    rec.update(preset=preset)
    if layer is not None and target is None:
        mod = explain.resolve_layer(ex.model, layer)
        if isinstance(mod, nn.Linear):
            units, kind = list(range(min(16, mod.out_features))), "neuron"
        else:
            k = getattr(mod, "out_channels", None) or 16
            units, kind = list(range(min(16, k))), "filter"
        res = explain.maximize(ex.model, layer, unit=units, kind=kind, **kw)
        rec.update(layer=layer, kind=kind, units=units, final_values=res.final_value)
        save(f"maximize-{_safe(layer)}.png", im.grid([im.to_rgb8(i) for i in res.image], ncol=8,
                                                     scale=im.auto_factor(H, W, target=96)))
        return rec
    t = resolve_class(ex, target)
    units = [t] if t is not None else list(range(min(10, len(ex.classes) or 10)))
    for lam, suffix in ((0.0, ""), (10.0, "-l1")):
        res = explain.maximize(ex.model, layer, unit=units, kind="class", l1=lam, **kw)
        name = f"maximize-class-{_safe(ex.class_name(units[0]))}{suffix}.png" if len(units) == 1 else f"maximize-classes{suffix}.png"
        save(name, im.grid([im.to_rgb8(i) for i in res.image], ncol=min(5, len(units)), scale=im.auto_factor(H, W, target=96)))
        rec.setdefault("final_values", {})["l1" if lam else "plain"] = res.final_value
    rec.update(kind="class", units=units)
    return rec


def _first_conv_name(model: nn.Module) -> str:
    for n, mod in model.named_modules():
        if isinstance(mod, nn.Conv2d):
            return n
    raise ConfigError("the model has no nn.Conv2d layer; pass `--layer`")


def _name_of(model: nn.Module, layer: nn.Module) -> str:
    from cnnlab.explain._core import layer_name

    return layer_name(model, layer)


def _safe(s: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in str(s)).strip("_") or "x"
