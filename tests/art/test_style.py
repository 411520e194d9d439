"""Style transfer on a random-weight CNN: the style loss falls (≥10× with Adam, ≥2× with L-BFGS), content stays
bounded; thresholds hold on AVX2 and AVX-512 kernels alike (see the main test)."""

from __future__ import annotations

import pytest
import torch

from cnnlab.art.color import rgb_to_yiq
from cnnlab.art.features import FeatureExtractor, vgg_aliases
from cnnlab.art.images import resize_long_side
from cnnlab.art.style import STYLE_SCALES, LowPass, Stage, StyleObjective, _stage_steps, plan_stages, style_transfer
from cnnlab.errors import ConfigError

STYLE = ["relu1_1", "relu2_1", "relu3_1"]
CONTENT = ["relu2_2"]


def _objective(net, content, style, **kw):
    ex = FeatureExtractor(net, CONTENT + STYLE, aliases=vgg_aliases(net))
    return StyleObjective(ex, content, style, content_layers=CONTENT, style_layers=STYLE, **kw)


# Thresholds per optimiser: (least factor the style loss falls by, content bound as a fraction of the style
# image's own content loss). They were set from the spread of the result under rounding-level changes, the
# size of the difference between CPU kernels (AVX2 vs AVX-512 FMA order): each of 40 starts perturbed by
# 1e-6 noise, run with the AVX-512 kernels and again with ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2
# MKL_ENABLE_INSTRUCTIONS=AVX2 (80 runs per optimiser).
# - Adam (60 steps) is smooth: style falls 35.2-35.8× and content stays at 0.10 of the bound's reference in
#   every run, so 10× and 0.25 keep a margin of 3.5× and 2.5×.
# - L-BFGS (40 evaluations) takes fixed unit steps without a line search and keeps the best image evaluated;
#   on this toy problem its loss jumps between evaluations, so the best of 40 depends on rounding: style
#   falls 4.2× to 26× (median 12×; 8.7× on a real AVX2-only CPU, where the former 10× threshold failed) and
#   content reaches 0.07-0.54 of the reference. 2× and 1.0 (the result stays nearer the content image than
#   the style image is) keep a margin of 2.1× and 1.85× below the worst of the 80 runs.
THRESHOLDS = {"adam": (10.0, 0.25), "lbfgs": (2.0, 1.0)}


@pytest.mark.parametrize("optimizer,steps", [("lbfgs", 40), ("adam", 60)])
def test_style_loss_falls_and_content_stays_bounded(net, image, style_image, optimizer, steps):
    r = style_transfer(image, style_image, net, content_layers=CONTENT, style_layers=STYLE, size=48,
                       steps=steps, scales=(1.0,), style_weight=1.0, tv_weight=0.0, optimizer=optimizer,
                       lr=0.02, channels_last=False)
    ref = _objective(net, image, style_image, style_weight=1.0)
    with torch.no_grad():
        start = {k: float(v) for k, v in ref(image).items()}
        end = {k: float(v) for k, v in ref(r.image).items()}
        style_as_output = {k: float(v) for k, v in ref(style_image).items()}
    falls_by, content_bound = THRESHOLDS[optimizer]
    assert start["content"] == 0.0
    assert end["style"] < start["style"] / falls_by, (start, end)
    assert end["content"] < content_bound * style_as_output["content"], (end, style_as_output)
    assert r.image.shape == image.shape and 0 <= float(r.image.min()) and float(r.image.max()) <= 1
    assert r.final["total"] == pytest.approx(end["total"], rel=1e-4)
    if optimizer == "lbfgs":  # by construction: the best image evaluated, so no worse than the start image
        assert r.final["total"] <= r.history[0].total * (1 + 1e-6)


def test_coarse_to_fine_and_noise_init(net, image, style_image):
    r = style_transfer(image, style_image, net, content_layers=CONTENT, style_layers=STYLE, size=48,
                       steps=20, stage_steps=(10, 20), scales=(0.5, 1.0), min_stage_side=8, init="noise", style_weight=1.0,
                       tv_weight=1e-2, seed=1, optimizer="adam", lr=0.05)
    assert len(r.history) == 30
    sizes = [(h.height, h.width) for h in r.history]
    assert sizes[0] == (20, 24) and sizes[-1] == (40, 48)
    fine = [h.total for h in r.history if h.height == 40]
    assert fine[-1] < fine[0]
    ref = _objective(net, image, style_image, style_weight=1.0, tv_weight=1e-2)
    with torch.no_grad():
        noise = float(ref(torch.rand(image.shape, generator=torch.Generator().manual_seed(1)))["total"])
    assert r.final["total"] < noise / 3
    again = style_transfer(image, style_image, net, content_layers=CONTENT, style_layers=STYLE, size=48,
                           stage_steps=(10, 20), scales=(0.5, 1.0), min_stage_side=8, init="noise", style_weight=1.0,
                           tv_weight=1e-2, seed=1, optimizer="adam", lr=0.05)
    assert torch.allclose(r.image, again.image, atol=1e-5)


def test_preserve_color_keeps_content_chroma(net, image, style_image):
    image = 0.3 + 0.4 * image  # mild colours: the recombined image is not clipped
    r = style_transfer(image, style_image, net, content_layers=CONTENT, style_layers=STYLE, size=48,
                       steps=10, scales=(1.0,), preserve_color=True)
    chroma_err = (rgb_to_yiq(r.image)[:, 1:] - rgb_to_yiq(image)[:, 1:]).abs().mean()
    assert float(chroma_err) < 0.01


def test_stage_change_reinjects_the_start_images_detail(net, image, style_image):
    # One evaluation per stage leaves each stage at its start image (the best evaluated one), so the
    # full-size stage starts from up(content_half) + content − up(content_half) = content exactly.
    r = style_transfer(image, style_image, net, content_layers=CONTENT, style_layers=STYLE, size=48,
                       scales=(0.5, 1.0), stage_steps=(1, 1), min_stage_side=8, init="content")
    assert torch.allclose(r.image, image, atol=1e-6)
    assert r.final["content"] == pytest.approx(0.0, abs=1e-9)


def test_matched_init_starts_in_the_style_colours(net, image, style_image):
    style_image = style_image * torch.tensor([0.3, 0.1, 0.1]).view(1, 3, 1, 1) + torch.tensor([0.6, 0.2, 0.1]).view(1, 3, 1, 1)
    r = style_transfer(image, style_image, net, content_layers=CONTENT, style_layers=STYLE, size=48,
                       scales=(1.0,), steps=1, init="matched")
    means = lambda t: t.mean(dim=(0, 2, 3))  # noqa: E731
    assert torch.allclose(means(r.image), means(style_image), atol=0.02)
    assert not torch.allclose(means(image), means(style_image), atol=0.1)


def test_lbfgs_keeps_the_best_image_it_evaluated(net, image, style_image):
    r = style_transfer(image, style_image, net, content_layers=CONTENT, style_layers=STYLE, size=48,
                       steps=40, scales=(1.0,), style_weight=1.0, tv_weight=0.0, channels_last=False)
    assert r.final["total"] == pytest.approx(min(h.total for h in r.history), rel=1e-4)


def test_small_coarse_stages_are_skipped(net, image, style_image):
    r = style_transfer(image, style_image, net, content_layers=CONTENT, style_layers=STYLE, size=48,
                       scales=(0.25, 0.5, 1.0), stage_steps=(2, 3, 4))  # 12 and 24 px < 64 px: skipped
    assert [(h.height, h.width) for h in r.history] == [(40, 48)] * 4


def test_lowpass_is_symmetric_invertible_and_damps_high_frequencies():
    torch.manual_seed(6)
    A = LowPass((10, 13), 0.2)
    u, v = torch.randn(1, 3, 10, 13, dtype=torch.float64), torch.randn(1, 3, 10, 13, dtype=torch.float64)
    assert float((A(u) * v).sum()) == pytest.approx(float((u * A(v)).sum()), rel=1e-10)  # A = Aᵀ
    assert torch.allclose(A.inverse(A(u)), u, atol=1e-10)
    flat = torch.ones(1, 1, 10, 13, dtype=torch.float64)
    checker = (torch.arange(10).view(-1, 1) + torch.arange(13).view(1, -1)).remainder(2).double() * 2 - 1
    assert torch.allclose(A(flat), flat)  # the zero frequency passes unchanged
    # the checkerboard (k = √2 × Nyquist) is scaled by (1 + (√2/0.2)²)^-½ ≈ 0.14
    assert float(A(checker.view(1, 1, 10, 13)).abs().max()) < 0.2


def test_preconditioned_gradient_is_the_chain_rule(net, image, style_image):
    # L-BFGS on z with x = A z must see dL/dz = Aᵀ dL/dx = A dL/dx: compare with autograd through A.
    ex = FeatureExtractor(net, CONTENT + STYLE, aliases=vgg_aliases(net))
    obj = StyleObjective(ex, image, style_image, content_layers=CONTENT, style_layers=STYLE, tv_weight=0.1)
    A = LowPass(tuple(image.shape[-2:]), 0.2)
    z = A.inverse(0.5 * image + 0.25).requires_grad_(True)
    obj(A(z))["total"].backward()
    x = A(z.detach()).requires_grad_(True)
    obj(x)["total"].backward()
    assert torch.allclose(z.grad, A(x.grad), atol=1e-6, rtol=1e-4)


def test_stage_steps():
    assert _stage_steps(90, 1) == [90]
    assert _stage_steps(120, 3) == [100, 100, 120]


def test_errors(net, image, style_image, tmp_path):
    kw = dict(content_layers=CONTENT, style_layers=STYLE, size=32)
    with pytest.raises(ConfigError, match="`optimizer` must be one of lbfgs, adam; got 'sgd'"):
        style_transfer(image, style_image, net, optimizer="sgd", **kw)
    with pytest.raises(ConfigError, match="`style_scale` must be one of output, stage; got 'input'"):
        style_transfer(image, style_image, net, style_scale="input", **kw)
    with pytest.raises(ConfigError, match="`init` must be one of matched, content, noise"):
        style_transfer(image, style_image, net, init="zeros", **kw)
    with pytest.raises(ConfigError, match=r"`precondition` must be a cutoff > 0 .*; got -1"):
        style_transfer(image, style_image, net, precondition=-1, **kw)
    with pytest.raises(ConfigError, match=r"`scales` must increase within \(0, 1\] and end with 1.0"):
        style_transfer(image, style_image, net, scales=(1.0, 0.5), **kw)
    with pytest.raises(ConfigError, match="`style_layer_weights` needs one weight per style layer"):
        style_transfer(image, style_image, net, style_layer_weights=[1.0], **kw)
    with pytest.raises(ConfigError, match=r"`stage_steps` needs one count ≥ 1 per scale \(2\); got \[5\]"):
        style_transfer(image, style_image, net, scales=(0.5, 1.0), stage_steps=[5], **kw)
    with pytest.raises(Exception, match="`style` file not found"):
        style_transfer(image, tmp_path / "nope.jpg", net, **kw)


def test_plan_stages_keeps_the_style_at_the_output_scale():
    out = plan_stages((170, 256), (0.25, 0.5, 1.0), (100, 100, 140))
    assert out == [Stage((42, 64), 256, 100), Stage((85, 128), 256, 100), Stage((170, 256), 256, 140)]
    old = plan_stages((170, 256), (0.25, 0.5, 1.0), (100, 100, 140), style_scale="stage")
    assert [st.style_side for st in old] == [64, 128, 256]
    assert [st.size for st in old] == [st.size for st in out]
    # 128 px: the 32 px stage is under min_stage_side (64) and dropped; the 64 px one stays
    assert plan_stages((128, 85), (0.25, 0.5, 1.0), (1, 2, 3)) == [Stage((64, 42), 128, 2), Stage((128, 85), 128, 3)]
    assert plan_stages((20, 20), (0.25, 1.0), (5, 6), min_stage_side=1) == [Stage((8, 8), 20, 5), Stage((20, 20), 20, 6)]


def test_style_scale_only_changes_the_coarse_stages(net, image, style_image):
    kw = dict(content_layers=CONTENT, style_layers=STYLE, size=48, min_stage_side=8, channels_last=False,
              style_weight=1.0, tv_weight=0.0)
    big_style = torch.nn.functional.interpolate(style_image, scale_factor=2, mode="bilinear", align_corners=False)
    one = [style_transfer(image, big_style, net, scales=(1.0,), steps=8, style_scale=ss, **kw) for ss in STYLE_SCALES]
    assert torch.equal(one[0].image, one[1].image)  # a single stage sees the style at the output size either way
    two = [style_transfer(image, big_style, net, scales=(0.5, 1.0), stage_steps=(8, 8), style_scale=ss, **kw)
           for ss in STYLE_SCALES]
    assert not torch.allclose(two[0].image, two[1].image, atol=1e-3)
    # the objective of the returned image is the same full-size one in both modes
    ref = _objective(net, image, resize_long_side(big_style, 48))
    for r in two:
        with torch.no_grad():
            assert r.final["total"] == pytest.approx(float(ref(r.image)["total"]), rel=1e-4)
