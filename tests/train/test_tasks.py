"""fit for every task: image-to-image regression (PSNR), integer token inputs, embeddings (verification),
each through the same loop with run folders, resume and evaluate; the task metrics against references."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from cnnlab import data, quality, zoo
from cnnlab.errors import ConfigError, DataError, ShapeError, UnknownNameError
from cnnlab.train import evaluate, fit, load_run, tasks
from cnnlab.train.checkpoint import load_weights

FAST = dict(precision="fp32", layout="nchw", progress=False)


# --------------------------------------------------------------------------------------- regression / SR
def _sr_pairs(n: int, size: int = 24, seed: int = 0):
    """Smooth random images (sums of blurred noise) and their 2× down-then-up blurred versions."""
    g = torch.Generator().manual_seed(seed)
    hr = F.avg_pool2d(torch.rand(n, 1, size + 6, size + 6, generator=g), 7, stride=1)  # (n, 1, size, size)
    hr = (hr - hr.amin(dim=(2, 3), keepdim=True)) / (hr.amax(dim=(2, 3), keepdim=True) - hr.amin(dim=(2, 3), keepdim=True))
    lr = F.interpolate(F.interpolate(hr, scale_factor=0.5, mode="bilinear", antialias=True, align_corners=False),
                       size=(size, size), mode="bicubic", align_corners=False).clamp(0, 1)
    return lr, hr


@pytest.fixture(scope="module")
def sr_data():
    lr, hr = _sr_pairs(96)
    return data.from_tensors(lr[:64], hr[:64], lr[64:80], hr[64:80], lr[80:], hr[80:], name="sr-toy")


def test_regression_trains_srcnn_and_psnr_rises(sr_data, tmp_path):
    torch.manual_seed(0)
    model = zoo.create("srcnn")
    before = evaluate(model, sr_data, split="val", task="regression")
    history = fit(model, sr_data, task="regression", epochs=6, batch_size=16, lr=1e-3, out=tmp_path, seed=0, **FAST)
    assert "val_psnr" in history.keys() and "val_accuracy" not in history.keys()
    psnr = history["val_psnr"]
    assert psnr[-1] > psnr[0] + 1.0 and psnr[-1] > before["psnr"] + 3.0
    # the loop's PSNR is quality.psnr of the clamped outputs, averaged over images
    run = load_run(tmp_path)
    assert run.task.name == "regression" and run.config["preprocess"] == {"kind": "identity"}
    with torch.no_grad():
        ref = quality.psnr(run.model(sr_data.x_val).clamp(0, 1), sr_data.y_val).mean().item()
    assert evaluate(run.model, sr_data, split="val", task=run.task)["psnr"] == pytest.approx(ref, abs=1e-9)
    assert history.best_epoch == int(np.argmax(psnr)) + 1  # monitor defaults to val_psnr, higher is better


def test_regression_resume_is_bit_identical(sr_data, tmp_path):
    opts = dict(task="regression", epochs=3, batch_size=16, lr=1e-3, seed=1, deterministic=True, **FAST)
    torch.manual_seed(0)
    fit(zoo.create("srcnn"), sr_data, out=tmp_path / "full", **opts)

    class Stop(Exception):
        pass

    from cnnlab.train import Callback

    class Boom(Callback):
        def on_epoch_begin(self, state):
            if state.epoch == 2:
                raise Stop

    torch.manual_seed(0)
    with pytest.raises(Stop):
        fit(zoo.create("srcnn"), sr_data, out=tmp_path / "part", callbacks=[Boom()], **opts)
    fit(zoo.create("srcnn"), sr_data, resume=tmp_path / "part", progress=False)
    a, b = load_weights(tmp_path / "full" / "weights.safetensors"), load_weights(tmp_path / "part" / "weights.safetensors")
    assert all(torch.equal(a[k], b[k]) for k in a)
    with pytest.raises(ConfigError, match="`task` .* differs from the run being resumed"):
        fit(zoo.create("srcnn"), sr_data, resume=tmp_path / "part", task="classification", progress=False)


def test_regression_l1_and_ssim_metrics(sr_data):
    task = tasks.Regression(loss="l1", ssim=True)
    identity = nn.Identity()
    identity.register_parameter("unused", nn.Parameter(torch.zeros(1)))
    res = evaluate(identity, sr_data, split="test", task=task)
    x, y = sr_data.x_test, sr_data.y_test
    assert res["loss"] == pytest.approx(float((x - y).abs().mean()), rel=1e-6)
    assert res["psnr"] == pytest.approx(float(quality.psnr(x, y).mean()), abs=1e-9)
    assert res["ssim"] == pytest.approx(float(quality.ssim(x, y).mean()), abs=1e-9)


# ------------------------------------------------------------------------------------------ token inputs
def token_cnn(seed: int = 0):
    """Embedding -> Conv1D -> GlobalMaxPooling1D -> Dense on int64 token ids (N, 10), built Keras-style."""
    from cnnlab.layers import Conv1D, Dense, Embedding, GlobalMaxPooling1D, Sequential

    torch.manual_seed(seed)
    return Sequential([Embedding(12, 8), Conv1D(16, 2, activation="relu"), GlobalMaxPooling1D(), Dense(2)],
                      input_shape=(10,))


def _bigram_task(n, length=10, seed=0):
    """Label 1 when the bigram (7, 3) occurs in the sequence: only a window of width 2 sees it."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randint(0, 12, (n, length), generator=g)
    plant = torch.rand(n, generator=g) < 0.5
    pos = torch.randint(0, length - 1, (n,), generator=g)
    x[plant, pos[plant]] = 7
    x[plant, pos[plant] + 1] = 3
    y = ((x[:, :-1] == 7) & (x[:, 1:] == 3)).any(dim=1).long()
    return x, y


def test_integer_token_inputs_train_and_resume(tmp_path):
    x, y = _bigram_task(1200)
    ds = data.from_tensors(x[:800], y[:800], x[800:1000], y[800:1000], x[1000:], y[1000:], name="bigram")
    assert ds.x_train.dtype == torch.int64 and ds.mean == () and not ds.is_image
    model = token_cnn()
    history = fit(model, ds, epochs=8, batch_size=32, lr=1e-2, out=tmp_path, monitor="val_accuracy", **FAST)
    assert history["val_accuracy"][-1] > 0.9  # chance is 0.5
    run = load_run(tmp_path)  # the builder model is described in model.json
    assert run.config["data"]["input_dtype"] == "int64" and run.config["preprocess"] == {"kind": "identity"}
    test = evaluate(run.model, ds, task="classification")
    manual = (run.model(ds.x_test).argmax(1) == ds.y_test).float().mean().item()
    assert test["accuracy"] == pytest.approx(manual)
    more = fit(token_cnn(seed=3), ds, resume=tmp_path, epochs=9, progress=False)  # constant schedule: extendable
    assert len(more) == 9


def test_auto_precision_times_token_batches_with_the_task_loss():
    x, y = _bigram_task(256)
    history = fit(token_cnn(), data.from_tensors(x, y), epochs=1, batch_size=64, progress=False)  # auto/auto
    assert len(history) == 1 and math.isfinite(history["loss"][0])


def test_augment_on_token_ids_is_refused():
    x, y = _bigram_task(100)
    with pytest.raises(ConfigError, match="`augment` applies to images"):
        fit(token_cnn(), data.from_tensors(x, y), augment=True, epochs=1, **FAST)


# ------------------------------------------------------------------------------------------- embeddings
def test_triplet_and_contrastive_losses_match_brute_force():
    g = torch.Generator().manual_seed(0)
    out = torch.randn(9, 4, generator=g, dtype=torch.float64)
    y = torch.tensor([0, 0, 0, 1, 1, 2, 2, 2, 3])  # identity 3 has no positive: not an anchor
    z = F.normalize(out, dim=1)
    d = lambda i, j: float((z[i] - z[j]).norm())  # noqa: E731
    margin = 0.3
    terms = []
    for a in range(9):
        pos = [d(a, p) for p in range(9) if p != a and y[p] == y[a]]
        neg = [d(a, q) for q in range(9) if y[q] != y[a]]
        if pos and neg:
            terms.append(max(0.0, max(pos) - min(neg) + margin))
    trip = tasks.Embedding(loss="triplet", margin=margin).loss(out, y)
    assert float(trip) == pytest.approx(sum(terms) / len(terms), abs=1e-9)
    pairs = [(i, j) for i in range(9) for j in range(9) if i != j]
    contr = sum(d(i, j) ** 2 if y[i] == y[j] else max(0.0, margin - d(i, j)) ** 2 for i, j in pairs) / len(pairs)
    assert float(tasks.Embedding(loss="contrastive", margin=margin).loss(out, y)) == pytest.approx(contr, abs=1e-9)


def test_verification_scores_against_brute_force():
    g = torch.Generator().manual_seed(1)
    z = F.normalize(torch.randn(30, 3, generator=g, dtype=torch.float64), dim=1)
    y = torch.randint(0, 4, (30,), generator=g)
    acc, auc, thr = tasks.verification_scores(z, y)
    dist, same = [], []
    for i, j in itertools.combinations(range(30), 2):
        dist.append(float((z[i] - z[j]).norm()))
        same.append(bool(y[i] == y[j]))
    dist, same = np.array(dist), np.array(same)
    best = max(((dist[same] <= t).mean() + (dist[~same] > t).mean()) / 2 for t in np.concatenate([dist, [-1.0]]))
    assert acc == pytest.approx(best, abs=1e-12)
    wins = sum((dp < dn) + 0.5 * (dp == dn) for dp in dist[same] for dn in dist[~same])
    assert auc == pytest.approx(wins / (same.sum() * (~same).sum()), abs=1e-12)
    assert ((dist[same] <= thr).mean() + (dist[~same] > thr).mean()) / 2 == pytest.approx(acc, abs=1e-12)


def test_embedding_task_trains_a_tiny_cnn_above_chance(digits, tmp_path):
    ds = digits.subset(train=600, val=180)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(128, 16))
    before = evaluate(model, ds, split="val", task="embedding")
    history = fit(model, ds, task=tasks.Embedding(margin=0.3), epochs=5, batch_size=60, out=tmp_path,
                  monitor="val_verification_accuracy", **FAST)
    acc, auc = history["val_verification_accuracy"][-1], history["val_roc_auc"][-1]
    assert acc > 0.8 and auc > 0.9 and acc > before["verification_accuracy"] + 0.05  # chance: 0.5
    run = load_run(tmp_path, model=nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                                                  nn.Flatten(), nn.Linear(128, 16)))
    assert run.task.to_dict()["name"] == "embedding" and run.config["preprocess"]["kind"] == "normalize"
    best = history.records[history.best_epoch - 1]
    assert evaluate(run.model, ds, split="val", task=run.task)["roc_auc"] == pytest.approx(best["val_roc_auc"], abs=1e-6)
    more = fit(run.model, ds, resume=tmp_path, epochs=6, progress=False)  # continues with the stored task
    assert len(more) == 6 and "val_roc_auc" in more.records[-1]


# ---------------------------------------------------------------------------------------------- errors
def test_task_errors_are_one_line(digits, sr_data):
    with pytest.raises(UnknownNameError, match="unknown `task` 'segmentation'; expected one of: classification"):
        tasks.get("segmentation")
    with pytest.raises(ConfigError, match="`monitor` 'val_accuracy' is not a metric of the regression task; known: "
                                          "loss, psnr, val_loss, val_psnr"):
        fit(zoo.create("srcnn"), sr_data, task="regression", monitor="val_accuracy", epochs=1, **FAST)
    with pytest.raises(DataError, match="classification needs one integer class index per example; got y of dtype "
                                        "torch.float32"):
        fit(zoo.create("srcnn"), sr_data, epochs=1, **FAST)
    with pytest.raises(DataError, match="regression needs float targets"):
        fit(nn.Linear(64, 10), digits, task="regression", epochs=1, **FAST)
    with pytest.raises(ShapeError, match=r"the model outputs \(16, 1, 8, 8\) but the targets are \(16, 1, 24, 24\)"):
        fit(zoo.create("srcnn", padding="valid"), sr_data, task="regression", epochs=1, batch_size=16, **FAST)
    with pytest.raises(ConfigError, match="regression `loss` must be 'mse' or 'l1'; got 'huber'"):
        tasks.Regression(loss="huber")
    assert math.isclose(tasks.get("image-to-image").to_dict()["data_range"], 1.0)


def test_epoch_line_shows_every_task_metric():
    from cnnlab.epochline import format_summary

    line = format_summary({"epoch": 2, "loss": 0.01, "psnr": 30.123, "val_loss": 0.02, "val_psnr": 29.5,
                           "val_ssim": 0.91, "val_threshold": 0.3, "lr": 1e-3, "time": 1.5}, 4)
    assert line == "epoch 2/4  loss 0.0100  psnr 30.12  val_loss 0.0200  val_psnr 29.5  val_ssim 0.91  lr 1.00e-03  1.5s"
