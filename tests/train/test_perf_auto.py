"""``precision="auto"``: bf16 only where the CPU runs it natively, one probe per model/shape/batch, real batches."""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn

from cnnlab.errors import ConfigError
from cnnlab.train import perf

CPU = torch.device("cpu")


@pytest.fixture
def counted(monkeypatch, tmp_path):
    """``perf.measure`` wrapped to record its calls, with empty probe caches (memory and disk)."""
    monkeypatch.setattr(perf, "_CACHE", {})
    monkeypatch.setenv("CNNLAB_CACHE", str(tmp_path / "cache"))
    calls = []
    real = perf.measure

    def measure(*args, **kw):
        calls.append((args, kw))
        return real(*args, **kw)

    monkeypatch.setattr(perf, "measure", measure)
    return calls


def test_without_native_bf16_auto_never_measures_bf16(make_model, counted, monkeypatch):
    monkeypatch.setenv("CNNLAB_CPU_BF16", "0")
    assert not perf.bf16_native(CPU) and perf.bf16_supported(CPU)  # an explicit bf16 is still allowed
    precision, layout, timings = perf.resolve("auto", "auto", make_model(), (1, 8, 8), 10, CPU, 16)
    assert set(timings) == {"fp32/nchw", "fp32/channels_last"}
    assert precision == "fp32" and f"{precision}/{layout}" == min(timings, key=timings.get)
    assert len(counted) == 1 and counted[0][0][5] == ("fp32",)  # the precisions passed to measure
    # with native bf16 reported, the same call measures (and caches) bf16 too: a different machine capability
    monkeypatch.setenv("CNNLAB_CPU_BF16", "1")
    _, _, timings = perf.resolve("auto", "auto", make_model(), (1, 8, 8), 10, CPU, 16)
    assert {"bf16/nchw", "bf16/channels_last"} <= set(timings) and len(counted) == 2


def test_bad_override_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("CNNLAB_CPU_BF16", "yes")
    with pytest.raises(ConfigError, match="`CNNLAB_CPU_BF16` must be 0 or 1; got 'yes'"):
        perf.cpu_bf16_native()


def test_the_probe_runs_once_per_model_shape_and_batch(make_model, counted, monkeypatch):
    monkeypatch.setenv("CNNLAB_CPU_BF16", "0")
    a, b = make_model(seed=0), make_model(seed=5)  # same architecture, other weights
    state = torch.get_rng_state()
    first = perf.resolve("auto", "auto", a, (1, 8, 8), 10, CPU, 16)
    again = perf.resolve("auto", "auto", b, (1, 8, 8), 10, CPU, 16)
    assert again == first and len(counted) == 1
    assert torch.equal(torch.get_rng_state(), state)
    perf.resolve("auto", "auto", make_model(), (1, 8, 8), 10, CPU, 32)  # another batch size: measured
    perf.resolve("auto", "auto", make_model(channels=4), (1, 8, 8), 10, CPU, 16)  # another architecture
    assert len(counted) == 3
    perf.clear_cache()
    perf.resolve("auto", "auto", make_model(), (1, 8, 8), 10, CPU, 16)
    assert len(counted) == 4


def test_token_id_model_resolves_on_a_real_batch(counted, monkeypatch):
    monkeypatch.setenv("CNNLAB_CPU_BF16", "1")
    from cnnlab.layers import Conv1D, Dense, Embedding, GlobalMaxPooling1D, Sequential

    torch.manual_seed(0)
    m = Sequential([Embedding(100, 8), Conv1D(8, 3, activation="relu"), GlobalMaxPooling1D(), Dense(2)],
                   input_shape=(20,))
    g = torch.Generator().manual_seed(1)
    ids, labels = torch.randint(0, 100, (40, 20), generator=g), torch.randint(0, 2, (40,), generator=g)
    before = m.embedding.weight.clone()
    precision, layout, timings = perf.resolve("auto", "auto", m, (20,), 2, CPU, 16, sample=(ids, labels))
    assert set(timings) == {"fp32/nchw", "bf16/nchw"}  # no channels_last for (N, L) token ids
    assert layout == "nchw" and precision in ("fp32", "bf16")
    assert torch.equal(m.embedding.weight, before)  # timed on a copy
    assert counted[0][1]["sample"][0].dtype == torch.int64


def test_custom_loss_times_a_regression_model(counted, monkeypatch):
    monkeypatch.setenv("CNNLAB_CPU_BF16", "0")
    torch.manual_seed(0)
    m = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 1, 3, padding=1))
    x, y = torch.rand(8, 1, 12, 12), torch.rand(8, 1, 12, 12)
    seen = []

    def mse(out, target):
        seen.append(tuple(out.shape))
        return nn.functional.mse_loss(out, target)

    _, _, timings = perf.resolve("auto", "auto", m, (1, 12, 12), 0, CPU, 8, sample=(x, y), loss_fn=mse)
    assert set(timings) == {"fp32/nchw", "fp32/channels_last"}
    assert seen and set(seen) == {(8, 1, 12, 12)}


def test_bad_sample_is_a_clear_error(make_model, counted, monkeypatch):
    monkeypatch.setenv("CNNLAB_CPU_BF16", "0")
    with pytest.raises(ConfigError, match=r"`sample` must be a pair of tensors \(x, y\); got Tensor"):
        perf.resolve("auto", "auto", make_model(), (1, 8, 8), 10, CPU, 16, sample=torch.zeros(2, 1, 8, 8))


def test_a_later_process_reads_the_decision_from_disk(make_model, counted, monkeypatch, tmp_path):
    import json

    monkeypatch.setenv("CNNLAB_CPU_BF16", "0")
    first = perf.resolve("auto", "auto", make_model(), (1, 8, 8), 10, CPU, 16)
    path = tmp_path / "cache" / "autotune.json"
    entry, = json.loads(path.read_text())["entries"].values()
    assert (entry["precision"], entry["layout"], entry["batch_size"]) == (first[0], first[1], 16)
    perf._CACHE.clear()  # what a new process starts with
    assert perf.resolve("auto", "auto", make_model(), (1, 8, 8), 10, CPU, 16) == first and len(counted) == 1
    perf._CACHE.clear()
    path.write_text("{not json")  # a corrupt cache is measured again and rewritten
    assert perf.resolve("auto", "auto", make_model(), (1, 8, 8), 10, CPU, 16)[:2] in {("fp32", "nchw"),
                                                                                   ("fp32", "channels_last")}
    assert len(counted) == 2 and len(json.loads(path.read_text())["entries"]) == 1
    perf.clear_cache()
    assert not path.exists()


def test_cache_off_writes_nothing(make_model, counted, monkeypatch, tmp_path):
    monkeypatch.setenv("CNNLAB_CPU_BF16", "0")
    monkeypatch.setenv("CNNLAB_CACHE", "off")
    assert perf.cache_path() is None
    perf.resolve("auto", "auto", make_model(), (1, 8, 8), 10, CPU, 16)
    perf._CACHE.clear()
    perf.resolve("auto", "auto", make_model(), (1, 8, 8), 10, CPU, 16)
    assert len(counted) == 2 and not (tmp_path / "cache").exists()


def test_spent_budget_stops_after_one_timed_round(make_model, monkeypatch):
    monkeypatch.setenv("CNNLAB_CPU_BF16", "0")
    calls = []
    real = perf._Candidate.step_time

    def step_time(self, y, steps):
        calls.append(steps)
        return real(self, y, steps)

    monkeypatch.setattr(perf._Candidate, "step_time", step_time)
    timings = perf.measure(make_model(), (1, 8, 8), 10, CPU, 16, precisions=("fp32",), rounds=5, budget=0.0)
    assert set(timings) == {"fp32/nchw", "fp32/channels_last"}
    assert calls == [1, 1, 2, 2]  # two warm-ups, then one round of two steps each


def test_allocator_tuning_respects_the_users_choice(monkeypatch):
    import platform

    monkeypatch.setenv("CNNLAB_MALLOC", "0")
    assert perf._tune_allocator() == "unchanged (CNNLAB_MALLOC=0)"
    monkeypatch.delenv("CNNLAB_MALLOC")
    monkeypatch.setenv("MALLOC_ARENA_MAX_", "2")
    assert perf._tune_allocator().startswith("unchanged (MALLOC_* or LD_PRELOAD")
    monkeypatch.delenv("MALLOC_ARENA_MAX_")
    monkeypatch.delenv("LD_PRELOAD", raising=False)
    if platform.system() == "Linux" and platform.libc_ver()[0] == "glibc":
        assert perf._tune_allocator() == "glibc mallopt: mmap threshold 32 MiB, trim threshold 256 MiB"
