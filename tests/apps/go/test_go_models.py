"""Policy CNNs: 82 logits, illegal moves masked, pooling variant, in-model symmetry augmentation, zoo entries."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from cnnlab import zoo
from cnnlab.apps.go.board import Board
from cnnlab.apps.go.features import NUM_PLANES, planes
from cnnlab.apps.go.models import MASKED, GoPolicy, SymmetryAugment
from cnnlab.errors import ConfigError


def _position(seed=0, moves=30):
    import random

    rng = random.Random(seed)
    b = Board(9)
    for _ in range(moves):
        b.play(rng.choice([p for p in range(81) if b.is_legal(p)]))
    return b


@pytest.mark.parametrize("name", ["go_policy", "go_policy_pool"])
def test_outputs_82_moves_with_illegal_ones_masked(name):
    model = zoo.create(name, filters=8, layers=3).eval()
    boards = [_position(s) for s in range(3)]
    x = torch.from_numpy(np.stack([planes(b) for b in boards]))
    with torch.no_grad():
        logits = model(x)
    assert logits.shape == (3, 82)
    probs = torch.softmax(logits, 1)
    for b, p in zip(boards, probs):
        legal = torch.tensor(b.legal_points() + [True])
        assert (logits[boards.index(b)][~legal] == MASKED).all()
        assert float(p[~legal].sum()) == 0.0 and abs(float(p[legal].sum()) - 1) < 1e-6


def test_architecture_first_5x5_then_3x3_no_pooling_and_pool_variant():
    plain = zoo.create("go_policy", filters=16, layers=4)
    convs = [m for m in plain.features if isinstance(m, nn.Conv2d)]
    assert [c.kernel_size for c in convs] == [(5, 5), (3, 3), (3, 3), (3, 3)]
    assert not any(isinstance(m, nn.MaxPool2d) for m in plain.modules()) and plain.upsample is None
    assert plain.head.kernel_size == (1, 1) and plain.head.out_channels == 1
    pooled = zoo.create("go_policy_pool", filters=16, layers=4)
    assert sum(isinstance(m, nn.MaxPool2d) for m in pooled.modules()) == 1
    # same parameters: pooling and bilinear upsampling add none
    assert sum(p.numel() for p in pooled.parameters()) == sum(p.numel() for p in plain.parameters())
    h = pooled.features(torch.zeros(1, NUM_PLANES, 9, 9))
    assert h.shape[-2:] == (5, 5)  # 9 -> 5 with ceil mode
    with pytest.raises(ConfigError, match=r"`pool_after` names conv layers 1..4; got \[7\]"):
        GoPolicy(layers=4, pool_after=(7,))
    assert "go_policy" in zoo.names() and zoo.info("go_policy")["input_shape"] == [NUM_PLANES, 9, 9]


def test_symmetry_augmentation_maps_logits_back():
    """A model that scores each point by its 'own stone' plane is symmetry-equivariant: with the in-model
    augmentation its training-mode output must equal the plain output, whatever symmetry was drawn."""

    class OwnStones(nn.Module):
        def __init__(self):
            super().__init__()
            self.augment = SymmetryAugment(9)

        def forward(self, x):
            k = self.augment.draw(x.shape[0], x.device)
            xt = self.augment.planes(x.float(), k)
            logits = torch.cat([xt[:, 0].reshape(len(x), -1) * 3.0 + xt[:, 3].reshape(len(x), -1), torch.zeros(len(x), 1)], 1)
            return self.augment.logits_back(logits, k), k

    x = torch.from_numpy(np.stack([planes(_position(s, 25)) for s in range(16)]))
    plain = torch.cat([x[:, 0].float().reshape(16, -1) * 3.0 + x[:, 3].float().reshape(16, -1), torch.zeros(16, 1)], 1)
    out, k = OwnStones()(x)
    assert len(set(k.tolist())) > 2  # several symmetries drawn in one batch
    torch.testing.assert_close(out, plain)


def test_augment_only_in_training_mode():
    model = zoo.create("go_policy", filters=8, layers=2)
    x = torch.from_numpy(np.stack([planes(_position(s)) for s in range(4)]))
    model.eval()
    with torch.no_grad():
        a, b = model(x), model(x)
    torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_symmetry_ensemble_of_an_equivariant_model_equals_the_model():
    """Averaging over the 8 symmetries changes nothing for a model that is already symmetric."""
    from cnnlab.apps.go.train import predict_logits

    class OwnStones(nn.Module):
        def forward(self, x):
            n = len(x)
            return torch.cat([x[:, 0].float().reshape(n, -1) * 2.0 + x[:, 4].float().reshape(n, -1),
                              torch.ones(n, 1)], 1)

    x = np.stack([planes(_position(s, 20)) for s in range(5)])
    plain = torch.log_softmax(OwnStones()(torch.from_numpy(x)), 1)
    torch.testing.assert_close(predict_logits(OwnStones(), x, symmetries=8), plain, atol=1e-5, rtol=1e-5)
    with pytest.raises(ConfigError, match="`symmetries` must be 1 or 8; got 4"):
        predict_logits(OwnStones(), x, symmetries=4)
