"""``fit``: it learns, it records, its options do what they say, its errors are clear."""

from __future__ import annotations

import csv
import json

import pytest
import torch

from cnnlab.errors import ConfigError, TrainingError
from cnnlab.train import fit, load_run
from cnnlab.train.checkpoint import load_checkpoint, load_weights

FAST = dict(batch_size=32, precision="fp32", layout="nchw", progress=False)


def _weights(model):
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def test_fit_learns_digits_and_writes_a_complete_run_folder(digits, make_model, tmp_path):
    model = make_model()
    history = fit(model, digits, epochs=4, lr=3e-3, out=tmp_path / "run", **FAST)
    assert len(history) == 4 and history.stop_reason == "completed"
    assert history["val_accuracy"][-1] > 0.85 > history["val_accuracy"][0] - 0.5
    assert history["loss"][-1] < history["loss"][0]
    assert set(history.keys()) >= {"epoch", "loss", "accuracy", "top5_accuracy", "val_loss", "val_accuracy",
                                   "val_top5_accuracy", "lr", "time"}
    assert all(t5 >= t1 for t1, t5 in zip(history["val_accuracy"], history["val_top5_accuracy"]))
    run = tmp_path / "run"
    assert sorted(p.name for p in run.iterdir()) == ["best.safetensors", "checkpoint.pt", "config.json",
                                                     "history.csv", "history.jsonl", "weights.safetensors"]
    rows = list(csv.DictReader((run / "history.csv").open()))
    assert [int(r["epoch"]) for r in rows] == [1, 2, 3, 4]
    assert float(rows[-1]["val_accuracy"]) == pytest.approx(history["val_accuracy"][-1])
    lines = [json.loads(line) for line in (run / "history.jsonl").read_text().splitlines()]
    assert lines == history.records
    cfg = json.loads((run / "config.json").read_text())
    assert cfg["fit"]["epochs"] == 4 and cfg["data"]["name"] == "digits" and cfg["data"]["input_shape"] == [1, 8, 8]
    assert cfg["resolved"]["precision"] == "fp32" and cfg["results"]["best_epoch"] == history.best_epoch
    saved = load_weights(run / "weights.safetensors")
    assert all(torch.equal(saved[k], v) for k, v in model.state_dict().items())
    ckpt = load_checkpoint(run / "checkpoint.pt")
    assert ckpt["state"]["epoch"] == 4 and ckpt["state"]["global_step"] == 4 * 40


def test_load_run_rebuilds_a_described_model(digits, tmp_path):
    from cnnlab.layers import Conv2D, Dense, Flatten, MaxPooling2D, Sequential

    torch.manual_seed(0)
    model = Sequential([Conv2D(8, 3, padding="same", activation="relu"), MaxPooling2D(2), Flatten(), Dense(10)],
                       input_shape=(1, 8, 8))
    fit(model, digits, epochs=1, out=tmp_path / "r", **FAST)
    run = load_run(tmp_path / "r")
    assert run.desc["input_shape"] == [1, 8, 8] and run.classes == [str(i) for i in range(10)]
    assert run.input_shape == (1, 8, 8) and run.dataset == "digits" and not run.model.training
    x = run.normalize(digits.x_test[:5])
    assert torch.allclose(run.model(x), model.eval()(x))
    assert len(run.history) == 1


def test_same_seed_same_weights_other_seed_other_weights(digits, make_model):
    runs = []
    for seed in (0, 0, 1):
        model = make_model(dropout=0.2)
        fit(model, digits, epochs=2, seed=seed, augment=True, deterministic=True, **FAST)
        runs.append(_weights(model))
    assert all(torch.equal(runs[0][k], runs[1][k]) for k in runs[0])
    assert not all(torch.equal(runs[0][k], runs[2][k]) for k in runs[0])


@pytest.mark.parametrize("opt", [dict(optimizer="sgd", lr=0.1), dict(optimizer="sgd", lr=0.1, nesterov=True),
                                 dict(optimizer="adam", lr=1e-2), dict(optimizer="adamw", lr=1e-2, weight_decay=0.05)])
def test_every_optimizer_reduces_the_loss(digits, make_model, opt):
    history = fit(make_model(), digits.subset(train=400), epochs=3, **opt, **FAST)
    assert history["loss"][-1] < 0.6 * history["loss"][0]


def test_optimizer_objects_get_the_options(digits, make_model):
    from cnnlab.train.config import FitConfig
    from cnnlab.train.optim import make_optimizer

    model = make_model()
    sgd = make_optimizer(model.parameters(), FitConfig(optimizer="sgd", lr=0.2, nesterov=True, weight_decay=1e-4))
    assert isinstance(sgd, torch.optim.SGD)
    assert sgd.defaults["nesterov"] and sgd.defaults["momentum"] == 0.9 and sgd.defaults["weight_decay"] == 1e-4
    assert isinstance(make_optimizer(model.parameters(), FitConfig(optimizer="adamw")), torch.optim.AdamW)


@pytest.mark.parametrize("schedule", ["step", "cosine", "onecycle"])
def test_schedules_follow_their_curves_per_step(digits, make_model, schedule):
    ds = digits.subset(train=320)  # 10 steps per epoch at batch 32
    history = fit(make_model(), ds, epochs=3, lr=0.01, schedule=schedule, optimizer="sgd", **FAST)
    lrs = history["lr"]  # lr after each epoch's last step
    if schedule == "step":  # step_size = epochs // 3 = 1 epoch, gamma 0.1
        assert lrs == pytest.approx([0.001, 0.0001, 0.00001])
    elif schedule == "cosine":  # 0.01 * (1 + cos(pi * t / T)) / 2 at t = 10, 20, 30 of T = 30
        assert lrs == pytest.approx([0.0075, 0.0025, 0.0], abs=1e-9)
    else:
        assert lrs[0] > 0.009 and lrs[1] < lrs[0] and lrs[2] < 1e-4  # warm-up to the peak, anneal to ~0


def test_bf16_channels_last_training_learns(digits, make_model):
    model = make_model()
    history = fit(model, digits, epochs=3, lr=3e-3, batch_size=32, precision="bf16", layout="channels_last",
                  progress=False)
    assert history["val_accuracy"][-1] > 0.8
    assert all(p.dtype == torch.float32 for p in model.parameters())  # autocast keeps fp32 master weights


def test_bad_options_are_one_line_errors(digits, make_model):
    cases = [(dict(optimizer="rmsprop"), "`optimizer` must be one of sgd, adam, adamw, adadelta; got 'rmsprop'"),
             (dict(schedule="linear"), "`schedule` must be one of none, step, cosine, onecycle; got 'linear'"),
             (dict(precision="fp16"), "`precision` must be one of fp32, bf16, auto; got 'fp16'"),
             (dict(epochs=0), "`epochs` must be an integer ≥ 1; got 0"),
             (dict(lr=-1.0), "`lr` must be a number ≥ 0; got -1.0"),
             (dict(nesterov=True), "`nesterov` needs `optimizer='sgd'` with momentum > 0"),
             (dict(epoch=3), "unknown training option(s) epoch; known: epochs, batch_size")]
    for options, message in cases:
        with pytest.raises(ConfigError) as info:
            fit(make_model(), digits, progress=False, **options)
        assert message in str(info.value) and "\n" not in str(info.value)
    with pytest.raises(TypeError, match="`model` must be a torch.nn.Module; got str"):
        fit("lenet5", digits)


def test_an_existing_run_folder_is_not_overwritten(digits, make_model, tmp_path):
    fit(make_model(), digits.subset(train=64), epochs=1, out=tmp_path, **FAST)
    before = (tmp_path / "weights.safetensors").read_bytes()
    with pytest.raises(ConfigError, match="already holds a run; resume it with --resume"):
        fit(make_model(seed=1), digits.subset(train=64), epochs=1, out=tmp_path, **FAST)
    assert (tmp_path / "weights.safetensors").read_bytes() == before


class _NaNAfter(torch.nn.Module):
    """Wraps a model; from the ``n``-th training forward on, the logits are NaN."""

    def __init__(self, inner, n):
        super().__init__()
        self.inner, self.n, self.calls = inner, n, 0

    def forward(self, x):
        out = self.inner(x)
        if self.training:
            self.calls += 1
            if self.calls >= self.n:
                return out * float("nan")
        return out


def test_nan_loss_stops_naming_epoch_and_step_and_keeps_the_last_good_checkpoint(digits, make_model, tmp_path):
    ds = digits.subset(train=320)  # 10 steps per epoch
    model = _NaNAfter(make_model(), n=14)  # epoch 2, step 4
    with pytest.raises(TrainingError, match=r"loss became nan at epoch 2, step 4 \(global step 14\); training stopped "
                                            r"and the last good checkpoint `.*checkpoint.pt` is kept"):
        fit(model, ds, epochs=3, out=tmp_path, **FAST)
    ckpt = load_checkpoint(tmp_path / "checkpoint.pt")
    assert ckpt["state"]["epoch"] == 1 and ckpt["state"]["global_step"] == 10
    assert all(torch.isfinite(v).all() for v in ckpt["model"].values())
    assert not (tmp_path / "weights.safetensors").exists()
    from cnnlab.train import History

    assert [r["epoch"] for r in History.read(tmp_path).records] == [1]
