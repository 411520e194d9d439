"""Deep Dream on a random-weight CNN: rising objective, size/range kept, reproducible, tiling exact."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from cnnlab.art.dream import DreamObjective, _gradient, dream
from cnnlab.art.features import FeatureExtractor
from cnnlab.errors import ConfigError, DataError, UnknownNameError


def test_objective_rises_monotonically_with_fixed_seed(net, image):
    r = dream(image, net, ["relu3_1"], octaves=1, steps=8, step_size=0.03, jitter=4, seed=3)
    (values,) = r.objective
    assert len(values) == 9
    assert all(b > a for a, b in zip(values, values[1:])), values
    assert values[-1] > 1.05 * values[0]


def test_objective_rises_within_every_octave(net, image):
    r = dream(image, net, ["relu2_2", "relu3_1"], layer_weights=[0.5, 1.0], octaves=3, octave_scale=1.3,
              steps=4, step_size=0.01, jitter=2, seed=0)
    assert len(r.objective) == 3
    for octave in r.objective:
        assert all(b > a for a, b in zip(octave, octave[1:])), octave
    assert r.octave_sizes == [(24, 28), (31, 37), (40, 48)]


def test_output_keeps_size_and_range_and_changes_the_image(net, image):
    r = dream(image, net, ["relu3_1"], octaves=2, steps=3, seed=0)
    assert r.image.shape == image.shape
    assert float(r.image.min()) >= 0.0 and float(r.image.max()) <= 1.0
    assert (r.image - image).abs().mean() > 0.005


def test_reproducible_for_a_seed(net, image):
    a = dream(image, net, ["relu3_1"], octaves=2, steps=3, seed=7).image
    b = dream(image, net, ["relu3_1"], octaves=2, steps=3, seed=7).image
    c = dream(image, net, ["relu3_1"], octaves=2, steps=3, seed=8).image
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


def test_tiled_gradient_is_exact_for_a_pointwise_network(image):
    torch.manual_seed(0)
    pointwise = nn.Sequential(nn.Conv2d(3, 5, 1), nn.ReLU())  # receptive field 1: tiles do not interact
    ex = FeatureExtractor(pointwise, ["1"])
    obj = DreamObjective(ex, ["1"], [1.0])
    whole, v_whole = _gradient(obj, image, None)
    tiled, v_tiled = _gradient(obj, image, 16)  # 40×48 in 3×3 tiles, some partial
    assert torch.allclose(whole, tiled, atol=1e-7)
    assert v_whole == pytest.approx(v_tiled, rel=1e-5)


def test_max_side_dreams_small_and_returns_full_size(net, image):
    r = dream(image, net, ["relu3_1"], octaves=2, steps=2, max_side=24, tile_size=None, seed=0)
    assert r.image.shape == image.shape
    assert max(r.octave_sizes[-1]) == 24


def test_guide_image_raises_similarity(net, image, style_image):
    r = dream(image, net, ["relu3_1"], octaves=1, steps=6, step_size=0.01, jitter=0, guide=style_image)
    assert all(b > a for a, b in zip(r.objective[0], r.objective[0][1:]))
    plain = dream(image, net, ["relu3_1"], octaves=1, steps=6, step_size=0.01, jitter=0)
    assert not torch.allclose(r.image, plain.image)  # the guide changes where the ascent goes


def test_errors(net, image, tmp_path):
    with pytest.raises(UnknownNameError, match="unknown `layer` 'relu9_9'; valid names: conv1_1"):
        dream(image, net, ["relu9_9"])
    with pytest.raises(ConfigError, match="`octaves` and `steps` must be ≥ 1; got octaves=0"):
        dream(image, net, ["relu3_1"], octaves=0)
    with pytest.raises(ConfigError, match="`octave_scale` must be > 1"):
        dream(image, net, ["relu3_1"], octave_scale=1.0)
    with pytest.raises(ConfigError, match=r"`layer_weights` needs one weight per layer \(1\); got 2"):
        dream(image, net, ["relu3_1"], layer_weights=[1, 2])
    with pytest.raises(DataError, match="`image` file not found"):
        dream(tmp_path / "missing.jpg", net)
    with pytest.raises(UnknownNameError, match="unknown `model` 'inception'; art presets: vgg16_bn, vgg16"):
        dream(image, "inception")
