"""``cnnlab verify`` and ``cnnlab scratch ...`` through the CLI entry point."""

from __future__ import annotations

import json

import numpy as np
import pytest

from cnnlab.cli.app import main


def _spec_or_skip():
    spec = pytest.importorskip("cnnlab.spec")
    from cnnlab import zoo

    if "lenet5" not in zoo.names():
        pytest.skip("zoo model lenet5 not registered")
    return spec


def test_verify_lenet5_passes_and_prints_the_table(capsys):
    _spec_or_skip()
    assert main(["verify", "lenet5"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split()[:4] == ["#", "layer", "type", "output"]
    assert [line.split()[1] for line in out[2:14]][:3] == ["features.0", "features.1", "features.2"]
    assert out[-1].endswith("PASS") and "torch float32" in out[-1]


def test_verify_json_float64_and_run_folder(tmp_path, capsys):
    spec = _spec_or_skip()
    assert main(["verify", "lecture_cnn", "--float64", "-b", "2", "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] and report["dtype"] == "float64" and len(report["layers"]) == 12
    assert max(max(layer["diffs"].values()) for layer in report["layers"]) < 1e-12
    # a JSON model description works as MODEL too
    path = tmp_path / "model.json"
    model = spec.build({"zoo": "lenet5", "kwargs": {}})
    spec.save(model, path)
    assert main(["verify", str(path), "-i", "1,28,28"]) == 0


def test_verify_errors_are_one_line(capsys):
    _spec_or_skip()
    assert main(["verify", "lenet5", "-i", "3,28,28"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: input shape (3, 28, 28) does not fit the model")
    assert main(["verify", "lenet5_classic"]) == 2
    assert "unsupported layer" in capsys.readouterr().err
    assert main(["verify", "lenet5", "--format", "xml"]) == 2
    assert "`--format` must be text or json" in capsys.readouterr().err


def test_verify_exits_1_beyond_tolerance(tmp_path, capsys, monkeypatch):
    # a model whose NumPy copy is wrong must make the command fail (exit status 1)
    spec = _spec_or_skip()
    import cnnlab.scratch.verify as bridge

    original = bridge.to_scratch

    def broken(model):
        names, net = original(model)
        net.layers[0].params["weight"] = net.layers[0].params["weight"] + 1e-2
        return names, net

    monkeypatch.setattr(bridge, "to_scratch", broken)
    path = tmp_path / "m.json"
    spec.save(spec.build({"zoo": "lenet5", "kwargs": {}}), path)
    assert main(["verify", str(path)]) == 1
    assert capsys.readouterr().out.splitlines()[-1].endswith("FAIL")


def test_scratch_worked_examples(capsys):
    assert main(["scratch", "edge"]) == 0
    out = capsys.readouterr().out
    assert "   -5   -4    0    8" in out and "  -3   -2   -3  -16" in out
    assert out.rstrip().endswith("= -5")
    assert main(["scratch", "learn-edge", "--steps", "60"]) == 0
    out = capsys.readouterr().out
    assert "max |learned − target|" in out and float(out.split("= ")[-1]) < 1e-6
    assert main(["scratch", "formulas"]) == 0
    out = capsys.readouterr().out
    assert "MISMATCH" not in out and "93,322" in out and "196,609,000" in out
    assert main(["scratch", "pooling"]) == 0
    out = capsys.readouterr().out
    assert "     0    3    0    4" in out and out.rstrip().endswith("pooling keeps the total gradient")
    assert main(["scratch", "vanishing", "--depth", "6"]) == 0
    out = capsys.readouterr().out.splitlines()
    gains = [float(line.split()[2]) for line in out[1:7]]
    assert len(gains) == 6 and max(gains) <= 0.25


def test_scratch_train_rejects_bad_options_before_loading_data(capsys):
    assert main(["scratch", "train", "-m", "alexnet", "--epochs", "1"]) == 2
    assert "unknown scratch model 'alexnet'; known: lecture_cnn, lenet5" in capsys.readouterr().err
    assert main(["scratch", "train", "--epochs", "0"]) == 2
    assert "`--epochs` and `--batch-size` must be ≥ 1; got 0, 64" in capsys.readouterr().err


def test_verify_a_run_folder_uses_its_weights(tmp_path, capsys):
    spec = _spec_or_skip()
    import torch
    from safetensors.torch import save_file

    model = spec.build({"zoo": "lenet5", "kwargs": {}})
    with torch.no_grad():
        model.classifier[0].weight.mul_(3.0)          # weights a fresh model would not have
    spec.save(model, tmp_path / "model.json")
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(tmp_path / "weights.safetensors"))
    assert main(["verify", str(tmp_path), "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ok"]
    # the copied weights are the trained ones: the dense layer's output scale reflects the ×3
    fresh = spec.build({"zoo": "lenet5", "kwargs": {}})
    from cnnlab.scratch.verify import to_scratch

    from cnnlab.bundle import resolve

    _, net = to_scratch(resolve(str(tmp_path)).model)
    assert np.allclose(net.layers[7].params["weight"], model.classifier[0].weight.detach().numpy())
    assert not np.allclose(net.layers[7].params["weight"], fresh.classifier[0].weight.detach().numpy())
