"""Early stopping restores the best weights both when it fires and when the run goes to the end."""

from __future__ import annotations

import torch

from cnnlab import data
from cnnlab.train import Callback, fit
from cnnlab.train.checkpoint import load_weights


class _Snapshots(Callback):
    """The model's weights at the end of every epoch."""

    def __init__(self, model):
        self.model, self.by_epoch = model, {}

    def on_epoch_end(self, state, logs):
        self.by_epoch[logs["epoch"]] = {k: v.detach().clone() for k, v in self.model.state_dict().items()}


def _noisy_val(digits):
    """Digits whose validation labels are shuffled: the validation loss rises once the model fits the
    training set, so the best epoch is an early one."""
    g = torch.Generator().manual_seed(0)
    y_val = digits.y_val[torch.randperm(len(digits.y_val), generator=g)]
    return data.Dataset("digits-noisy-val", digits.x_train[:400], digits.y_train[:400], digits.x_val, y_val,
                        digits.x_test, digits.y_test, digits.classes)


def _equal(a, b):
    return all(torch.equal(a[k], b[k]) for k in a)


OPTS = dict(batch_size=32, lr=1e-2, precision="fp32", layout="nchw", progress=False)


def test_stopping_early_restores_the_best_epoch(digits, make_model, tmp_path):
    ds = _noisy_val(digits)
    model = make_model()
    snaps = _Snapshots(model)
    history = fit(model, ds, epochs=30, patience=2, out=tmp_path, callbacks=[snaps], **OPTS)
    best = history.best_epoch
    assert history.stop_reason == "early_stopping" and history.stopped_epoch == best + 2 == len(history) < 30
    assert history["val_loss"][best - 1] == min(history["val_loss"])
    assert _equal(model.state_dict(), snaps.by_epoch[best])
    assert not _equal(model.state_dict(), snaps.by_epoch[len(history)])
    assert _equal(load_weights(tmp_path / "weights.safetensors"), snaps.by_epoch[best])
    assert _equal(load_weights(tmp_path / "best.safetensors"), snaps.by_epoch[best])


def test_running_to_the_end_also_restores_the_best_epoch(digits, make_model):
    ds = _noisy_val(digits)
    model = make_model()
    snaps = _Snapshots(model)
    history = fit(model, ds, epochs=6, callbacks=[snaps], **OPTS)  # no patience: never stops early
    assert history.stop_reason == "completed" and history.stopped_epoch is None and len(history) == 6
    best = history.best_epoch
    assert best < 6 and history["val_loss"][best - 1] == min(history["val_loss"])
    assert _equal(model.state_dict(), snaps.by_epoch[best])
    assert not _equal(model.state_dict(), snaps.by_epoch[6])


def test_restore_can_be_switched_off_and_accuracy_can_be_monitored(digits, make_model):
    ds = _noisy_val(digits)
    model = make_model()
    snaps = _Snapshots(model)
    history = fit(model, ds, epochs=4, restore_best_weights=False, monitor="val_accuracy", callbacks=[snaps], **OPTS)
    assert _equal(model.state_dict(), snaps.by_epoch[4])
    assert history["val_accuracy"][history.best_epoch - 1] == max(history["val_accuracy"])
