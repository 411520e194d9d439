"""The NumPy Sequential against the same torch network, SGD against torch.optim.SGD, the trainer."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scratch_helpers import BACKWARD_TOL, FORWARD_TOL, assert_close
from torch import nn

from cnnlab.errors import ShapeError, UnknownNameError
from cnnlab.scratch import models, train
from cnnlab.scratch import model as sm


def _torch_twin(net: sm.Sequential) -> nn.Sequential:
    """The torch network with the same layers and weights (float64)."""
    mods = []
    for layer in net.layers:
        if isinstance(layer, sm.Conv2d):
            mods.append(nn.Conv2d(layer.in_channels, layer.out_channels, layer.kernel_size, layer.stride,
                                  layer.padding, layer.dilation, layer.groups, "bias" in layer.params))
        elif isinstance(layer, sm.Linear):
            mods.append(nn.Linear(layer.in_features, layer.out_features))
        elif isinstance(layer, sm.BatchNorm):
            mods.append(nn.BatchNorm2d(layer.num_features))
        else:
            mods.append({sm.ReLU: nn.ReLU, sm.MaxPool2d: lambda: nn.MaxPool2d(2), sm.Tanh: nn.Tanh,
                         sm.Flatten: nn.Flatten, sm.AvgPool2d: lambda: nn.AvgPool2d(2)}[type(layer)]())
    twin = nn.Sequential(*mods).double()
    with torch.no_grad():
        for name, value in net.state_dict().items():
            twin.state_dict()[name].copy_(torch.tensor(value))
    return twin


def _small_net(seed=0):
    return sm.Sequential(sm.Conv2d(2, 4, (3, 2), padding=1, rng=seed), sm.BatchNorm(4), sm.ReLU(),
                         sm.MaxPool2d(2), sm.Conv2d(4, 6, 3, stride=2, groups=2, rng=seed + 1), sm.Tanh(),
                         sm.Flatten(), sm.Linear(6 * 1 * 2, 5, rng=seed + 2))


def test_sequential_matches_torch_forward_and_all_gradients():
    net = _small_net()
    twin = _torch_twin(net).train()
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 2, 9, 10))
    labels = rng.integers(0, 5, size=3)
    logits = net.forward(x, training=True)
    loss, cache = train.softmax_cross_entropy(logits, labels)
    dx = net.backward(train.softmax_cross_entropy_backward(1.0, cache))
    xt = torch.tensor(x, requires_grad=True)
    ref_logits = twin(xt)
    ref_loss = nn.functional.cross_entropy(ref_logits, torch.tensor(labels))
    ref_loss.backward()
    assert_close(logits, ref_logits.detach().numpy(), FORWARD_TOL, "logits")
    assert abs(loss - ref_loss.item()) < 1e-12
    assert_close(dx, xt.grad.numpy(), BACKWARD_TOL, "dx")
    for name, param in twin.named_parameters():
        index, key = name.split(".")
        # (the bias of a conv followed by batch norm has a zero gradient: compare it absolutely)
        assert_close(net.layers[int(index)].grads[key], param.grad.numpy(), BACKWARD_TOL, name,
                     atol=1e-14)
    for name, buffer in twin.named_buffers():
        if name.endswith(("running_mean", "running_var")):
            assert_close(net.state_dict()[name], buffer.numpy(), FORWARD_TOL, name)


@pytest.mark.parametrize("nesterov, weight_decay", [(False, 0.0), (True, 0.01)])
def test_sgd_momentum_matches_torch(nesterov, weight_decay):
    net = sm.Sequential(sm.Linear(4, 3, rng=0), sm.ReLU(), sm.Linear(3, 2, rng=1))
    twin = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2)).double()
    with torch.no_grad():
        for name, value in net.state_dict().items():
            twin.state_dict()[name].copy_(torch.tensor(value))
    opt = train.SGD(net, lr=0.1, momentum=0.9, weight_decay=weight_decay, nesterov=nesterov)
    topt = torch.optim.SGD(twin.parameters(), lr=0.1, momentum=0.9, weight_decay=weight_decay,
                           nesterov=nesterov)
    rng = np.random.default_rng(1)
    for _ in range(3):
        x, y = rng.standard_normal((5, 4)), rng.integers(0, 2, size=5)
        train.train_step(net, opt, x, y)
        topt.zero_grad()
        nn.functional.cross_entropy(twin(torch.tensor(x)), torch.tensor(y)).backward()
        topt.step()
    for name, param in twin.named_parameters():
        assert_close(net.state_dict()[name], param.detach().numpy(), 1e-12, name)


def test_fit_learns_a_separable_problem_and_logs_like_the_torch_trainer():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((256, 1, 6, 6))
    y = (x[:, 0, :, :3].sum(axis=(1, 2)) > x[:, 0, :, 3:].sum(axis=(1, 2))).astype(np.int64)
    net = sm.Sequential(sm.Conv2d(1, 4, 3, rng=0), sm.ReLU(), sm.Flatten(), sm.Linear(64, 2, rng=1))
    lines = []
    history = train.fit(net, x, y, epochs=10, batch_size=32, lr=0.05, validation=(x, y), log=lines.append)
    assert history[-1]["loss"] < history[0]["loss"]
    assert history[-1]["val_accuracy"] >= 0.95
    assert lines[0].startswith("epoch 1/10  loss ") and "val_acc " in lines[0] and lines[0].endswith("s")


def test_fit_raises_on_divergence_and_bad_input():
    net = sm.Sequential(sm.Flatten(), sm.Linear(4, 2, rng=0))
    x = np.full((8, 1, 2, 2), 1e300)
    with np.errstate(all="ignore"), pytest.raises(train.TrainingError, match="the loss became nan at epoch 2"):
        train.fit(net, x, np.arange(8) % 2, epochs=3, lr=1e10, log=None)
    with pytest.raises(ShapeError, match="`x` has 8 samples but `y` has 3"):
        train.fit(net, x, np.zeros(3, np.int64), log=None)


def test_models_have_the_golden_parameter_counts_and_shapes():
    lecture = models.create("lecture_cnn")
    assert lecture.num_params() == 93322
    shapes_ = [s for _, s, _ in lecture.summary((1, 28, 28))]
    assert [(32, 26, 26), (32, 13, 13), (64, 11, 11), (64, 5, 5), (64, 3, 3)] == \
        [shapes_[i] for i in (0, 2, 3, 5, 6)]
    assert models.create("lenet5").num_params() == 61706
    with pytest.raises(UnknownNameError, match="unknown scratch model 'alexnet'; known: lecture_cnn"):
        models.create("alexnet")


def test_backward_before_forward_is_an_error_and_first_layer_can_skip_dx():
    with pytest.raises(RuntimeError, match="backward\\(\\) called before forward\\(\\)"):
        sm.ReLU().backward(np.ones(3))
    net = sm.Sequential(sm.Conv2d(1, 2, 3, rng=0), sm.Flatten())
    net.forward(np.ones((1, 1, 4, 4)))
    assert net.backward(np.ones((1, 8)), input_grad=False) is None
    assert net.layers[0].grads["weight"].shape == (2, 1, 3, 3)


def test_shape_errors_name_the_layer():
    net = sm.Sequential(sm.Conv2d(1, 2, 3, rng=0), sm.Flatten(), sm.Linear(10, 2, rng=0))
    with pytest.raises(ShapeError, match=r"`x` has 8 features but `w` expects 10 .* at layer 2 \(Linear\)"):
        net.forward(np.zeros((1, 1, 4, 4)))
    with pytest.raises(ShapeError, match=r"channel mismatch: the input has 3 channels.* at layer 0 \(Conv2d\)"):
        net.forward(np.zeros((1, 3, 4, 4)))
