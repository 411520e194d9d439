"""``cnnlab train / evaluate / predict / export / demo`` through the CLI entry point: outputs and errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from cnnlab.cli.app import main

MODEL = {"sequential": [
    {"class": "Conv2D", "config": {"filters": 8, "kernel_size": 3, "padding": "same", "activation": "relu"}},
    {"class": "MaxPooling2D", "config": {"pool_size": 2}}, {"class": "Flatten", "config": {}},
    {"class": "Dense", "config": {"units": 10}}], "input_shape": [1, 8, 8]}
FAST = ["--batch-size", "32", "--lr", "1e-2", "--precision", "fp32", "--layout", "nchw", "--quiet"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli")
    spec = folder / "model.json"
    spec.write_text(json.dumps(MODEL))
    assert main(["train", str(spec), "--data", "digits", "--epochs", "3", "--out", str(folder / "run"), *FAST]) == 0
    return folder


def test_train_prints_the_run_and_test_accuracy(tmp_path, capsys):
    spec = tmp_path / "m.json"
    spec.write_text(json.dumps(MODEL))
    assert main(["train", str(spec), "-d", "digits", "-e", "2", "-o", str(tmp_path / "r"), "--seed", "3", *FAST]) == 0
    out = capsys.readouterr().out
    assert f"run saved to {tmp_path / 'r'} (2 epochs" in out and "test accuracy" in out
    cfg = json.loads((tmp_path / "r" / "config.json").read_text())
    assert cfg["fit"]["seed"] == 3 and cfg["fit"]["lr"] == 0.01 and cfg["fit"]["optimizer"] == "adam"


def test_evaluate_json_has_the_contract_keys(trained, capsys):
    assert main(["evaluate", str(trained / "run"), "--format", "json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert {"accuracy", "loss", "per_class_accuracy", "confusion_matrix", "n"} <= set(result)
    assert result["n"] == 359 and len(result["confusion_matrix"]) == 10
    cm = np.array(result["confusion_matrix"])
    assert cm.sum() == 359 and result["accuracy"] == pytest.approx(np.trace(cm) / 359)
    assert result["accuracy"] > 0.8
    assert main(["evaluate", str(trained / "run"), "--split", "val", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["n"] == 180
    assert main(["evaluate", str(trained / "run")]) == 0
    text = capsys.readouterr().out
    assert text.startswith("digits test: accuracy") and "confusion matrix (rows: true, columns: predicted):" in text


def test_predict_any_image_json(trained, tmp_path, capsys):
    from cnnlab import data

    ds = data.load("digits")
    digit = (ds.x_test[0, 0].numpy() * 255).astype(np.uint8)
    big = np.kron(digit, np.ones((5, 5), np.uint8))  # 40×40 grey
    Image.fromarray(big).save(tmp_path / "digit.png")
    Image.fromarray(np.stack([big] * 3, -1)).save(tmp_path / "digit_rgb.jpg", quality=95)  # colour JPEG
    assert main(["predict", str(trained / "run"), str(tmp_path / "digit.png"), str(tmp_path / "digit_rgb.jpg"),
                 "--top-k", "3", "--format", "json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert [r["file"] for r in result] == [str(tmp_path / "digit.png"), str(tmp_path / "digit_rgb.jpg")]
    for item in result:
        assert [set(t) for t in item["top"]] == [{"class", "label", "probability"}] * 3
        probs = [t["probability"] for t in item["top"]]
        assert probs == sorted(probs, reverse=True) and 0 < sum(probs) <= 1 + 1e-6
    assert result[0]["top"][0]["class"] == result[1]["top"][0]["class"]  # same picture, same answer
    assert main(["predict", str(trained / "run"), str(tmp_path / "digit.png")]) == 0
    assert capsys.readouterr().out.startswith(f"{tmp_path / 'digit.png'}: ")


def test_export_onnx_matches_torch(trained, tmp_path, capsys):
    import onnxruntime as ort

    from cnnlab.train import load_run

    out = tmp_path / "model.onnx"
    assert main(["export", str(trained / "run"), "--onnx", str(out)]) == 0
    assert "onnxruntime max |Δlogit|" in capsys.readouterr().out
    run = load_run(trained / "run")
    x = run.normalize(torch.rand(7, 1, 8, 8))
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    got = session.run(None, {session.get_inputs()[0].name: x.numpy()})[0]
    with torch.no_grad():
        assert np.abs(got - run.model(x).numpy()).max() < 1e-4


@pytest.mark.parametrize("args, message", [
    (["train", "no_such_model", "--data", "digits"], "MODEL 'no_such_model' is not a zoo name"),
    (["train", "lenet5", "--data", "cifar10"], "unknown dataset 'cifar10'; expected one of: mnist"),
    (["train", "lenet5", "--data", "digits"], "dataset 'digits' has 1×8×8 images but the model takes 1×28×28"),
    (["train", "--data", "digits"], "`MODEL` is required"),
    (["train", "lenet5"], "`--data` is required"),
    (["train", "lenet5", "--data", "digits", "--optimizer", "rmsprop"], "`optimizer` must be one of sgd, adam"),
    (["evaluate", "/nonexistent/run"], "run folder `/nonexistent/run` does not exist"),
    (["evaluate", "RUN", "--format", "xml"], "`--format` must be text or json; got 'xml'"),
    (["predict", "RUN", "/nonexistent.png"], "image `/nonexistent.png` does not exist"),
    (["predict", "RUN", "IMG", "--top-k", "0"], "`top_k` must be ≥ 1; got 0"),
])
def test_bad_input_is_one_line_on_stderr(trained, tmp_path, capsys, args, message):
    args = [str(trained / "run") if a == "RUN" else a for a in args]
    if "IMG" in args:
        Image.fromarray(np.zeros((8, 8), np.uint8)).save(tmp_path / "x.png")
        args = [str(tmp_path / "x.png") if a == "IMG" else a for a in args]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and err.count("\n") == 1


def test_resume_through_the_cli_and_a_mismatching_model(trained, tmp_path, capsys):
    spec = tmp_path / "m.json"
    spec.write_text(json.dumps(MODEL))
    assert main(["train", str(spec), "-d", "digits", "-e", "1", "-o", str(tmp_path / "r"), *FAST]) == 0
    assert main(["train", "--resume", str(tmp_path / "r"), "--epochs", "2", "--quiet"]) == 0
    assert json.loads((tmp_path / "r" / "config.json").read_text())["results"]["epochs_run"] == 2
    other = dict(MODEL, sequential=[dict(MODEL["sequential"][0], config=dict(MODEL["sequential"][0]["config"],
                                                                               filters=4))] + MODEL["sequential"][1:])
    spec.write_text(json.dumps(other))
    before = (tmp_path / "r" / "checkpoint.pt").read_bytes()
    capsys.readouterr()
    assert main(["train", str(spec), "--resume", str(tmp_path / "r"), "--epochs", "3", "--quiet"]) == 2
    assert "the model does not match the run being resumed" in capsys.readouterr().err
    assert (tmp_path / "r" / "checkpoint.pt").read_bytes() == before
    assert main(["train", "--resume", str(tmp_path / "r"), "--data", "mnist"]) == 2
    assert "`--data` 'mnist' differs from the run being resumed ('digits')" in capsys.readouterr().err


def test_a_zoo_model_trains_on_an_image_folder_with_its_own_class_count(tmp_path, capsys):
    rng = np.random.default_rng(0)
    for ci, cls in enumerate(["circle", "square", "blank"]):
        for i in range(8):
            img = rng.integers(0, 30, (40, 50, 3), dtype=np.uint8)
            if cls == "square":
                img[10:30, 15:35] = 255
            elif cls == "circle":
                yy, xx = np.mgrid[:40, :50]
                img[(yy - 20) ** 2 + (xx - 25) ** 2 < 100] = 255
            (tmp_path / "imgs" / cls).mkdir(parents=True, exist_ok=True)
            Image.fromarray(img).save(tmp_path / "imgs" / cls / f"{i}.png")
    assert main(["train", "lenet5", "--data", f"folder:{tmp_path / 'imgs'}", "-e", "2", "-o", str(tmp_path / "r"),
                 *FAST]) == 0
    cfg = json.loads((tmp_path / "r" / "config.json").read_text())
    assert cfg["data"]["classes"] == ["blank", "circle", "square"] and cfg["data"]["input_shape"] == [1, 28, 28]
    assert json.loads((tmp_path / "r" / "model.json").read_text()) == {"zoo": "lenet5", "kwargs": {"num_classes": 3}}
    assert main(["predict", str(tmp_path / "r"), str(tmp_path / "imgs" / "square" / "0.png"), "-f", "json"]) == 0
    top = json.loads(capsys.readouterr().out.splitlines()[-1])[0]["top"]
    assert {t["label"] for t in top} == {"blank", "circle", "square"}


def test_demo_builds_the_lecture_cnn_and_its_summary():
    from cnnlab.workflows import demo

    model, desc, input_shape = demo.demo_model()
    assert desc == {"zoo": "lecture_cnn", "kwargs": {}} and input_shape == (1, 28, 28)
    assert sum(p.numel() for p in model.parameters()) == 93_322
    text = demo.summary_text(model, input_shape)
    assert "93,322" in text and "[1, 64, 3, 3]" in text
    assert demo.DEMO_RECIPE["epochs"] <= 5
