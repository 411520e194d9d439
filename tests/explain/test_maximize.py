"""Activation maximisation: it climbs, the L1 prior shrinks the image, it is deterministic, errors are clear."""

from __future__ import annotations

import pytest
import torch

from cnnlab.errors import ConfigError, ShapeError
from cnnlab.explain import maximize


def _log_odds(logits: torch.Tensor, c: int) -> float:
    """log(p_c / (1 − p_c)) of the first row, from the logits (finite even when p_c rounds to 1)."""
    others = torch.cat([logits[:, :c], logits[:, c + 1:]], dim=1)
    return float(logits[0, c] - torch.logsumexp(others, dim=1)[0])


def test_class_maximisation_raises_the_logit_by_a_large_factor(trained_cnn, digits):
    x, y = digits
    with torch.no_grad():
        typical = trained_cnn(x).gather(1, y.view(-1, 1)).mean().item()  # mean true-class logit on real digits
    for c in (0, 3, 7):
        res = maximize(trained_cnn, kind="class", unit=c, shape=(1, 8, 8), steps=60, lr=0.05, seed=0)
        with torch.no_grad():
            start = torch.full((1, 1, 8, 8), 0.5) + 0.05 * torch.randn(1, 1, 8, 8, generator=torch.Generator().manual_seed(0))
            odds_start = _log_odds(trained_cnn(start.clamp(0, 1)), c)
            odds_end = _log_odds(trained_cnn(res.image), c)
            p_end = trained_cnn(res.image).softmax(1)[0, c]
        # Margins ≥ 2× the spread seen when the fixture's training starts from weights perturbed by 1e-6..1e-4
        # (what another CPU kernel's rounding does): logit rise 19-22, log-odds rise 11.7-24.6, p_end ≥ 0.9996.
        assert res.final_value - res.start_value > 10, (c, res.start_value, res.final_value)
        assert res.final_value > 1.5 * typical  # beyond what real images of the class reach
        assert p_end.item() > 0.99 and odds_end - odds_start > 6, (c, odds_start, odds_end)  # odds up > 400×
        assert res.history[-1] > res.history[0] + 10
        assert res.image.min() >= 0 and res.image.max() <= 1


def test_l1_prior_lowers_the_image_l1_norm(trained_cnn):
    plain = maximize(trained_cnn, kind="class", unit=2, shape=(1, 8, 8), steps=60, seed=0)
    sparse = maximize(trained_cnn, kind="class", unit=2, shape=(1, 8, 8), steps=60, seed=0, l1=20.0)
    # the prior removes 31-42% of the L1 norm across rounding-level changes of the model; ask for 15%
    assert sparse.image.abs().sum() < 0.85 * plain.image.abs().sum()
    assert sparse.final_value > sparse.start_value + 5  # still a picture of that class


def test_filter_and_neuron_kinds_climb_and_are_deterministic(trained_cnn):
    a = maximize(trained_cnn, "features.3", unit=5, kind="filter", shape=(1, 8, 8), steps=30, jitter=1, seed=3)
    b = maximize(trained_cnn, "features.3", unit=5, kind="filter", shape=(1, 8, 8), steps=30, jitter=1, seed=3)
    c = maximize(trained_cnn, "features.3", unit=5, kind="filter", shape=(1, 8, 8), steps=30, jitter=1, seed=4)
    assert torch.equal(a.image, b.image) and a.history == b.history
    assert not torch.equal(a.image, c.image)
    assert a.final_value > a.start_value + 0.5
    n = maximize(trained_cnn, "classifier.2", unit=11, kind="neuron", shape=(1, 8, 8), steps=30, seed=0)
    assert n.final_value > n.start_value + 5
    s = maximize(trained_cnn, "features.3", unit=5, reduce="sum", shape=(1, 8, 8), steps=1)
    m = maximize(trained_cnn, "features.3", unit=5, reduce="mean", shape=(1, 8, 8), steps=1)
    assert s.start_value == pytest.approx(16 * m.start_value, rel=1e-5)  # 4×4 map


def test_normalisation_tv_octaves_and_probability_output(trained_cnn):
    res = maximize(trained_cnn, kind="class", unit=1, shape=(1, 8, 8), steps=40, mean=[0.3], std=[0.4],
                   tv=0.1, octaves=2, octave_scale=2.0, output="probability", scale=0.1, rotate=5)
    assert 0 <= res.start_value <= 1 and res.final_value > 0.9
    assert len(res.history) == 40
    smooth = maximize(trained_cnn, kind="class", unit=1, shape=(1, 8, 8), steps=60, tv=5.0, seed=0).image
    rough = maximize(trained_cnn, kind="class", unit=1, shape=(1, 8, 8), steps=60, seed=0).image

    def tv(im):
        return (im[..., 1:, :] - im[..., :-1, :]).abs().sum() + (im[..., 1:] - im[..., :-1]).abs().sum()

    assert tv(smooth) < tv(rough)


def test_maximize_errors(trained_cnn):
    with pytest.raises(ConfigError, match=r"`kind` must be 'filter', 'neuron' or 'class'; got 'pixel'"):
        maximize(trained_cnn, "features.0", kind="pixel", shape=(1, 8, 8))
    with pytest.raises(ConfigError, match=r"`unit` must be in \[0, 15\] for this layer; got 16"):
        maximize(trained_cnn, "features.3", unit=16, shape=(1, 8, 8), steps=1)
    with pytest.raises(ConfigError, match=r"`preset` must be one of \['imagenet', 'mnist'\]; got 'cifar'"):
        maximize(trained_cnn, kind="class", shape=(1, 8, 8), preset="cifar")
    with pytest.raises(ConfigError, match=r"`shape` must be \(C, H, W\)"):
        maximize(trained_cnn, kind="class")
    with pytest.raises(ConfigError, match=r"`layer` is needed for kind='filter'"):
        maximize(trained_cnn, shape=(1, 8, 8))
    with pytest.raises(ShapeError, match=r"kind='filter' needs a layer with N×K×h×w output"):
        maximize(trained_cnn, "classifier.1", shape=(1, 8, 8), steps=1)
    with pytest.raises(ConfigError, match=r"`steps` and `octaves` must be ≥ 1; got 0 and 1"):
        maximize(trained_cnn, kind="class", shape=(1, 8, 8), steps=0)


def test_filter_objective_is_the_layer_output_even_before_an_in_place_relu(trained_cnn):
    import torch.nn.functional as F

    start = torch.rand(1, 1, 8, 8, generator=torch.Generator().manual_seed(1))
    conv = trained_cnn.features[0]  # followed by ReLU(inplace=True)
    pre = F.conv2d(start, conv.weight, conv.bias, padding=1)[0]
    k = int(pre.mean((1, 2)).argmin())  # the filter with the most negative mean: a ReLU would hide it
    res = maximize(trained_cnn, "features.0", unit=k, start=start, steps=5, seed=0)
    assert res.start_value == pytest.approx(pre[k].mean().item(), rel=1e-5)
    assert res.start_value < 0 and res.final_value > res.start_value


def test_a_list_of_units_is_one_independent_image_per_unit(trained_cnn):
    start = torch.rand(1, 1, 8, 8, generator=torch.Generator().manual_seed(2))
    kw = dict(start=start, steps=15, jitter=1, scale=0.1, rotate=10.0, l1=0.5, tv=0.1, seed=5)
    both = maximize(trained_cnn, "features.3", unit=[3, 9], **kw)
    assert both.image.shape == (2, 1, 8, 8) and len(both.final_value) == 2
    for i, u in enumerate((3, 9)):
        one = maximize(trained_cnn, "features.3", unit=u, **kw)
        torch.testing.assert_close(both.image[i : i + 1], one.image, rtol=1e-4, atol=1e-5)
        assert both.final_value[i] == pytest.approx(one.final_value, rel=1e-4)
