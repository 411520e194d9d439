"""Hook hygiene and state restoration: no hooks left, no growing memory, training/requires_grad restored."""

from __future__ import annotations

import gc
import warnings

import pytest
import torch
from torch import nn

from cnnlab.explain import (Deconvolution, GradCAM, GradCAMPlusPlus, GuidedBackprop, GuidedGradCAM, InputXGradient,
                            LayerGradientXActivation, Occlusion, Saliency, SmoothGrad, feature_maps, maximize)
from explain_toys import SmallCNN


def _methods(model):
    return {
        "saliency": lambda x: Saliency(model).attribute(x),
        "inputxgrad": lambda x: InputXGradient(model).attribute(x),
        "guided": lambda x: GuidedBackprop(model).attribute(x),
        "deconv": lambda x: Deconvolution(model).attribute(x),
        "smoothgrad": lambda x: SmoothGrad(Saliency(model), n_samples=2).attribute(x),
        "gradcam": lambda x: GradCAM(model).attribute(x),
        "gradcam++": lambda x: GradCAMPlusPlus(model, "features.3").attribute(x),
        "guided-gradcam": lambda x: GuidedGradCAM(model).attribute(x),
        "occlusion": lambda x: Occlusion(model).attribute(x, window=4, stride=4),
        "layer-gradxact": lambda x: LayerGradientXActivation(model, "features.3").attribute(x),
        "pixel-score": lambda x: GradCAM(model, "features.0").attribute(x, target=lambda out: out[:, 1] - out[:, 0]),
        "featuremaps": lambda x: feature_maps(model, "features.0", x),
        "maximize": lambda x: maximize(model, "features.3", unit=1, shape=(1, 8, 8), steps=2).image,
    }


def _hook_count(model):
    n = 0
    for m in model.modules():
        n += len(m._forward_hooks) + len(m._forward_pre_hooks) + len(m._backward_hooks)
        n += len(getattr(m, "_backward_pre_hooks", {}))
    return n + len(nn.modules.module._global_forward_hooks) + len(nn.modules.module._global_backward_hooks)


def _live_tensors():
    gc.collect()
    with warnings.catch_warnings():  # isinstance() on some torch module proxies warns
        warnings.simplefilter("ignore")
        return sum(1 for o in gc.get_objects() if isinstance(o, torch.Tensor))


def test_no_hooks_remain_and_memory_does_not_grow_after_100_explanations():
    model = SmallCNN()
    x = torch.rand(2, 1, 8, 8)
    methods = _methods(model)
    results = []
    for f in methods.values():  # warm-up: lazy caches (default layer lookup, autograd kernels)
        f(x)
    before = _live_tensors()
    for i in range(100):
        name = list(methods)[i % len(methods)]
        out = methods[name](x)
        assert out.grad_fn is None and not out.requires_grad, name
        results.append(out.sum().item())
    assert _hook_count(model) == 0
    del out
    assert _live_tensors() <= before


def test_hooks_are_removed_when_the_explanation_fails():
    model = SmallCNN()
    x = torch.rand(1, 1, 8, 8)
    for f in (lambda: GradCAM(model, "features.3").attribute(x, target=99),
              lambda: GuidedBackprop(model).attribute(x, target=99),
              lambda: maximize(model, "features.3", unit=99, shape=(1, 8, 8), steps=1)):
        with pytest.raises(ValueError):
            f()
        assert _hook_count(model) == 0


@pytest.mark.parametrize("name", list(_methods(SmallCNN())))
def test_training_mode_and_requires_grad_are_restored(name):
    model = SmallCNN()
    model.train()
    model.features[1].eval()  # a mixed state must come back exactly
    model.features[0].weight.requires_grad_(False)
    before_train = [m.training for m in model.modules()]
    before_grad = [p.requires_grad for p in model.parameters()]
    _methods(model)[name](torch.rand(2, 1, 8, 8))
    assert [m.training for m in model.modules()] == before_train
    assert [p.requires_grad for p in model.parameters()] == before_grad
    assert all(p.grad is None for p in model.parameters())


def test_state_is_restored_after_an_error():
    model = SmallCNN().train()
    with pytest.raises(ValueError):
        Saliency(model).attribute(torch.rand(1, 1, 8, 8), target=42)
    assert model.training and all(m.training for m in model.modules())
    assert all(p.requires_grad for p in model.parameters())


def test_input_is_not_modified():
    model = SmallCNN()
    x = torch.rand(2, 1, 8, 8)
    keep = x.clone()
    for f in _methods(model).values():
        f(x)
    assert torch.equal(x, keep) and not x.requires_grad and x.grad is None
