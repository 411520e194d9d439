"""Accuracy targets on the full datasets (slow: minutes on 2 CPU cores; `make test-slow`)."""

from __future__ import annotations

import json
import time

import pytest
import torch

from cnnlab import data, zoo
from cnnlab.train import evaluate, fit
from cnnlab.workflows import demo

pytestmark = pytest.mark.slow


def _train(model_name, dataset, **overrides):
    ds = data.load(dataset)
    torch.manual_seed(0)
    model = zoo.create(model_name)
    start = time.perf_counter()
    history = fit(model, ds, progress=False, **dict(demo.DEMO_RECIPE, **overrides))
    wall = time.perf_counter() - start
    acc = evaluate(model, ds, confusion=False)["accuracy"]
    print(f"{model_name} on {dataset}: test accuracy {100 * acc:.2f}% after {len(history)} epochs, {wall:.1f}s")
    return acc, history


def test_demo_command_end_to_end(tmp_path, capsys):
    from cnnlab.cli.app import main

    assert main(["demo", "--out", str(tmp_path / "demo")]) == 0
    out = capsys.readouterr().out
    line = next(line for line in out.splitlines() if line.startswith("test accuracy"))
    assert float(line.split()[2].rstrip("%")) >= 99.0
    assert f"run folder: {tmp_path / 'demo'}" in out
    cfg = json.loads((tmp_path / "demo" / "config.json").read_text())
    assert cfg["model"] == "lecture_cnn" and cfg["data"]["name"] == "mnist"
    assert f"report: {tmp_path / 'demo' / 'report.html'}" in out and (tmp_path / "demo" / "report.html").is_file()


def test_lecture_cnn_reaches_99_percent_on_mnist_within_5_epochs():
    acc, history = _train("lecture_cnn", "mnist", epochs=5)
    assert len(history) <= 5 and acc >= 0.990


def test_lenet5_reaches_98_9_percent_on_mnist():
    acc, _ = _train("lenet5", "mnist", epochs=5)
    assert acc >= 0.989


def test_lecture_cnn_reaches_90_percent_on_fashion_mnist():
    acc, _ = _train("lecture_cnn", "fashion-mnist", epochs=8)
    assert acc >= 0.90


def test_torch_compile_option_trains(tmp_path):
    from cnnlab.train import load_run

    ds = data.load("digits")
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv2d(1, 8, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                                torch.nn.Flatten(), torch.nn.Linear(128, 10))
    history = fit(model, ds, epochs=3, batch_size=32, lr=1e-2, compile=True, precision="fp32", layout="nchw",
                  out=tmp_path, progress=False)
    assert history["val_accuracy"][-1] > 0.85
    assert json.loads((tmp_path / "config.json").read_text())["fit"]["compile"] is True
    assert set(load_run(tmp_path, model=torch.nn.Sequential(*list(model))).model.state_dict()) == set(model.state_dict())
