"""Saliency family against closed forms: vanilla gradient, gradient × input, guided back-prop, deconvnet."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from cnnlab.errors import ConfigError, ShapeError
from cnnlab.explain import Deconvolution, GuidedBackprop, InputXGradient, Saliency, SmoothGrad
from explain_toys import MLP, SmallCNN

ACTS = ["module", "module_inplace", "functional", "functional_inplace_ignored", "torch_relu_", "tensor_relu"]


def _mlp(act="module"):
    torch.manual_seed(1)
    return MLP(12, 7, 4, act=act).double()


def _closed_form(model, x, c, rule):
    """Back-propagate by hand through W2, the rectifier, W1 (one sample)."""
    W1, b1, W2 = model.fc1.weight, model.fc1.bias, model.fc2.weight
    z = W1 @ x.reshape(-1) + b1
    g = W2[c].clone()  # dy_c/dh
    if rule is None:
        g = g * (z > 0)
    elif rule == "guided":
        g = g.clamp(min=0) * (z > 0)
    else:  # deconv
        g = g.clamp(min=0)
    return (W1.T @ g).reshape(x.shape)


@pytest.mark.parametrize("act", ACTS)
def test_saliency_equals_analytic_input_gradient(act):
    model = _mlp(act)
    x = torch.randn(3, 1, 3, 4, dtype=torch.float64)
    target = [0, 2, 3]
    signed = Saliency(model).attribute(x, target=target, abs=False)
    for i, c in enumerate(target):
        expected = _closed_form(model, x[i], c, None)
        torch.testing.assert_close(signed[i], expected, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(Saliency(model).attribute(x, target=target), signed.abs())
    torch.testing.assert_close(InputXGradient(model).attribute(x, target=target), x * signed)


def test_saliency_matches_centred_differences_on_a_cnn():
    torch.manual_seed(0)
    model = SmallCNN().double().eval()
    x = torch.rand(1, 1, 8, 8, dtype=torch.float64)
    grad = Saliency(model).attribute(x, target=5, abs=False)
    eps = 1e-6
    for idx in [(0, 0, 2, 3), (0, 0, 5, 5), (0, 0, 7, 0)]:
        xp, xm = x.clone(), x.clone()
        xp[idx] += eps
        xm[idx] -= eps
        with torch.no_grad():
            fd = (model(xp)[0, 5] - model(xm)[0, 5]) / (2 * eps)
        assert abs(fd.item() - grad[idx].item()) <= 1e-6 * max(1.0, abs(fd.item()))


def test_target_none_is_the_predicted_class():
    model = _mlp()
    x = torch.randn(4, 1, 3, 4, dtype=torch.float64)
    pred = model(x).argmax(1)
    torch.testing.assert_close(Saliency(model).attribute(x), Saliency(model).attribute(x, target=pred.tolist()))


@pytest.mark.parametrize("act", ACTS)
@pytest.mark.parametrize("cls,rule", [(GuidedBackprop, "guided"), (Deconvolution, "deconv")])
def test_guided_and_deconv_closed_form_for_every_relu_spelling(act, cls, rule):
    model = _mlp(act)
    x = torch.randn(2, 1, 3, 4, dtype=torch.float64)
    out = cls(model).attribute(x, target=[1, 3])
    for i, c in enumerate([1, 3]):
        torch.testing.assert_close(out[i], _closed_form(model, x[i], c, rule), rtol=1e-12, atol=1e-12)
    # and the rule really differs from the vanilla gradient on this net
    assert not torch.allclose(out, Saliency(model).attribute(x, target=[1, 3], abs=False))


class _Probe(torch.autograd.Function):
    """Identity whose backward records the gradient it receives."""

    @staticmethod
    def forward(ctx, x, store):
        ctx.store = store
        ctx.save_for_backward(x)
        return x.clone()

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        ctx.store.append((x.detach(), g.detach()))
        return g, None


class ProbedCNN(nn.Module):
    """Probes just below every rectifier: they see the gradient each ReLU passes down."""

    def __init__(self, store):
        super().__init__()
        self.store = store
        self.c1, self.c2 = nn.Conv2d(1, 6, 3, padding=1), nn.Conv2d(6, 8, 3, padding=1)
        self.fc1, self.fc2 = nn.Linear(8 * 4 * 4, 16), nn.Linear(16, 5)

    def forward(self, x):
        h = nn.functional.relu(_Probe.apply(self.c1(x), self.store), inplace=True)
        h = F.max_pool2d(h, 2)
        h = torch.relu(_Probe.apply(self.c2(h), self.store))
        h = F.relu6(_Probe.apply(self.fc1(h.flatten(1)), self.store))
        return self.fc2(h)


def test_guided_backprop_zeroes_negative_gradients_at_every_relu():
    store: list = []
    torch.manual_seed(3)
    model = ProbedCNN(store).double()
    x = torch.randn(2, 1, 8, 8, dtype=torch.float64)
    GuidedBackprop(model).attribute(x, target=2)
    assert len(store) == 3
    for z, g in store:
        assert (g >= 0).all()
        assert (g[z <= 0] == 0).all()
        assert (g > 0).any()
    store.clear()
    Deconvolution(model).attribute(x, target=2)
    assert all((g >= 0).all() for _, g in store)
    assert any((g[z <= 0] > 0).any() for z, g in store)  # deconv ignores the forward mask
    store.clear()
    Saliency(model).attribute(x, target=2, abs=False)
    assert any((g < 0).any() for _, g in store)  # the vanilla gradient does have negative parts


def test_relu6_and_hardtanh_clip_use_the_active_band():
    class Net(nn.Module):
        def __init__(self, spelling):
            super().__init__()
            self.fc1, self.fc2 = nn.Linear(6, 5), nn.Linear(5, 3)
            self.act = {"relu6": nn.ReLU6(inplace=True), "hardtanh": nn.Hardtanh(0.0, 6.0)}[spelling]

        def forward(self, x):
            return self.fc2(self.act(self.fc1(x.flatten(1))))

    torch.manual_seed(0)
    a, b = Net("relu6").double(), Net("hardtanh").double()
    b.load_state_dict(a.state_dict())
    with torch.no_grad():
        a.fc1.weight.mul_(8)
        b.fc1.weight.mul_(8)
    x = torch.randn(4, 1, 2, 3, dtype=torch.float64)
    ga = GuidedBackprop(a).attribute(x, target=0)
    gb = GuidedBackprop(b).attribute(x, target=0)
    torch.testing.assert_close(ga, gb)
    z = x.flatten(1) @ a.fc1.weight.T + a.fc1.bias
    band = (z > 0) & (z < 6)
    assert (~band).any() and band.any()
    expected = (a.fc2.weight[0].clamp(min=0) * band) @ a.fc1.weight
    torch.testing.assert_close(ga.flatten(1), expected)


def test_smoothgrad_noise_free_equals_method_and_is_seeded():
    model = _mlp()
    x = torch.randn(2, 1, 3, 4, dtype=torch.float64)
    sal = Saliency(model)
    torch.testing.assert_close(SmoothGrad(sal, n_samples=3, stdev=0.0).attribute(x, target=1), sal.attribute(x, target=1))
    a = SmoothGrad(sal, n_samples=5, stdev=0.2, seed=7).attribute(x, target=1)
    b = SmoothGrad(sal, n_samples=5, stdev=0.2, seed=7).attribute(x, target=1)
    c = SmoothGrad(sal, n_samples=5, stdev=0.2, seed=8).attribute(x, target=1)
    torch.testing.assert_close(a, b)
    assert not torch.allclose(a, c)
    # the average of many noisy gradients of a piecewise-linear net is near its mean gradient, not exact
    assert not torch.allclose(a, sal.attribute(x, target=1))


def test_errors_are_one_line_and_name_the_argument():
    model = _mlp()
    x = torch.randn(2, 1, 3, 4, dtype=torch.float64)
    with pytest.raises(ConfigError, match=r"`target` must be in \[0, 3\]"):
        Saliency(model).attribute(x, target=9)
    with pytest.raises(ShapeError, match=r"`target` must give one class per input \(N=2\); got 3"):
        Saliency(model).attribute(x, target=[0, 1, 2])
    with pytest.raises(ShapeError, match=r"`x` must be a batch with at least 2 dims \(N first\); got shape \(4,\)"):
        Saliency(model).attribute(x[0, 0, 0])  # any rank ≥ 2 is a batch for input methods (N×C×L, N×D too)
    with pytest.raises(TypeError, match=r"`x` must be a floating-point tensor for an input attribution; got torch.int64"):
        Saliency(model).attribute(x.long())
    with pytest.raises(TypeError, match=r"`x` must be a torch.Tensor"):
        Saliency(model).attribute(x.numpy())
    with pytest.raises(ConfigError, match=r"`n_samples` must be ≥ 1; got 0"):
        SmoothGrad(Saliency(model), n_samples=0)
    with pytest.raises(TypeError, match=r"`method` must be an attribution object"):
        SmoothGrad(model)


def test_smoothgrad_follows_the_clean_prediction_and_wraps_any_method():
    model = _mlp()
    x = torch.randn(3, 1, 3, 4, dtype=torch.float64)
    pred = model(x).argmax(1).tolist()
    for method in (Saliency(model), GuidedBackprop(model), InputXGradient(model)):
        sg = SmoothGrad(method, n_samples=4, stdev=0.3, seed=1)
        torch.testing.assert_close(sg.attribute(x), sg.attribute(x, target=pred))
    # with a single noisy sample the result is the method at that noisy input
    gen = torch.Generator().manual_seed(2)
    span = (x.amax(dim=(1, 2, 3), keepdim=True) - x.amin(dim=(1, 2, 3), keepdim=True))
    noisy = x + torch.randn(x.shape, generator=gen, dtype=x.dtype) * (0.3 * span)
    one = SmoothGrad(GuidedBackprop(model), n_samples=1, stdev=0.3, seed=2).attribute(x, target=pred)
    torch.testing.assert_close(one, GuidedBackprop(model).attribute(noisy, target=pred))
