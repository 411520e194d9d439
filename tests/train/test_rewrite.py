"""The training rewrite (activation after max-pool) changes no number, forward or backward."""

import copy

import pytest
import torch
from torch import nn

from cnnlab import zoo
from cnnlab.train import fit
from cnnlab.train.rewrite import for_training


def _grads(module, x, y):
    module.zero_grad(set_to_none=True)
    out = module(x)
    nn.functional.cross_entropy(out, y).backward()
    return out.detach(), {n: p.grad.clone() for n, p in module.named_parameters()}


class Nested(nn.Module):
    """A custom module holding Sequentials (as torchvision's VGG and cnnlab's LeNet-5 do)."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(2, 5, 3, padding=1), nn.ReLU6(), nn.MaxPool2d(3, 2, padding=1),
                                      nn.Sequential(nn.Conv2d(5, 6, 3), nn.Hardtanh(-0.5, 0.5),
                                                    nn.AdaptiveMaxPool2d(2)))
        self.head = nn.Linear(24, 3)

    def forward(self, x):
        return self.head(self.features(x).flatten(1))


@pytest.mark.parametrize("make, shape", [(lambda: zoo.create("lecture_cnn"), (1, 28, 28)),
                                         (lambda: zoo.create("lenet5"), (1, 28, 28)), (Nested, (2, 11, 13))])
def test_rewrite_is_bit_exact_forward_and_backward(make, shape):
    torch.manual_seed(0)
    model = make()
    before = repr(model)
    twin, applied = for_training(model)
    assert applied and twin is not model
    assert repr(model) == before  # the user's model is untouched
    x = torch.randn(16, *shape) * 3
    y = torch.randint(0, 3, (16,))
    out_a, grads_a = _grads(model, x, y)
    out_b, grads_b = _grads(twin, x, y)
    assert torch.equal(out_a, out_b)
    for name in grads_a:
        assert torch.equal(grads_a[name], grads_b[name]), name
    # parameters are shared, not copied
    assert all(a is b for a, b in zip(model.parameters(), twin.parameters()))


def test_rewrite_order_and_names():
    model = Nested()
    twin, applied = for_training(model)
    assert applied == ["features.3.1+2: Hardtanh after AdaptiveMaxPool2d", "features.1+2: ReLU6 after MaxPool2d"]
    assert [type(m).__name__ for m in twin.features] == ["Conv2d", "MaxPool2d", "ReLU6", "Sequential"]
    assert [type(m).__name__ for m in twin.features[3]] == ["Conv2d", "AdaptiveMaxPool2d", "Hardtanh"]
    assert list(twin.state_dict()) == list(model.state_dict())


def test_rewrite_leaves_what_it_cannot_prove():
    cases = [nn.Sequential(nn.Conv2d(1, 2, 3), nn.Sigmoid(), nn.MaxPool2d(2)),  # rounding ties
             nn.Sequential(nn.Conv2d(1, 2, 3), nn.LeakyReLU(), nn.MaxPool2d(2)),
             nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.AvgPool2d(2)),  # avg-pool does not commute
             nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.MaxPool2d(2, return_indices=True))]
    hooked = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.MaxPool2d(2))
    hooked[1].register_forward_hook(lambda *a: None)  # a hook expects the unpooled map
    container = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.MaxPool2d(2))
    container.register_forward_pre_hook(lambda *a: None)
    for model in cases + [hooked, container]:
        twin, applied = for_training(model)
        assert twin is model and applied == []


def test_fit_with_rewrite_ends_with_the_weights_of_fit_without(tmp_path, monkeypatch):
    import json

    from cnnlab import data
    from cnnlab.train import loop

    g = torch.Generator().manual_seed(0)
    x = torch.rand(96, 1, 28, 28, generator=g)
    y = torch.randint(0, 10, (96,), generator=g)
    ds = data.from_tensors(x, y, x[:32], y[:32], name="toy")
    torch.manual_seed(0)
    a = zoo.create("lecture_cnn")
    b = copy.deepcopy(a)
    options = dict(epochs=2, batch_size=32, precision="fp32", layout="nchw", seed=0, deterministic=True,
                   progress=False)
    fit(a, ds, out=tmp_path / "run", **options)
    monkeypatch.setattr(loop, "for_training", lambda model: (model, []))
    fit(b, ds, **options)
    for (name, pa), pb in zip(a.state_dict().items(), b.state_dict().values()):
        assert torch.equal(pa, pb), name
    resolved = json.loads((tmp_path / "run" / "config.json").read_text())["resolved"]
    assert resolved["rewrites"] == ["conv2d_relu+max_pooling2d: ReLU after MaxPool2d",
                                    "conv2d_1_relu+max_pooling2d_1: ReLU after MaxPool2d"]
    assert resolved["probe_seconds"] >= 0 and isinstance(resolved["allocator"], str) and resolved["allocator"]
