"""cnnlab's Adadelta against torch.optim.Adadelta in float64: the lazy row update is the dense update."""

import copy

import pytest
import torch
import torch.nn as nn

from cnnlab.train.optim import Adadelta


class Bag(nn.Module):
    """An embedding table big enough for the lazy path, a conv and a classifier."""

    def __init__(self, rows=3000, dim=6):
        super().__init__()
        self.embedding = nn.Embedding(rows, dim, padding_idx=0)
        self.conv = nn.Conv1d(dim, 5, 3)
        self.fc = nn.Linear(5, 2)

    def forward(self, ids):
        x = self.embedding(ids).transpose(1, 2)
        return self.fc(torch.relu(self.conv(x)).amax(dim=2))


def _pair(seed=0):
    torch.manual_seed(seed)
    a = Bag().double()
    b = Bag().double()
    b.load_state_dict(a.state_dict())
    return a, b


def _batches(n, rows=3000, seed=1):
    gen = torch.Generator().manual_seed(seed)
    out = []
    for i in range(n):
        # words from a small window of the table that moves: rows are skipped for several steps, then return
        lo = (i * 97) % (rows - 200)
        ids = torch.randint(lo, lo + 200, (8, 12), generator=gen)
        ids[:, :2] = 0  # padding
        out.append((ids, torch.randint(0, 2, (8,), generator=gen)))
    return out


def _step(model, opt, ids, y):
    opt.zero_grad(set_to_none=True)
    nn.functional.cross_entropy(model(ids), y).backward()
    opt.step()


@pytest.mark.parametrize("lr,rho,wd", [(1.0, 0.95, 0.0), (0.5, 0.9, 0.0), (1.0, 0.95, 1e-3)])
def test_matches_torch_adadelta_float64(lr, rho, wd):
    ours, ref = _pair()
    opt = Adadelta(ours.parameters(), lr=lr, rho=rho, eps=1e-6, weight_decay=wd)
    opt_ref = torch.optim.Adadelta(ref.parameters(), lr=lr, rho=rho, eps=1e-6, weight_decay=wd)
    for ids, y in _batches(40):
        _step(ours, opt, ids, y)
        _step(ref, opt_ref, ids, y)
    moved = (ours.embedding.weight != Bag().double().embedding.weight).any(dim=1).sum()
    assert moved > 1000  # the batches really did touch many rows over time
    for (name, p), q in zip(ours.named_parameters(), ref.parameters()):
        torch.testing.assert_close(p, q, rtol=1e-12, atol=1e-14, msg=name)
    st, st_ref = opt.state[ours.embedding.weight], opt_ref.state[ref.embedding.weight]
    if not wd:  # the lazy state is behind for skipped rows; brought up to date it equals torch's
        assert int(st["row_step"].min()) < 40
        k = (40 - st["row_step"]).double().unsqueeze(1)
        torch.testing.assert_close(st["square_avg"] * rho ** k, st_ref["square_avg"], rtol=1e-12, atol=1e-20)
        torch.testing.assert_close(st["acc_delta"] * rho ** k, st_ref["acc_delta"], rtol=1e-12, atol=1e-20)
    assert torch.all(ours.embedding.weight[0] == ref.embedding.weight[0])


def test_checkpoint_round_trip_and_torch_state():
    """A state saved mid-run resumes exactly, also one saved by torch.optim.Adadelta (no ``row_step``)."""
    batches = _batches(30)
    ours, ref = _pair()
    opt_ref = torch.optim.Adadelta(ref.parameters(), lr=1.0, rho=0.95, eps=1e-6)
    first = Adadelta(ours.parameters(), lr=1.0, rho=0.95, eps=1e-6)
    for ids, y in batches[:15]:
        _step(ours, first, ids, y)
        _step(ref, opt_ref, ids, y)
    resumed = Adadelta(ours.parameters(), lr=1.0, rho=0.95, eps=1e-6)
    resumed.load_state_dict(copy.deepcopy(first.state_dict()))  # as from a file: no tensor shared
    from_torch, twin = _pair()
    twin.load_state_dict(ref.state_dict())
    from_torch.load_state_dict(ref.state_dict())
    opt_from_torch = Adadelta(twin.parameters(), lr=1.0, rho=0.95, eps=1e-6)
    opt_from_torch.load_state_dict(copy.deepcopy(opt_ref.state_dict()))
    for ids, y in batches[15:]:
        _step(ours, resumed, ids, y)
        _step(twin, opt_from_torch, ids, y)
        _step(ref, opt_ref, ids, y)
    for p, q, r in zip(ours.parameters(), twin.parameters(), ref.parameters()):
        torch.testing.assert_close(p, r, rtol=1e-12, atol=1e-14)
        torch.testing.assert_close(q, r, rtol=1e-12, atol=1e-14)


def test_sparse_gradients_are_refused_in_one_line():
    emb = nn.Embedding(2000, 4, sparse=True)
    opt = Adadelta(emb.parameters())
    emb(torch.tensor([[1, 2]])).sum().backward()
    with pytest.raises(RuntimeError, match="sparse gradients"):
        opt.step()


def test_fit_uses_it_for_adadelta():
    from cnnlab.train.config import FitConfig
    from cnnlab.train.optim import make_optimizer

    opt = make_optimizer(nn.Linear(2, 2).parameters(), FitConfig(optimizer="adadelta"))
    assert isinstance(opt, Adadelta) and opt.param_groups[0]["rho"] == 0.95
