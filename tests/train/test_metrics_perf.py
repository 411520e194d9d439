"""Metrics against hand-counted answers; evaluation independent of the batch size; the precision/layout choice."""

from __future__ import annotations

import pytest
import torch

from cnnlab.errors import ConfigError
from cnnlab.train import evaluate_tensors, perf
from cnnlab.train.metrics import confusion_matrix, correct_topk, per_class_accuracy


def test_topk_and_confusion_by_hand():
    logits = torch.tensor([[3.0, 2.0, 1.0], [1.0, 3.0, 2.0], [1.0, 2.0, 3.0], [3.0, 1.0, 2.0]])
    y = torch.tensor([1, 1, 0, 0])
    assert int(correct_topk(logits, y, 1)) == 2  # rows 1 and 3
    assert int(correct_topk(logits, y, 2)) == 3  # row 0's class 1 is second
    assert int(correct_topk(logits, y, 5)) == 4  # k capped at the class count
    cm = confusion_matrix(logits.argmax(1), y, 3)
    assert cm.tolist() == [[1, 0, 1], [1, 1, 0], [0, 0, 0]]
    assert per_class_accuracy(cm) == [0.5, 0.5, None]


def test_evaluation_does_not_depend_on_the_batch_size(digits, make_model):
    model = make_model()
    x, y = digits.x_test, digits.y_test
    results = [evaluate_tensors(model, x, y, mean=digits.mean, std=digits.std, batch_size=b, confusion=True)
               for b in (7, 64, 1000)]
    for r in results[1:]:
        assert r["accuracy"] == results[0]["accuracy"] and r["confusion_matrix"] == results[0]["confusion_matrix"]
        assert r["loss"] == pytest.approx(results[0]["loss"], rel=1e-6)
    with torch.no_grad():
        logits = model((x - digits.mean[0]) / digits.std[0])
    assert results[0]["loss"] == pytest.approx(float(torch.nn.functional.cross_entropy(logits, y)), rel=1e-5)
    assert results[0]["n"] == len(y) and sum(map(sum, results[0]["confusion_matrix"])) == len(y)
    assert model.training  # evaluation restores the mode


def test_resolve_keeps_explicit_choices_and_is_fixed_in_deterministic_mode(make_model):
    m, cpu = make_model(), torch.device("cpu")
    assert perf.resolve("bf16", "nchw", m, (1, 8, 8), 10, cpu, 16) == ("bf16", "nchw", {})
    assert perf.resolve("auto", "auto", m, (1, 8, 8), 10, cpu, 16, deterministic=True) == ("fp32", "nchw", {})


def test_auto_measures_every_candidate_and_keeps_the_rng(make_model, monkeypatch):
    monkeypatch.setenv("CNNLAB_CPU_BF16", "1")  # as on a CPU with native bf16, whatever this one has
    monkeypatch.setattr(perf, "_CACHE", {})  # measure now, not an earlier test's cached answer
    m = make_model()
    state = torch.get_rng_state()
    precision, layout, timings = perf.resolve("auto", "auto", m, (1, 8, 8), 10, torch.device("cpu"), 16)
    assert torch.equal(torch.get_rng_state(), state)
    assert set(timings) == {"fp32/nchw", "fp32/channels_last", "bf16/nchw", "bf16/channels_last"}
    chosen = f"{precision}/{layout}"
    fp32_best = min(v for k, v in timings.items() if k.startswith("fp32"))
    if precision == "bf16":  # only chosen when clearly faster than the best fp32 layout
        assert timings[chosen] < perf.BF16_MARGIN * fp32_best
    else:
        assert timings[chosen] == fp32_best


def test_bf16_on_a_device_without_it_is_refused(make_model, monkeypatch):
    monkeypatch.setattr(perf, "bf16_supported", lambda device: False)
    with pytest.raises(ConfigError, match="`precision` bf16 is not supported on cpu; use fp32"):
        perf.resolve("bf16", "auto", make_model(), (1, 8, 8), 10, torch.device("cpu"), 16)


def test_cuda_without_a_gpu_is_a_clear_error(digits, make_model, monkeypatch):
    from cnnlab.train import fit

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ConfigError, match="`device` cuda was requested but no CUDA GPU is available"):
        fit(make_model(), digits, device="cuda", progress=False)


def test_class_rank_agrees_with_topk():
    from cnnlab.train.metrics import class_rank

    g = torch.Generator().manual_seed(0)
    logits, y = torch.randn(200, 10, generator=g), torch.randint(0, 10, (200,), generator=g)
    rank = class_rank(logits, y)
    for k in (1, 3, 5, 10):
        assert int((rank < k).sum()) == int(correct_topk(logits, y, k))
    assert class_rank(torch.tensor([[3.0, 2.0, 1.0]]), torch.tensor([2])).tolist() == [2]
