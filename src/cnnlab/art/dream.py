"""Deep Dream (Mordvintsev, Olah & Tyka, "Inceptionism: Going Deeper into Neural Networks", 2015).

Gradient ascent on the image to make chosen layers' activations larger: the objective is the weighted
sum over layers of the mean squared activation ``Σ_l w_l · mean(A_l²)`` (or, with a guide image, the
similarity of each position's features to their best match among the guide's features). Each step
rolls the image by a random offset (undone afterwards, so tile/border artefacts do not stay in one
place), divides the gradient by its mean absolute value so ``step_size`` is in pixel units, and clips
to the valid [0, 1] range. Octaves run from small to large; the detail added at one octave is
upsampled and re-injected into the next. Large images are processed in tiles and/or capped at
``max_side`` (the detail found there is upsampled onto the full-size original).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Sequence

import torch

from cnnlab.art.features import FeatureExtractor
from cnnlab.art.images import load_image, resize, resize_long_side
from cnnlab.art.presets import ArtModel, resolve_model
from cnnlab.errors import ConfigError


@dataclass
class DreamResult:
    """Output of :func:`dream`: the image (1, 3, H, W) in [0, 1], same size as the input."""

    image: torch.Tensor
    # per octave: the objective of the (un-jittered) image before the first step and after every step
    objective: list[list[float]] = field(default_factory=list)
    octave_sizes: list[tuple[int, int]] = field(default_factory=list)
    layers: list[str] = field(default_factory=list)
    seconds: float = 0.0


class DreamObjective:
    """Weighted sum of mean squared activations, or guided similarity when guide features are given."""

    def __init__(self, extractor: FeatureExtractor, layers: Sequence[str], weights: Sequence[float],
                 guide: dict[str, torch.Tensor] | None = None):
        self.extractor = extractor
        self.layers = list(layers)
        self.weights = list(weights)
        # guide maps (1, C, h, w) -> (C, h*w) once
        self.guide = {n: g[0].flatten(1) for n, g in guide.items()} if guide else None

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        feats = self.extractor(x)
        total = x.new_zeros(())
        for name, w in zip(self.layers, self.weights):
            a = feats[name]
            if self.guide is None:
                total = total + w * a.pow(2).mean()
            else:
                f = a[0].flatten(1)  # (C, H, W) -> (C, HW)
                g = self.guide[name]  # (C, M)
                match = g[:, (f.detach().T @ g).argmax(dim=1)]  # best guide vector per position, (C, HW)
                total = total + w * (f * match).mean()
        return total


def _value(objective: DreamObjective, x: torch.Tensor, tile: int | None) -> float:
    """Objective of x without gradients (area-weighted over tiles like :func:`_gradient`)."""
    H, W = x.shape[-2:]
    with torch.no_grad():
        if tile is None or max(H, W) <= tile:
            return float(objective(x))
        return sum(float(objective(x[:, :, t:t + tile, l:l + tile])) * x[:, :, t:t + tile, l:l + tile].shape[-2]
                   * x[:, :, t:t + tile, l:l + tile].shape[-1] / (H * W) for t in range(0, H, tile) for l in range(0, W, tile))


def _gradient(objective: DreamObjective, x: torch.Tensor, tile: int | None) -> tuple[torch.Tensor, float]:
    """Objective value and its gradient w.r.t. x, computed tile by tile when x is larger than ``tile``."""
    H, W = x.shape[-2:]
    if tile is None or max(H, W) <= tile:
        x = x.detach().requires_grad_(True)
        value = objective(x)
        (grad,) = torch.autograd.grad(value, x)
        return grad, float(value.detach())
    grad = torch.zeros_like(x)
    value = 0.0
    for top in range(0, H, tile):
        for left in range(0, W, tile):
            patch = x[:, :, top:top + tile, left:left + tile].detach().requires_grad_(True)
            share = patch.shape[-2] * patch.shape[-1] / (H * W)  # per-tile means -> whole-image mean
            v = objective(patch) * share
            (g,) = torch.autograd.grad(v, patch)
            grad[:, :, top:top + tile, left:left + tile] = g
            value += float(v.detach())
    return grad, value


def dream(image, model: str | torch.nn.Module | ArtModel = "mobilenet_v2", layers: Sequence[str] | None = None,
          *, layer_weights: Sequence[float] | None = None, octaves: int = 3, octave_scale: float = 1.4,
          steps: int = 10, step_size: float = 0.012, jitter: int = 32, guide=None, max_side: int | None = None,
          tile_size: int | None = 512, preprocess=None, seed: int = 0, channels_last: bool = False,
          callback: Callable[[int, int, float], None] | None = None) -> DreamResult:
    """Deep Dream an image.

    Args:
        image: path, ``skimage:NAME``, PIL image, array or tensor in [0, 1].
        model: preset name (``mobilenet_v2``, ``efficientnet_lite0``, ``vgg16_bn``, ``vgg16``), an
            :class:`ArtModel`, or any module (pass ``preprocess`` if it expects normalised inputs).
        layers: layer names or aliases to excite (default: the preset's).
        layer_weights: one weight per layer (default 1 each).
        octaves: number of scales; octave k is ``octave_scale**k`` times smaller than the image.
        steps: gradient-ascent steps per octave.
        step_size: mean absolute change of a pixel per step (pixels are in [0, 1]).
        jitter: maximum random roll in pixels (0 switches jitter off).
        guide: optional guide image: maximise similarity to its features instead of activation size.
        max_side: dream at most at this size; the detail is upsampled onto the full-size input.
        tile_size: compute gradients in tiles of this many pixels (bounded memory); None for whole.
        seed: seeds the jitter, so a result is reproducible.
        callback: ``callback(step_done, total_steps, objective)`` after every step.

    Returns:
        :class:`DreamResult`; ``image`` has the input's size, values in [0, 1].

    Raises:
        ConfigError: bad octaves/steps/scale/weights; UnknownNameError: unknown layer.
    """
    if octaves < 1 or steps < 1:
        raise ConfigError(f"`octaves` and `steps` must be ≥ 1; got octaves={octaves}, steps={steps}")
    if octave_scale <= 1.0:
        raise ConfigError(f"`octave_scale` must be > 1; got {octave_scale}")
    if step_size <= 0 or jitter < 0:
        raise ConfigError(f"`step_size` must be > 0 and `jitter` ≥ 0; got {step_size}, {jitter}")
    start = time.perf_counter()
    original = load_image(image, name="image")
    art = resolve_model(model, preprocess=preprocess)
    layers = list(layers or art.dream_layers)
    weights = list(layer_weights) if layer_weights is not None else [1.0] * len(layers)
    if len(weights) != len(layers):
        raise ConfigError(f"`layer_weights` needs one weight per layer ({len(layers)}); got {len(weights)}")
    base = original if max_side is None or max(original.shape[-2:]) <= max_side else resize_long_side(original, max_side)
    extractor = FeatureExtractor(art.net, layers, art.preprocess, aliases=art.aliases, channels_last=channels_last)
    guide_feats = None
    if guide is not None:
        with torch.no_grad():
            guide_feats = extractor(load_image(guide, name="guide", max_side=max(base.shape[-2:])))
    objective = DreamObjective(extractor, layers, weights, guide_feats)

    H, W = base.shape[-2:]
    sizes = [(max(8, round(H / octave_scale**k)), max(8, round(W / octave_scale**k))) for k in reversed(range(octaves))]
    generator = torch.Generator().manual_seed(seed)
    history: list[list[float]] = []
    total_steps, done = octaves * steps, 0
    detail = torch.zeros(1, 3, *sizes[0])
    x = base
    for hw in sizes:
        octave_base = resize(base, hw)
        x = (octave_base + resize(detail, hw)).clamp(0, 1)
        values = [_value(objective, x, tile_size)]
        for _ in range(steps):
            dy, dx = (torch.randint(-jitter, jitter + 1, (2,), generator=generator).tolist() if jitter else (0, 0))
            rolled = torch.roll(x, shifts=(dy, dx), dims=(2, 3))
            grad, _ = _gradient(objective, rolled, tile_size)
            grad = torch.roll(grad, shifts=(-dy, -dx), dims=(2, 3))
            x = (x + step_size * grad / (grad.abs().mean() + 1e-8)).clamp(0, 1)
            # measured on the un-jittered image: the value at a random roll also moves with the roll
            values.append(_value(objective, x, tile_size))
            done += 1
            if callback is not None:
                callback(done, total_steps, values[-1])
        history.append(values)
        detail = x - octave_base
    if base is not original:
        x = (original + resize(detail, tuple(original.shape[-2:]))).clamp(0, 1)
    return DreamResult(image=x.detach(), objective=history, octave_sizes=sizes, layers=layers,
                       seconds=time.perf_counter() - start)
