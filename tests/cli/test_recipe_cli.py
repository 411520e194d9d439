"""``cnnlab train --recipe NAME``: the recipe fills what the command leaves out; explicit values win."""

from __future__ import annotations

import json

import pytest

from cnnlab.cli.app import main
from cnnlab.errors import UnknownNameError
from cnnlab.workflows import recipes


def test_explicit_values_win_over_the_recipe():
    model, data, options = recipes.apply("fast", None, None, {"epochs": 1})
    assert (model, data) == ("lenet5", "mnist")
    assert options == {**recipes.get("fast").options, "epochs": 1}
    assert recipes.apply("FAST", "lecture_cnn", "digits", {})[:2] == ("lecture_cnn", "digits")


def test_unknown_recipe_is_a_one_line_error(capsys):
    with pytest.raises(UnknownNameError, match="unknown recipe 'quick'; known: fast"):
        recipes.get("quick")
    assert main(["train", "--recipe", "quick"]) != 0
    assert "unknown recipe 'quick'; known: fast" in capsys.readouterr().err


def test_fast_recipe_trains_its_model_with_its_schedule(tmp_path, capsys):
    # a small 28×28 dataset instead of MNIST keeps the test short; the rest is the recipe
    import torch

    from cnnlab import data

    g = torch.Generator().manual_seed(0)
    x, y = torch.rand(300, 1, 28, 28, generator=g), torch.randint(0, 10, (300,), generator=g)
    path = data.save_tensors(data.from_tensors(x[:200], y[:200], x[200:], y[200:], name="toy"), tmp_path / "toy.st")
    assert main(["train", "--recipe", "fast", "--data", f"tensors:{path}", "--epochs", "2", "--out",
                 str(tmp_path / "r"), "--quiet"]) == 0
    assert f"run saved to {tmp_path / 'r'} (2 epochs" in capsys.readouterr().out
    cfg = json.loads((tmp_path / "r" / "config.json").read_text())
    assert cfg["model"] == "lenet5"
    assert (cfg["fit"]["optimizer"], cfg["fit"]["lr"], cfg["fit"]["schedule"], cfg["fit"]["batch_size"],
            cfg["fit"]["epochs"]) == ("adam", 0.01, "onecycle", 128, 2)
