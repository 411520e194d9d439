"""``profile=True``: per-row forward/backward medians and the achieved rate against a matmul peak.

Timings themselves are not asserted (they live in benchmarks/); the tests check what is measured,
where, and that the derived columns follow from it.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn

from analysis_nets import lecture_cnn
from cnnlab.analysis import matmul_peak_gflops, summary
from cnnlab.analysis.profile import median_ms, time_call


@pytest.fixture(scope="module")
def profiled():
    model = lecture_cnn()
    model[1] = nn.ReLU(inplace=True)  # in-place modules replay on fresh copies of their input
    return summary(model, (1, 28, 28), profile=True, repeats=2)


def test_every_row_is_timed_forward_and_backward(profiled):
    s = profiled
    assert s.profiled and s.peak_gflops > 0 and s.forward_ms > 0 and s.backward_ms > 0
    for r in s.layers:
        assert r.forward_ms > 0 and r.backward_ms > 0, r.name
        assert r.gflops_per_s == pytest.approx(r.flops / (r.forward_ms * 1e6))
    text = str(s)
    assert "Fwd ms" in text and "% peak" in text and "matmul peak" in text
    assert profiled.to_dict(extended=True)["peak_gflops"] == s.peak_gflops


def test_containers_get_no_time_of_their_own():
    model = nn.Sequential(nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU()), nn.Flatten())
    full = summary(model, (1, 8, 8), profile=True, repeats=1)
    assert full.layer("0").forward_ms is None and full.layer("0.0").forward_ms > 0
    folded = summary(model, (1, 8, 8), profile=True, repeats=1, depth=1)
    assert folded.layer("0").forward_ms > 0  # shown as a leaf: timed as a whole


def test_rows_without_gradient_have_no_backward_time():
    model = nn.Sequential(nn.Embedding(10, 4), nn.Flatten())
    model.requires_grad_(False)
    s = summary(model, (5,), dtype=torch.long, profile=True, repeats=1)
    assert s.layer("0").forward_ms > 0 and s.layer("0").backward_ms is None


def test_time_call_and_median():
    calls = []
    ms = median_ms(lambda: calls.append(1), repeats=3, device=torch.device("cpu"), warmup=2)
    assert len(calls) == 5 and ms >= 0
    lin = nn.Linear(4, 3)
    fwd, bwd = time_call(lin, (torch.randn(2, 4),), {}, 2, torch.device("cpu"))
    assert fwd > 0 and bwd > 0
    assert lin.weight.grad is not None  # time_call itself accumulates; summary restores grads


def test_matmul_peak_is_a_rate():
    assert matmul_peak_gflops("cpu", n=64, repeats=1) > 0
