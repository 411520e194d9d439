"""Fixtures for the explain tests: sklearn digits and a tiny CNN trained on them for a few seconds."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from explain_toys import SmallCNN


@pytest.fixture(scope="session")
def digits():
    from sklearn.datasets import load_digits

    d = load_digits()
    x = torch.tensor(d.images, dtype=torch.float32).unsqueeze(1) / 16.0  # (N, 1, 8, 8) in [0, 1]
    y = torch.tensor(d.target, dtype=torch.long)
    return x, y


@pytest.fixture(scope="session")
def trained_cnn(digits):
    """A SmallCNN trained for a few seconds on sklearn digits (~95% train accuracy)."""
    x, y = digits
    g = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    model = SmallCNN()
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    for _ in range(8):
        perm = torch.randperm(len(x), generator=g)
        for i in range(0, len(x), 128):
            idx = perm[i : i + 128]
            opt.zero_grad()
            F.cross_entropy(model(x[idx]), y[idx]).backward()
            opt.step()
    model.eval()
    with torch.no_grad():
        acc = (model(x).argmax(1) == y).float().mean().item()
    assert acc > 0.9, acc
    return model
