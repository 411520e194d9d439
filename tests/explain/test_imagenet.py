"""Slow checks on the offline ImageNet MobileNetV2: guided back-prop through its ReLU6 layers, and the
``"imagenet"`` activation-maximisation preset."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(scope="module")
def mobilenet():
    from cnnlab import zoo
    from cnnlab.errors import MissingDependencyError

    try:
        return zoo.load_pretrained("mobilenet_v2"), zoo.weight_spec("mobilenet_v2")
    except MissingDependencyError as exc:
        pytest.skip(str(exc))


@pytest.mark.slow
@pytest.mark.assets
def test_imagenet_preset_makes_a_picture_the_model_calls_that_class(mobilenet):
    from cnnlab.explain import maximize

    model, spec = mobilenet
    res = maximize(model, kind="class", unit=948, shape=(3, 224, 224), mean=spec.mean, std=spec.std,
                   preset="imagenet")  # Granny Smith, the preset as documented (40 steps)
    assert res.final_value > res.start_value + 10
    x = (res.image - torch.tensor(spec.mean).view(1, 3, 1, 1)) / torch.tensor(spec.std).view(1, 3, 1, 1)
    with torch.no_grad():
        assert int(model(x).argmax()) == 948


@pytest.mark.slow
@pytest.mark.assets
def test_guided_backprop_on_mobilenet_relu6_is_non_negative_at_every_clip(mobilenet):
    """MobileNetV2 uses nn.ReLU6(inplace=True) (F.hardtanh(x, 0, 6)): guided back-prop must differ from the
    plain gradient and be finite; deconvnet must too."""
    from cnnlab.explain import Deconvolution, GuidedBackprop, Saliency

    model, spec = mobilenet
    x = torch.randn(1, 3, 224, 224, generator=torch.Generator().manual_seed(0))
    g = GuidedBackprop(model).attribute(x, target=1)
    d = Deconvolution(model).attribute(x, target=1)
    s = Saliency(model).attribute(x, target=1, abs=False)
    assert torch.isfinite(g).all() and torch.isfinite(d).all()
    assert not torch.allclose(g, s) and not torch.allclose(g, d)
