"""Style transfer on a random-weight CNN: the style loss falls ≥10×, content stays bounded."""

from __future__ import annotations

import pytest
import torch

from cnnlab.art.color import rgb_to_yiq
from cnnlab.art.features import FeatureExtractor, vgg_aliases
from cnnlab.art.style import StyleObjective, _split_steps, style_transfer
from cnnlab.errors import ConfigError

STYLE = ["relu1_1", "relu2_1", "relu3_1"]
CONTENT = ["relu2_2"]


def _objective(net, content, style, **kw):
    ex = FeatureExtractor(net, CONTENT + STYLE, aliases=vgg_aliases(net))
    return StyleObjective(ex, content, style, content_layers=CONTENT, style_layers=STYLE, **kw)


@pytest.mark.parametrize("optimizer,steps", [("lbfgs", 40), ("adam", 60)])
def test_style_loss_falls_tenfold_and_content_stays_bounded(net, image, style_image, optimizer, steps):
    r = style_transfer(image, style_image, net, content_layers=CONTENT, style_layers=STYLE, size=48,
                       steps=steps, scales=(1.0,), style_weight=1.0, tv_weight=0.0, optimizer=optimizer,
                       lr=0.02, channels_last=False)
    ref = _objective(net, image, style_image, style_weight=1.0)
    with torch.no_grad():
        start = {k: float(v) for k, v in ref(image).items()}
        end = {k: float(v) for k, v in ref(r.image).items()}
        style_as_output = {k: float(v) for k, v in ref(style_image).items()}
    assert start["content"] == 0.0
    assert end["style"] < start["style"] / 10, (start, end)
    # stated bound: the content loss stays below a quarter of the style image's own content loss
    assert end["content"] < 0.25 * style_as_output["content"], (end, style_as_output)
    assert r.image.shape == image.shape and 0 <= float(r.image.min()) and float(r.image.max()) <= 1
    assert r.final["total"] == pytest.approx(end["total"], rel=1e-4)


def test_coarse_to_fine_and_noise_init(net, image, style_image):
    r = style_transfer(image, style_image, net, content_layers=CONTENT, style_layers=STYLE, size=48,
                       steps=30, scales=(0.5, 1.0), init="noise", style_weight=1.0, tv_weight=1e-2, seed=1,
                       optimizer="adam", lr=0.05)
    sizes = [(h.height, h.width) for h in r.history]
    assert sizes[0] == (20, 24) and sizes[-1] == (40, 48)
    fine = [h.total for h in r.history if h.height == 40]
    assert fine[-1] < fine[0]
    ref = _objective(net, image, style_image, style_weight=1.0, tv_weight=1e-2)
    with torch.no_grad():
        noise = float(ref(torch.rand(image.shape, generator=torch.Generator().manual_seed(1)))["total"])
    assert r.final["total"] < noise / 3
    again = style_transfer(image, style_image, net, content_layers=CONTENT, style_layers=STYLE, size=48,
                           steps=30, scales=(0.5, 1.0), init="noise", style_weight=1.0, tv_weight=1e-2, seed=1,
                           optimizer="adam", lr=0.05)
    assert torch.allclose(r.image, again.image, atol=1e-5)


def test_preserve_color_keeps_content_chroma(net, image, style_image):
    image = 0.3 + 0.4 * image  # mild colours: the recombined image is not clipped
    r = style_transfer(image, style_image, net, content_layers=CONTENT, style_layers=STYLE, size=48,
                       steps=10, scales=(1.0,), preserve_color=True)
    chroma_err = (rgb_to_yiq(r.image)[:, 1:] - rgb_to_yiq(image)[:, 1:]).abs().mean()
    assert float(chroma_err) < 0.01


def test_split_steps():
    assert _split_steps(90, [1.0]) == [90]
    assert _split_steps(300, [0.5, 1.0]) == [100, 200]
    assert sum(_split_steps(100, [0.25, 0.5, 1.0])) == 100


def test_errors(net, image, style_image, tmp_path):
    kw = dict(content_layers=CONTENT, style_layers=STYLE, size=32)
    with pytest.raises(ConfigError, match="`optimizer` must be one of lbfgs, adam; got 'sgd'"):
        style_transfer(image, style_image, net, optimizer="sgd", **kw)
    with pytest.raises(ConfigError, match="`init` must be one of content, noise"):
        style_transfer(image, style_image, net, init="zeros", **kw)
    with pytest.raises(ConfigError, match=r"`scales` must increase within \(0, 1\] and end with 1.0"):
        style_transfer(image, style_image, net, scales=(1.0, 0.5), **kw)
    with pytest.raises(ConfigError, match="`style_layer_weights` needs one weight per style layer"):
        style_transfer(image, style_image, net, style_layer_weights=[1.0], **kw)
    with pytest.raises(ConfigError, match=r"`stage_steps` needs one count ≥ 1 per scale \(2\); got \[5\]"):
        style_transfer(image, style_image, net, scales=(0.5, 1.0), stage_steps=[5], **kw)
    with pytest.raises(Exception, match="`style` file not found"):
        style_transfer(image, tmp_path / "nope.jpg", net, **kw)
