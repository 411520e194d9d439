"""Models with integer inputs (token ids) are explained at a layer's output: Embedding → Conv1d → max-pool → Linear."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from cnnlab.explain import GradCAM, LayerGradientXActivation, Saliency, registry

ZERO_WORDS = (0, 7)  # words whose embedding is the zero vector


class ChannelsFirst(nn.Module):
    def forward(self, x):
        return x.permute(0, 2, 1)  # (N, L, E) -> (N, E, L)


def _text_cnn():
    torch.manual_seed(3)
    net = nn.Sequential(nn.Embedding(10, 4), ChannelsFirst(), nn.Conv1d(4, 3, 3, padding=1), nn.AdaptiveMaxPool1d(1),
                        nn.Flatten(), nn.Linear(3, 2)).double()
    with torch.no_grad():
        net[0].weight[list(ZERO_WORDS)] = 0.0
    return net


def _ids():
    return torch.tensor([[1, 0, 2, 3, 7, 4], [5, 6, 7, 8, 9, 0]], dtype=torch.int64)


def _hand_gradient(net, ids, c):
    """∂logit_c/∂E by hand: the max-pool passes each filter's gradient W[c, k] to its argmax position l*,
    and that position reads the embeddings at l* − 1, l*, l* + 1 through the kernel w[k, :, u]."""
    E = net[0].weight[ids]  # (N, L, E)
    h = torch.nn.functional.conv1d(E.permute(0, 2, 1), net[2].weight, net[2].bias, padding=1)  # (N, K, L)
    N, L = ids.shape
    grad = torch.zeros_like(E)
    for n in range(N):
        for k in range(h.shape[1]):
            top = int(h[n, k].argmax())
            for u in range(3):
                pos = top + u - 1
                if 0 <= pos < L:
                    grad[n, pos] += net[5].weight[c, k] * net[2].weight[k, :, u]
    return E, grad, h


@pytest.mark.parametrize("c", [0, 1])
def test_per_token_gradient_x_activation_at_the_embedding_equals_the_hand_computation(c):
    net, ids = _text_cnn(), _ids()
    E, grad, _ = _hand_gradient(net, ids, c)
    attr = LayerGradientXActivation(net, "0").attribute(ids, target=c)
    assert attr.shape == (2, 6, 4) and attr.grad_fn is None
    torch.testing.assert_close(attr, E * grad, rtol=1e-12, atol=1e-14)
    per_token = attr.sum(-1)  # (N, L)
    torch.testing.assert_close(per_token, (E * grad).sum(-1), rtol=1e-12, atol=1e-14)
    zero = (ids == ZERO_WORDS[0]) | (ids == ZERO_WORDS[1])
    assert (per_token[zero] == 0).all() and (per_token[~zero] != 0).sum() >= 4
    assert ids.dtype == torch.int64  # the caller's ids are untouched


def test_predicted_class_and_registry_dispatch_on_token_ids():
    net, ids = _text_cnn(), _ids()
    pred = net(ids).argmax(1)
    E, _, _ = _hand_gradient(net, ids, 0)
    rows = [(E[n] * _hand_gradient(net, ids, int(pred[n]))[1][n]) for n in range(2)]
    res = registry.attribute("layer-gradxact", net, ids, layer="0")
    torch.testing.assert_close(res.value, torch.stack(rows), rtol=1e-12, atol=1e-14)
    assert res.layer is net[0]


def test_gradcam_on_token_ids_at_the_conv1d():
    """At the Conv1d output h (N, K, L): ∂logit_c/∂h[k, l] = W[c, k] at the max position, so α_k = W[c, k] / L."""
    net, ids = _text_cnn(), _ids()
    _, _, h = _hand_gradient(net, ids, 1)
    alpha = net[5].weight[1].view(1, 3, 1) / ids.shape[1]
    expected = (alpha * h).sum(1, keepdim=True).clamp(min=0)  # (N, 1, L): same length as the ids, no resampling
    cam = GradCAM(net, "2").attribute(ids, target=1)
    torch.testing.assert_close(cam, expected, rtol=1e-12, atol=1e-14)
    assert GradCAM(net).attribute(ids, target=1).shape == (2, 1, 6)  # default layer: the last (1-D) conv


def test_input_methods_refuse_integer_inputs_with_a_hint():
    with pytest.raises(TypeError, match=r"must be a floating-point tensor for an input attribution; got torch.int64 "
                                        r"\(explain integer inputs such as token ids at a layer: gradcam, layer-gradxact\)"):
        Saliency(_text_cnn()).attribute(_ids())
