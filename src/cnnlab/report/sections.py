"""The report's sections, computed from a model and a labelled test set (torch side of the report).

Each ``*_section`` function returns a :class:`cnnlab.report.html.Section`; images are rendered with
:mod:`cnnlab.pictures` (PIL) and figures with :mod:`cnnlab.report.figures` (matplotlib, lazy).
Inputs ``x`` are raw images in [0, 1]; ``norm`` maps them to model input (the run's mean/std).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from cnnlab import explain
from cnnlab.report import figures
from cnnlab import pictures as im
from cnnlab.report.html import Figure, Section, esc, table_html


@dataclass
class Context:
    model: nn.Module
    x: torch.Tensor  # (N, C, H, W) raw test images in [0, 1]
    y: torch.Tensor  # (N,)
    classes: list[str]
    preprocess: nn.Module  # raw images -> model input (the run's Normalize)

    def norm(self, x: torch.Tensor) -> torch.Tensor:
        return self.preprocess(x)

    def stats(self) -> tuple[list[float], list[float]]:
        """Per-channel mean/std in image units (zeros/ones without normalisation), for ``maximize``."""
        C = self.x.shape[1]
        mean = list(getattr(self.preprocess, "mean", (0.0,) * C))
        std = list(getattr(self.preprocess, "std", (1.0,) * C))
        return mean, std

    @property
    def input_shape(self) -> tuple[int, int, int]:
        return tuple(self.x.shape[1:])

    def name(self, k: int) -> str:
        return self.classes[k] if 0 <= k < len(self.classes) else str(k)


def _tile(rgb: np.ndarray, target: int = 112) -> np.ndarray:
    return im.upscale(rgb, im.auto_factor(*rgb.shape[:2], target=target))


def _fig(rgb: np.ndarray, caption: str, target: int | None = 112) -> Figure:
    return Figure(im.png_bytes(_tile(rgb, target) if target else rgb), caption)


def summary_section(model: nn.Module, input_shape, summary_html: str | None = None) -> Section:
    sec = Section("summary", "Model summary")
    if summary_html is None:
        try:
            from cnnlab.analysis import summary, to_html

            summary_html = to_html(summary(model, tuple(input_shape)))
        except (ImportError, ValueError, TypeError, RuntimeError) as exc:  # summary unavailable: a plain table
            rows = [[n, type(m).__name__, sum(p.numel() for p in m.parameters(recurse=False))]
                    for n, m in model.named_modules() if n and not list(m.children())]
            total = sum(p.numel() for p in model.parameters())
            summary_html = table_html(["layer", "type", "params"], rows + [["total", "", total]])
            summary_html += f'<p class="note">full summary unavailable ({esc(exc)})</p>'
    return sec.add(summary_html)


def training_section(history: list[dict]) -> Section:
    sec = Section("training", "Training curves")
    png = figures.training_curves(history)
    if png is None:
        return sec.add('<p class="note">no training history in this run</p>')
    sec.add(Figure(png, f"{len(history)} epochs"))
    last = history[-1]
    return sec.add(table_html(["metric", "last epoch"], [[k, v] for k, v in last.items()]))


def evaluation_sections(ctx: Context, n_mistakes: int = 12) -> tuple[list[Section], torch.Tensor]:
    probs = explain.predict_proba(ctx.model, ctx.norm(ctx.x))
    pred = probs.argmax(1)
    k = max(len(ctx.classes), int(probs.shape[1]))
    cm = explain.confusion_matrix(ctx.y, pred, k)
    acc = explain.per_class_accuracy(cm)
    names = [ctx.name(i) for i in range(k)]
    total = (pred == ctx.y).float().mean().item()
    ev = Section("evaluation", "Test accuracy, confusion matrix, per-class accuracy")
    ev.add(f"<p>Accuracy on {len(ctx.y)} test images: <b>{total:.2%}</b></p>")
    ev.add(Figure(figures.confusion_figure(cm.numpy(), names), "confusion matrix (rows: true class)"))
    ev.add(Figure(figures.per_class_bars(acc.numpy(), names), "per-class accuracy"))
    ev.add(table_html(["class", "test images", "accuracy"],
                      [[names[i], int(cm[i].sum()), "-" if np.isnan(a) else f"{a:.2%}"] for i, a in enumerate(acc.tolist())]))
    mis = Section("mistakes", "Most confident mistakes")
    mistakes = explain.confident_mistakes(probs, ctx.y, k=n_mistakes)
    if not mistakes:
        mis.add('<p class="note">no mistakes on the test set</p>')
    for m in mistakes:
        mis.add(_fig(im.to_rgb8(ctx.x[m.index]), f"#{m.index}: {ctx.name(m.true)} → {ctx.name(m.predicted)} ({m.confidence:.0%})", 96))
    return [ev, mis], pred


def _convs(model: nn.Module, x: torch.Tensor) -> list[str]:
    convs = {n for n, m in model.named_modules() if isinstance(m, nn.Conv2d)}
    return [n for n, _ in explain.visual.spatial_layers(model, x) if n in convs]


def filters_section(ctx: Context, max_filters: int = 64) -> Section:
    sec = Section("filters", "Learned filters")
    names = _convs(ctx.model, ctx.norm(ctx.x[:1]))
    for i, name in enumerate(names[:3]):
        w = explain.filters(ctx.model, name, mode="auto" if i == 0 else "norm")[:max_filters]
        how = "one image per filter" if i == 0 else "L2 norm over input channels"
        grid = im.batch_grid(w.numpy(), mode="symmetric" if i == 0 else "minmax", scale=max(2, 40 // max(w.shape[-2:])))
        sec.add(Figure(im.png_bytes(grid), f"{name}: {tuple(w.shape)} ({how}; grey = 0)" if i == 0 else f"{name}: {how}"))
    return sec


def featuremaps_section(ctx: Context, index: int = 0, max_maps: int = 32) -> Section:
    sec = Section("featuremaps", "Feature maps")
    x = ctx.x[index : index + 1]
    sec.add(_fig(im.to_rgb8(x[0]), f"input (test #{index}, class {ctx.name(int(ctx.y[index]))})", 112))
    for name in _convs(ctx.model, ctx.norm(x))[:3]:
        fm = explain.feature_maps(ctx.model, name, ctx.norm(x))[0, :max_maps]  # (K, h, w)
        grid = im.batch_grid(fm[:, None].numpy(), ncol=8, mode="minmax", cmap="viridis",
                             scale=max(1, 48 // max(fm.shape[-2:])))
        sec.add(Figure(im.png_bytes(grid), f"{name}: {fm.shape[0]} maps of {fm.shape[1]}×{fm.shape[2]}"))
    return sec


def _hidden_linear(model: nn.Module) -> str | None:
    lin = [n for n, m in model.named_modules() if isinstance(m, nn.Linear)]
    return lin[-2] if len(lin) >= 2 else None


def maximize_section(ctx: Context, steps: int | None = None, n_units: int = 16, l1: float = 10.0, seed: int = 0) -> Section:
    """Activation maximisation grids: filters of the last conv, neurons of the hidden dense layer, classes (± L1)."""
    sec = Section("maximize", "Activation maximisation: what each unit wants to see")
    C, H, W = ctx.input_shape
    preset = "imagenet" if min(H, W) >= 96 else "mnist"
    mean, std = ctx.stats()
    kw = dict(shape=(C, H, W), mean=mean, std=std, preset=preset, seed=seed)
    if steps is not None:
        kw["steps"] = steps
    sec.add(f'<p class="note">gradient ascent on the input, preset “{preset}” ({esc(explain.PRESETS[preset])}), '
            f"{'' if steps is None else f'{steps} steps, '}images clamped to [0, 1]</p>")
    convs = _convs(ctx.model, ctx.norm(ctx.x[:1]))
    groups = []
    if convs:
        layer = convs[-1]
        k = explain.resolve_layer(ctx.model, layer).out_channels
        groups.append((f"filters of {layer} (mean activation)", [(layer, u, "filter", 0.0, f"{u}") for u in range(min(n_units, k))]))
    hidden = _hidden_linear(ctx.model)
    if hidden:
        k = explain.resolve_layer(ctx.model, hidden).out_features
        groups.append((f"neurons of {hidden}", [(hidden, u, "neuron", 0.0, f"{u}") for u in range(min(n_units, k))]))
    n_cls = min(len(ctx.classes) or 10, 10)
    groups.append(("classes (logit), no prior", [(None, c, "class", 0.0, ctx.name(c)) for c in range(n_cls)]))
    groups.append((f"classes (logit) with the L1 prior λ={l1}", [(None, c, "class", l1, ctx.name(c)) for c in range(n_cls)]))
    for title, units in groups:
        layer, kind, lam = units[0][0], units[0][2], units[0][3]
        res = explain.maximize(ctx.model, layer, unit=[u[1] for u in units], kind=kind, l1=lam, **kw)  # one batch
        tiles = [im.to_rgb8(img) for img in res.image]
        caps = [f"{u[4]}: {a:.2g}→{b:.3g}" for u, a, b in zip(units, res.start_value, res.final_value)]
        grid = im.grid(tiles, ncol=8, scale=im.auto_factor(H, W, target=72))
        l1_img = res.image.abs().mean().item()
        sec.add((title, [Figure(im.png_bytes(grid), f"mean |x| = {l1_img:.3f}. unit: start→final activation: " + "; ".join(caps))]))
    return sec


# the attribution methods of the report's rows (registry names) and their captions
ATTRIBUTIONS = (("saliency", "saliency |∂y/∂x|"), ("guided", "guided backprop"), ("deconv", "deconvnet"),
                ("gradcam", "Grad-CAM"), ("gradcam++", "Grad-CAM++"), ("occlusion", "occlusion (red = drop)"))


def attribution_section(ctx: Context, indices: list[int], occlusion_window: int | None = None,
                        methods=ATTRIBUTIONS) -> Section:
    """One row per test image: each registry method in ``methods`` ((name, caption) pairs), target = prediction.

    Maps ("map" display) are shown over the image; occlusion adds the lecture's probability and
    predicted-class maps.
    """
    from cnnlab.explain import registry
    from cnnlab.workflows.explain import occlusion_maps, pictures

    sec = Section("attribution", "Saliency, Grad-CAM and occlusion for test images")
    C, H, W = ctx.input_shape
    win = occlusion_window or max(2, min(H, W) // 7)
    m = ctx.model
    grey = ctx.norm(torch.full((1, C, 1, 1), 0.5))
    offered = {"window": win, "stride": 1, "baseline": grey}
    sec.add(f'<p class="note">target = predicted class. Occlusion: {win}×{win} grey square, stride 1 '
            "(attribution = mean drop of the logit) and non-overlapping (probability of the class, predicted class).</p>")
    for i in indices:
        raw = ctx.x[i : i + 1]
        x = ctx.norm(raw)
        with torch.no_grad():
            t = int(m(x).argmax(1))
        base = raw[0]
        row = [_fig(im.to_rgb8(base), f"#{i} true {ctx.name(int(ctx.y[i]))}, pred {ctx.name(t)}")]
        for name, caption in methods:
            entry = registry.get(name)
            res = registry.attribute(entry, m, x, target=t, **{k: offered[k] for k in entry.options})
            pics = dict(pictures(entry.display, res.value[0], base))
            row.append(_fig(pics.get("-overlay", pics[""]), caption))
            if entry.display == "occlusion":
                n_cls = max(10, len(ctx.classes))
                maps = occlusion_maps(res.explainer, x, t, win, grey, (H, W), n_cls)
                prob, pred = dict(maps.pictures)["-probability"], dict(maps.pictures)["-predicted"]
                row.append(_fig(prob, f"P({ctx.name(t)}) occluded"))
                row.append(_fig(pred, "predicted class: " + ", ".join(sorted({ctx.name(k) for k in maps.predicted_classes}))))
        sec.add((f"test image #{i}", row))
    return sec
