"""Activation maximisation: the input x* that a filter, a neuron or a class "wants to see".

Gradient ascent on the input image (Erhan et al. 2009; Simonyan et al. 2014; Yosinski et al. 2015):

    x* = argmax_x  a(x) − l1·mean|x| − l2·mean x² − tv·TV(x)

where a(x) is a conv filter's mean (or sum) activation a^k = Σ_ij a^k_ij / (h·w), a dense neuron a_j, or
a class's pre-softmax logit y_j (or its softmax probability). The lecture's L1 prior λΣ|x_ij| is ``l1``
(scaled by 1/(C·H·W) so one value fits every image size). Robustness transforms applied at each step
(random jitter, scale, rotation), optional Gaussian blur and a coarse-to-fine schedule (``octaves``)
keep the picture readable. The image is optimised in display space [0, 1] (``value_range``) and mapped
to model input with ``mean``/``std``; it is clamped to the range after every step. Deterministic for a
seed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from cnnlab.errors import ConfigError, ShapeError
from cnnlab.explain._core import explaining, resolve_layer

#: Tuned settings (see docs/explain.md for how they were judged). Explicit keyword arguments win.
PRESETS: dict[str, dict] = {
    # lecture_cnn / small MNIST nets, 1×28×28 in [0, 1]
    "mnist": dict(steps=150, lr=0.05, jitter=1, tv=0.05, blur_every=4, blur_sigma=0.5, start="grey"),
    # mobilenet_v2 and other ImageNet models at 224²
    "imagenet": dict(steps=40, lr=0.05, jitter=12, scale=0.08, rotate=6.0, tv=0.5, blur_every=4,
                     blur_sigma=0.6, octaves=3, octave_scale=1.6, start="grey"),
}


@dataclass
class MaximizeResult:
    """image: (U, C, H, W) in ``value_range``, one image per unit (U = 1 for an int ``unit``);
    history: the activation a(x) at each step (without priors; the mean over units when several);
    start_value / final_value: a(x) of the start image and of the result, without transforms (a float
    for an int ``unit``, a list of floats for a list of units)."""

    image: torch.Tensor
    history: list[float] = field(default_factory=list)
    start_value: float = float("nan")
    final_value: float = float("nan")


def _blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    from cnnlab.explain.occlusion import _gaussian_blur

    return _gaussian_blur(x, sigma)


def _tv(x: torch.Tensor) -> torch.Tensor:
    return (x[..., 1:, :] - x[..., :-1, :]).abs().mean() + (x[..., :, 1:] - x[..., :, :-1]).abs().mean()


def _transform(x: torch.Tensor, gen: torch.Generator, jitter: int, scale: float, rotate: float) -> torch.Tensor:
    if jitter:
        dy, dx = (int(v) for v in torch.randint(-jitter, jitter + 1, (2,), generator=gen))
        x = torch.roll(x, shifts=(dy, dx), dims=(2, 3))
    if scale or rotate:
        s = 1.0 + (torch.rand((), generator=gen).item() * 2 - 1) * scale
        a = math.radians((torch.rand((), generator=gen).item() * 2 - 1) * rotate)
        theta = torch.tensor([[math.cos(a) / s, -math.sin(a) / s, 0.0], [math.sin(a) / s, math.cos(a) / s, 0.0]],
                             dtype=x.dtype, device=x.device)[None].expand(x.shape[0], -1, -1)
        grid = F.affine_grid(theta, list(x.shape), align_corners=False)
        x = F.grid_sample(x, grid, mode="bilinear", padding_mode="reflection", align_corners=False)
    return x


def maximize(model: nn.Module, layer: nn.Module | str | None = None, unit: int | list[int] = 0, kind: str = "filter", *,
             shape: tuple[int, int, int] | None = None, steps: int | None = None, lr: float | None = None,
             l1: float = 0.0, l2: float = 0.0, tv: float | None = None, jitter: int | None = None,
             scale: float | None = None, rotate: float | None = None, blur_every: int | None = None,
             blur_sigma: float | None = None, octaves: int | None = None, octave_scale: float | None = None,
             reduce: str = "mean", output: str = "logit", start=None, mean=None, std=None,
             value_range: tuple[float, float] = (0.0, 1.0), seed: int = 0, preset: str | None = None) -> MaximizeResult:
    """Gradient ascent on the input to maximise one unit.

    Args:
        model: any module, or a :class:`cnnlab.bundle.Bundle` (its preprocessing gives ``mean``/``std``).
        layer: module or dotted name whose output holds the unit; for ``kind="class"`` ``None`` means the
            model's output (give a layer to use e.g. the logits before a softmax module).
        unit: filter index (channel), neuron index (into the flattened layer output) or class index; a
            list of them optimises one image per unit in a single batch (same transforms for all; eval-mode
            models treat the images independently).
        kind: ``"filter"`` (mean/sum of a channel's map, ``reduce``), ``"neuron"`` or ``"class"``.
        shape: (C, H, W) of the model input; not needed when ``start`` is a tensor or cnnlab built the model
            (zoo, builder, run folder bundle: it carries its input shape).
        steps, lr: Adam steps and learning rate (on pixels in ``value_range``).
        l1, l2, tv: weights of mean|x|, mean x² and total variation (mean absolute neighbour difference).
        jitter: max random shift in pixels per step; scale: max relative random zoom; rotate: max degrees.
        blur_every, blur_sigma: Gaussian blur of the image every ``blur_every`` steps (0 = never).
        octaves, octave_scale: optimise first at ``1/octave_scale^(octaves-1)`` resolution, then finer.
        output: for classes, ``"logit"`` (pre-softmax, the default) or ``"probability"``.
        start: ``"grey"`` (mid-range + small noise), ``"noise"`` (uniform in range) or a (1, C, H, W) tensor.
        mean, std: per-channel normalisation mapping the image to model input ((x − mean)/std).
        seed: makes the result deterministic.
        preset: ``"mnist"`` or ``"imagenet"`` (see :data:`PRESETS`); explicit arguments override it.

    Returns:
        :class:`MaximizeResult`.

    Raises:
        ConfigError: unknown ``kind``/``preset``/``output``/``reduce``, a unit out of range, bad ``steps``.
    """
    if preset is not None and preset not in PRESETS:
        raise ConfigError(f"`preset` must be one of {sorted(PRESETS)}; got {preset!r}")
    from cnnlab.bundle import Bundle, input_shape_of

    pre = None
    if isinstance(model, Bundle):
        if mean is None and std is None:
            pre = model.preprocess  # the bundle's own pipeline (scale, BGR and all)
        shape = model.input_shape if shape is None else shape
        model = model.model
    if shape is None and not isinstance(start, torch.Tensor):
        shape = input_shape_of(model)
    opts = dict(steps=100, lr=0.05, tv=0.0, jitter=0, scale=0.0, rotate=0.0, blur_every=0, blur_sigma=0.5,
                octaves=1, octave_scale=1.5, start="grey")
    opts.update(PRESETS.get(preset, {}))
    given = dict(steps=steps, lr=lr, tv=tv, jitter=jitter, scale=scale, rotate=rotate, blur_every=blur_every,
                 blur_sigma=blur_sigma, octaves=octaves, octave_scale=octave_scale, start=start)
    opts.update({k: v for k, v in given.items() if v is not None})
    if kind not in ("filter", "neuron", "class"):
        raise ConfigError(f"`kind` must be 'filter', 'neuron' or 'class'; got {kind!r}")
    if output not in ("logit", "probability"):
        raise ConfigError(f"`output` must be 'logit' or 'probability'; got {output!r}")
    if reduce not in ("mean", "sum"):
        raise ConfigError(f"`reduce` must be 'mean' or 'sum'; got {reduce!r}")
    if int(opts["steps"]) < 1 or int(opts["octaves"]) < 1:
        raise ConfigError(f"`steps` and `octaves` must be ≥ 1; got {opts['steps']} and {opts['octaves']}")
    if kind != "class" and layer is None:
        raise ConfigError(f"`layer` is needed for kind={kind!r}")
    target_layer = None if layer is None else resolve_layer(model, layer)

    units = [int(u) for u in unit] if isinstance(unit, (list, tuple)) else [int(unit)]
    if not units:
        raise ConfigError("`unit` must be an int or a non-empty list of ints; got an empty list")
    U = len(units)
    gen = torch.Generator().manual_seed(seed)
    lo, hi = value_range
    st = opts["start"]
    if isinstance(st, torch.Tensor):
        if st.dim() != 4 or st.shape[0] != 1:
            raise ShapeError(f"`start` must be a 1×C×H×W tensor; got {tuple(st.shape)}")
        image = st.detach().float().clone().expand(U, -1, -1, -1).clone()
    else:
        if shape is None or len(shape) != 3:
            raise ConfigError(f"`shape` must be (C, H, W) when `start` is not a tensor; got {shape!r}")
        if st == "grey":
            image = (lo + hi) / 2 + 0.05 * (hi - lo) * torch.randn((U, *shape), generator=gen)
        elif st == "noise":
            image = lo + (hi - lo) * torch.rand((U, *shape), generator=gen)
        else:
            raise ConfigError(f"`start` must be 'grey', 'noise' or a tensor; got {st!r}")
    image = image.clamp(lo, hi)
    C = image.shape[1]
    if pre is None:
        from cnnlab.preprocess import Normalize

        m = torch.as_tensor(0.0 if mean is None else mean, dtype=torch.float32).flatten()
        s = torch.as_tensor(1.0 if std is None else std, dtype=torch.float32).flatten()
        if len(m) not in (1, C) or len(s) not in (1, C):
            raise ShapeError(f"`mean`/`std` must have 1 or {C} values; got {len(m)} and {len(s)}")
        pre = Normalize(m.expand(max(len(m), len(s))).tolist(), s.expand(max(len(m), len(s))).tolist())

    def activation(img: torch.Tensor) -> torch.Tensor:
        captured: list[torch.Tensor] = []
        handle = None
        if target_layer is not None:
            handle = target_layer.register_forward_hook(lambda _m, _i, o: captured.append(o.clone()))  # immune to in-place ops after it
        try:
            out = model(pre(img))
        finally:
            if handle is not None:
                handle.remove()
        a = captured[-1] if captured else out
        rows = torch.arange(U)
        cols = torch.tensor(units)
        if kind == "filter":
            if a.dim() != 4:
                raise ShapeError(f"kind='filter' needs a layer with N×K×h×w output; got {tuple(a.shape)}")
            bad = [u for u in units if not 0 <= u < a.shape[1]]
            if bad:
                raise ConfigError(f"`unit` must be in [0, {a.shape[1] - 1}] for this layer; got {bad[0]}")
            fmap = a[rows, cols]  # (U, h, w): image i drives its own unit
            return fmap.mean(dim=(1, 2)) if reduce == "mean" else fmap.sum(dim=(1, 2))
        flat = a.reshape(a.shape[0], -1)
        bad = [u for u in units if not 0 <= u < flat.shape[1]]
        if bad:
            raise ConfigError(f"`unit` must be in [0, {flat.shape[1] - 1}] for this layer; got {bad[0]}")
        if kind == "class" and output == "probability":
            flat = flat.softmax(1)
        return flat[rows, cols]  # (U,)

    history: list[float] = []
    H, W = image.shape[-2:]
    octaves_n = int(opts["octaves"])
    per_octave = [int(opts["steps"]) // octaves_n + (1 if i < int(opts["steps"]) % octaves_n else 0) for i in range(octaves_n)]
    with explaining(model):
        with torch.no_grad():
            start_values = activation(image).tolist()
        for o in range(octaves_n):
            f = float(opts["octave_scale"]) ** (octaves_n - 1 - o)
            size = (max(1, round(H / f)), max(1, round(W / f)))
            param = F.interpolate(image, size=size, mode="bilinear", align_corners=False) if size != (H, W) else image.clone()
            param.requires_grad_(True)
            opt = torch.optim.Adam([param], lr=float(opts["lr"]))
            for step in range(per_octave[o]):
                full = F.interpolate(param, size=(H, W), mode="bilinear", align_corners=False) if size != (H, W) else param
                seen = _transform(full, gen, int(opts["jitter"]), float(opts["scale"]), float(opts["rotate"]))
                act = activation(seen)  # (U,)
                # per-image objectives summed: each image's gradient is its own
                loss = -act.sum()
                if l1:
                    loss = loss + l1 * full.abs().mean(dim=(1, 2, 3)).sum()
                if l2:
                    loss = loss + l2 * (full**2).mean(dim=(1, 2, 3)).sum()
                if opts["tv"]:
                    loss = loss + float(opts["tv"]) * U * _tv(full)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                with torch.no_grad():
                    if opts["blur_every"] and (step + 1) % int(opts["blur_every"]) == 0 and min(size) > 4:
                        param.copy_(_blur(param, float(opts["blur_sigma"])))
                    param.clamp_(lo, hi)
                history.append(float(act.detach().mean()))
            with torch.no_grad():
                image = F.interpolate(param.detach(), size=(H, W), mode="bilinear", align_corners=False) if size != (H, W) else param.detach().clone()
        with torch.no_grad():
            final_values = activation(image).tolist()
    if isinstance(unit, (list, tuple)):
        return MaximizeResult(image=image.detach(), history=history, start_value=start_values, final_value=final_values)
    return MaximizeResult(image=image.detach(), history=history, start_value=start_values[0], final_value=final_values[0])
