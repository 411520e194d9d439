"""Neural style transfer (Gatys, Ecker & Bethge, CVPR 2016), made fast on a small CPU.

Solve for an image whose feature maps match the content image's at the content layers and whose
Gram matrices match the style image's at the style layers (losses in :mod:`cnnlab.art.losses`), with a
total-variation term against high-frequency noise. What makes it fast (see ``benchmarks/art_speed.py``):

- the network runs only up to the last layer the losses need, with BatchNorm folded into the
  convolutions (:class:`FeatureExtractor`), and the Gram matrices use one product in their backward
  pass (:func:`~cnnlab.art.losses.gram_matrix`): one full-size evaluation cost 0.76x the tutorial's
  in the run recorded in ``docs/gallery.md`` (0.68x to 0.94x over the tuning runs on a shared machine);
- the targets (content maps, style Grams) are computed once per resolution under ``no_grad``;
- projected L-BFGS (pixels kept in [0, 1] at every evaluation), preconditioned by a low-pass filter
  (:class:`LowPass`): about a quarter fewer evaluations to the same loss at 256 px;
- coarse-to-fine (``scales``): 100 evaluations at ¼ size and 100 at ½ size (0.13x and 0.31x the cost
  of a full-size one) before ``steps`` at full size, the content's detail re-injected at each change;
- the start image is the content in the style's colours (``init="matched"``).

What keeps the content (``style_scale="output"``): every stage takes its style targets from the style
image at the output's size, never from a style image shrunk with the stage. A shrunk style image puts
its large structures inside the receptive fields of the deep layers, so their Grams describe objects,
not texture: with a photographic style (skimage ``coffee``) the ¼-size stage painted the coffee cup over
the cat and the astronaut's head, and the finer stages refined the cup (paintings lost less, but Starry
Night's moon appeared in the astronaut's sky). With the style at a fixed scale the deep layers'
receptive fields cover the same small part of the style image in every stage, so a coarse stage lays
down the style's texture, which the finer stages sharpen. The rule has no parameter to tune; it
was chosen from the coarse stages' results on chelsea × coffee, astronaut × coffee and chelsea × Starry
Night, and ``benchmarks/style_pairs.py`` checks it on 8 content × style pairs. (A check of the content
loss after each coarse stage, against the style image's own, was tried first and dropped: on the
VGG16-BN trunk's ``relu4_2`` the stage that painted the cup read 0.90 of the style image's content loss,
and one that kept the astronaut under Starry Night 0.91.)
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Sequence

import torch

from cnnlab.art.color import match_color
from cnnlab.art.color import preserve_color as _preserve_color
from cnnlab.art.features import FeatureExtractor
from cnnlab.art.images import load_image, resize, resize_long_side
from cnnlab.art.losses import content_loss, gram_matrix, style_loss, tv_loss
from cnnlab.art.presets import ArtModel, resolve_model
from cnnlab.errors import ConfigError

OPTIMIZERS = ("lbfgs", "adam")
INITS = ("matched", "content", "noise")
STYLE_SCALES = ("output", "stage")
COARSE_STEPS = 100  # evaluations per coarse stage by default (see _stage_steps)


@dataclass
class StyleRecord:
    """Losses after one loss evaluation (weighted, as optimised)."""

    step: int
    height: int
    width: int
    content: float
    style: float
    tv: float
    total: float


@dataclass
class StyleResult:
    """Output of :func:`style_transfer`: the image (1, 3, H, W) in [0, 1] and the loss curve."""

    image: torch.Tensor
    history: list[StyleRecord] = field(default_factory=list)
    seconds: float = 0.0
    final: dict[str, float] = field(default_factory=dict)  # losses of the returned image at full size


class StyleObjective:
    """The weighted Gatys objective of an image against one content and one style image.

    Targets are computed once, without gradients, at construction. Calling the objective on an image
    (1, 3, H, W) returns a dict of scalar tensors ``content``, ``style``, ``tv`` (already weighted) and
    ``total``.
    """

    def __init__(self, extractor: FeatureExtractor, content: torch.Tensor, style: torch.Tensor, *,
                 content_layers: Sequence[str], style_layers: Sequence[str],
                 style_layer_weights: Sequence[float] | None = None, content_weight: float = 1.0,
                 style_weight: float = 1.0, tv_weight: float = 0.0):
        self.extractor = extractor
        self.content_layers = list(content_layers)
        self.style_layers = list(style_layers)
        w = list(style_layer_weights) if style_layer_weights is not None else [1.0] * len(self.style_layers)
        if len(w) != len(self.style_layers):
            raise ConfigError(f"`style_layer_weights` needs one weight per style layer ({len(self.style_layers)}); got {len(w)}")
        self.style_layer_weights = w
        self.content_weight, self.style_weight, self.tv_weight = content_weight, style_weight, tv_weight
        with torch.no_grad():
            cf = extractor(content)
            sf = extractor(style)
        self.content_targets = {name: cf[name].detach() for name in self.content_layers}
        self.gram_targets = {name: gram_matrix(sf[name]).detach() for name in self.style_layers}
        # Relative errors: each layer's loss is divided by the mean square of its target, so the
        # weights mean the same for every network and layer (raw Gram magnitudes differ by orders).
        self.content_scale = {n: 1.0 / float(t.pow(2).mean().clamp_min(1e-12)) for n, t in self.content_targets.items()}
        self.style_scale = {n: 1.0 / float(g.pow(2).mean().clamp_min(1e-12)) for n, g in self.gram_targets.items()}

    def __call__(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        feats = self.extractor(x)
        c = sum(self.content_scale[n] * content_loss(feats[n], self.content_targets[n]) for n in self.content_layers)
        s = sum(w * self.style_scale[n] * style_loss(feats[n], self.gram_targets[n])
                for n, w in zip(self.style_layers, self.style_layer_weights))
        t = tv_loss(x) if self.tv_weight else x.new_zeros(())
        parts = {"content": self.content_weight * c, "style": self.style_weight * s, "tv": self.tv_weight * t}
        parts["total"] = parts["content"] + parts["style"] + parts["tv"]
        return parts


@dataclass(frozen=True)
class Stage:
    """One coarse-to-fine stage: image size (H, W), the style image's longer side, loss evaluations."""

    size: tuple[int, int]
    style_side: int
    steps: int


def plan_stages(size: tuple[int, int], scales: Sequence[float], counts: Sequence[int], *, min_stage_side: int = 64,
                style_scale: str = "output") -> list[Stage]:
    """The stages of :func:`style_transfer` for an output of ``size`` = (H, W).

    A stage at scale ``s`` optimises a (round(s·H), round(s·W)) image (at least 8 px a side); coarse stages
    whose longer side would be under ``min_stage_side`` are dropped. The style image's longer side is the
    output's for every stage with ``style_scale="output"``, the stage's with ``"stage"``.

    Example: ``plan_stages((170, 256), (0.25, 0.5, 1.0), (100, 100, 140))`` gives sizes 42×64, 85×128 and
    170×256, each with the style image at 256 px.
    """
    H, W = size
    stages = []
    for scale, n in zip(scales, counts):
        if scale != 1.0 and max(H, W) * scale < min_stage_side:
            continue
        hw = (max(8, round(H * scale)), max(8, round(W * scale)))
        stages.append(Stage(hw, max(H, W) if style_scale == "output" else max(hw), int(n)))
    return stages


def _stage_steps(steps: int, n_stages: int) -> list[int]:
    """Evaluations per stage: 100 for each coarse stage, ``steps`` at full size.

    Coarse evaluations are cheap (at ¼ and ½ size one costs 0.13x and 0.31x a full-size one at 256 px),
    and the full-size stage starts from their result. Loss curves at 256 px (chelsea × Starry Night,
    same budget): 100 + 100 coarse evaluations beat 100 + 150 and 60 + 100; see
    ``benchmarks/art_speed.py`` for the defaults against the tutorial recipe.
    """
    return [COARSE_STEPS] * (n_stages - 1) + [steps]


def style_transfer(content, style, model: str | torch.nn.Module | ArtModel = "vgg16_bn", *,
                   content_layers: Sequence[str] | None = None, style_layers: Sequence[str] | None = None,
                   style_layer_weights: Sequence[float] | None = None, content_weight: float = 1.0,
                   style_weight: float | None = None, tv_weight: float | None = None, size: int = 256,
                   steps: int = 120, scales: Sequence[float] = (0.25, 0.5, 1.0),
                   stage_steps: Sequence[int] | None = None, min_stage_side: int = 64, optimizer: str = "lbfgs",
                   precondition: float | None = 0.2, style_scale: str = "output",
                   lr: float = 0.02, init: str = "matched", preserve_color: bool = False,
                   preprocess=None, channels_last: bool = True, bf16: bool = False, seed: int = 0,
                   callback: Callable[[StyleRecord, int], None] | None = None) -> StyleResult:
    """Paint ``content`` in the style of ``style``.

    Args:
        content, style: images (path, ``skimage:NAME``, PIL, array or tensor in [0, 1]).
        model: preset name (``vgg16_bn`` = easyocr VGG16-BN trunk, ``vgg16`` = HED VGG16, ...), an
            :class:`ArtModel`, or any module (then pass ``preprocess`` and the layer names).
        content_layers, style_layers: layer names or aliases (defaults from the preset).
        style_layer_weights: one weight per style layer (default equal).
        content_weight, style_weight, tv_weight: loss weights (style/TV defaults from the preset).
        size: longer side of the output in pixels.
        steps: loss evaluations at full size (the last stage).
        scales: resolutions of the coarse-to-fine stages relative to ``size``, ending with 1.0; coarse
            stages whose longer side would be under ``min_stage_side`` px are skipped (at 128 px the
            64 px stage still helps; smaller, VGG's deep layers see next to nothing).
        stage_steps: evaluations per stage, overriding ``steps`` (default: 100 for each coarse
            stage, then ``steps``).
        style_scale: ``"output"``: every stage computes its style targets from the style image with its
            longer side at ``size`` (the style's texture scale is fixed, so coarse stages cannot paint
            the style image's objects over the content; see the module docstring); ``"stage"``: from
            the style image resized with the stage (the former default).
        optimizer: ``"lbfgs"`` (projected onto [0, 1]) or ``"adam"`` (learning rate ``lr``).
        precondition: L-BFGS on ``z`` with ``x = A z``, ``A`` the low-pass :class:`LowPass` with this
            cutoff (a fraction of the Nyquist frequency); ``None`` for L-BFGS on the pixels.
        init: ``"matched"`` (the content image with the style's colour mean and covariance,
            :func:`~cnnlab.art.color.match_color`), ``"content"`` or ``"noise"`` (uniform, seeded).
            Between stages the image is upsampled and the content's detail that the smaller stage
            could not hold is added back (``x ← up(x) + c − up(c_small)``), as Deep Dream re-injects
            detail between octaves (not with ``"noise"``).
        preserve_color: keep the content's colours (luminance-only transfer, Gatys et al. 2016).
        channels_last, bf16: execution options of the feature network (bf16 is slower on CPUs without
            native bf16; measured in ``benchmarks/art_speed.py``).
        callback: called as ``callback(record, total_steps)`` after every loss evaluation.

    Returns:
        :class:`StyleResult` with the image (1, 3, H, W) in [0, 1], the loss history and
        ``final`` = the weighted losses of the returned image at full size.

    Raises:
        ConfigError: unknown optimiser/init, bad scales or steps; UnknownNameError: unknown layer.
        DataError: unreadable image.
    """
    if optimizer not in OPTIMIZERS:
        raise ConfigError(f"`optimizer` must be one of {', '.join(OPTIMIZERS)}; got {optimizer!r}")
    if precondition is not None and not precondition > 0:
        raise ConfigError(f"`precondition` must be a cutoff > 0 (fraction of the Nyquist frequency) or None; got {precondition!r}")
    if init not in INITS:
        raise ConfigError(f"`init` must be one of {', '.join(INITS)}; got {init!r}")
    if style_scale not in STYLE_SCALES:
        raise ConfigError(f"`style_scale` must be one of {', '.join(STYLE_SCALES)}; got {style_scale!r}")
    scales = [float(s) for s in scales]
    if not scales or scales[-1] != 1.0 or any(not 0 < s <= 1 for s in scales) or scales != sorted(scales):
        raise ConfigError(f"`scales` must increase within (0, 1] and end with 1.0; got {scales}")
    if steps < 1:
        raise ConfigError(f"`steps` must be at least 1; got {steps}")
    start = time.perf_counter()
    content_img = resize_long_side(load_image(content, name="content"), size)
    style_img = load_image(style, name="style")
    art = resolve_model(model, preprocess=preprocess)
    content_layers = list(content_layers or art.content_layers)
    style_layers = list(style_layers or art.style_layers)
    style_weight = art.style_weight if style_weight is None else style_weight
    tv_weight = art.tv_weight if tv_weight is None else tv_weight
    wanted = list(dict.fromkeys(content_layers + style_layers))
    extractor = FeatureExtractor(art.net, wanted, art.preprocess, aliases=art.aliases,
                                 channels_last=channels_last, bf16=bf16)
    H, W = content_img.shape[-2:]
    generator = torch.Generator().manual_seed(seed)
    counts = _stage_steps(steps, len(scales)) if stage_steps is None else [int(n) for n in stage_steps]
    if len(counts) != len(scales) or min(counts) < 1:
        raise ConfigError(f"`stage_steps` needs one count ≥ 1 per scale ({len(scales)}); got {list(counts)}")
    stages = plan_stages((H, W), scales, counts, min_stage_side=min_stage_side, style_scale=style_scale)
    total_evals = sum(st.steps for st in stages)
    history: list[StyleRecord] = []
    x = c_small = None
    for stage in stages:
        hw, n = stage.size, stage.steps
        c_img = resize(content_img, hw)
        s_img = resize_long_side(style_img, stage.style_side)
        objective = StyleObjective(extractor, c_img, s_img, content_layers=content_layers,
                                   style_layers=style_layers, style_layer_weights=style_layer_weights,
                                   content_weight=content_weight, style_weight=style_weight, tv_weight=tv_weight)
        if x is None:
            if init == "noise":
                x = torch.rand(c_img.shape, generator=generator)
            else:
                x = match_color(c_img, s_img) if init == "matched" else c_img.clone()
        elif init == "noise":
            x = resize(x, hw).clamp(0, 1)
        else:
            x = (resize(x, hw) + c_img - resize(c_small, hw)).clamp(0, 1)  # re-inject the content's detail
        c_small = c_img
        x = x.contiguous().requires_grad_(True)

        def record(parts, hw=hw):
            rec = StyleRecord(len(history) + 1, hw[0], hw[1], *(float(parts[k].detach()) for k in ("content", "style", "tv", "total")))
            history.append(rec)
            if callback is not None:
                callback(rec, total_evals)

        if optimizer == "lbfgs":
            _lbfgs(x, objective, n, record, precondition)
        else:
            _adam(x, objective, n, lr, record)
        x = x.detach().clamp(0, 1)
    if preserve_color:
        x = _preserve_color(x, content_img)
    with torch.no_grad():
        final = {k: float(v) for k, v in objective(x).items()}
    return StyleResult(image=x, history=history, seconds=time.perf_counter() - start, final=final)


class LowPass:
    """The symmetric positive-definite filter ``A`` that scales an image's 2-D spectrum by
    ``(1 + (k / cutoff)²)^(-1/2)``, with ``k`` the spatial frequency as a fraction of the Nyquist frequency.

    Style transfer optimises ``z`` with ``x = A z``: the gradient becomes ``A ∇ₓL``, which damps the
    high-frequency directions (where the loss is steep) against the low-frequency ones (where it is
    flat), a Sobolev-type preconditioner for L-BFGS. ``A`` is invertible (every factor is > 0), so the
    pixel-space projection onto [0, 1] maps back to ``z`` exactly.
    """

    def __init__(self, size: tuple[int, int], cutoff: float):
        H, W = size
        fy = torch.fft.fftfreq(H).abs().view(-1, 1)
        fx = torch.fft.rfftfreq(W).view(1, -1)
        k = torch.sqrt(fy**2 + fx**2) / 0.5
        self.gain = (1 + (k / cutoff) ** 2).rsqrt()
        self.size = (H, W)

    def __call__(self, v: torch.Tensor) -> torch.Tensor:
        return torch.fft.irfft2(torch.fft.rfft2(v) * self.gain.to(v.dtype), s=self.size)

    def inverse(self, v: torch.Tensor) -> torch.Tensor:
        return torch.fft.irfft2(torch.fft.rfft2(v) / self.gain.to(v.dtype), s=self.size)


class _NoPreconditioner:
    """``A = I``: L-BFGS on the pixels themselves."""

    def __call__(self, v: torch.Tensor) -> torch.Tensor:
        return v

    inverse = __call__


def _lbfgs(x: torch.Tensor, objective: StyleObjective, n: int, record, precondition: float | None) -> None:
    # Projected L-BFGS: pixels are clipped to [0, 1] before every evaluation. Optimising unclipped and
    # clipping at the end undoes much of the progress (9x higher style loss on the tests' toy problem).
    # Measured at 128 px on the VGG16-BN trunk, this beat a strong-Wolfe line search on clamp(x)
    # (total 6.52 after 160 evaluations vs 7.58 after 200), so fixed unit steps are used. Unit steps
    # can overshoot on small problems, so the best image evaluated is the one kept. With
    # ``precondition`` the optimiser works on z, x = A z (:class:`LowPass`).
    A = LowPass(tuple(x.shape[-2:]), precondition) if precondition else _NoPreconditioner()
    z = A.inverse(x.detach()).clone().requires_grad_(True)
    opt = torch.optim.LBFGS([z], lr=1.0, max_iter=n, max_eval=n, history_size=100, tolerance_grad=0.0,
                            tolerance_change=0.0)
    best = {"loss": float("inf"), "x": None}

    def closure():
        with torch.no_grad():
            image = A(z).clamp(0, 1)
            z.copy_(A.inverse(image))  # project onto [0, 1] in pixel space
        image.requires_grad_(True)
        parts = objective(image)
        parts["total"].backward()
        z.grad = A(image.grad)
        record(parts)
        loss = float(parts["total"].detach())
        if loss < best["loss"]:
            best["loss"], best["x"] = loss, image.detach()
        return loss

    opt.step(closure)
    with torch.no_grad():
        x.copy_(best["x"])


def _adam(x: torch.Tensor, objective: StyleObjective, n: int, lr: float, record) -> None:
    opt = torch.optim.Adam([x], lr=lr)
    for _ in range(n):
        opt.zero_grad()
        parts = objective(x)
        parts["total"].backward()
        opt.step()
        with torch.no_grad():
            x.clamp_(0, 1)
        record(parts)
