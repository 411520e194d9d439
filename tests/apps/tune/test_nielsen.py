"""Nielsen's ladder: the expansion against np.roll, the rows' parameter counts by hand, his initialisation and L2
divisor, the ensemble's averaging and vote on hand-made outputs, and a tiny resumable ladder end to end."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from cnnlab.apps.tune import nielsen
from cnnlab.data import PixelShifts, expand_shifts
from cnnlab.data.augment import shift_images
from cnnlab.errors import ConfigError, UnknownNameError
from cnnlab.train.config import FitConfig
from cnnlab.train.optim import make_optimizer


def _roll_zero(img: np.ndarray, shift: int, axis: int) -> np.ndarray:
    """Nielsen's expand_mnist.py: np.roll, then the row/column that wrapped around set to 0."""
    out = np.roll(img, shift, axis)
    index = [slice(None)] * img.ndim
    index[axis] = 0 if shift > 0 else img.shape[axis] - 1
    out[tuple(index)] = 0
    return out


def test_shifts_match_expand_mnist():
    img = torch.rand(1, 1, 6, 5)
    ref = img[0, 0].numpy()
    cases = {(1, 0): _roll_zero(ref, 1, 0), (-1, 0): _roll_zero(ref, -1, 0),
             (0, 1): _roll_zero(ref, 1, 1), (0, -1): _roll_zero(ref, -1, 1)}
    for (dy, dx), want in cases.items():
        np.testing.assert_array_equal(shift_images(img, dy, dx)[0, 0].numpy(), want)
    assert torch.equal(shift_images(img, 0, 0), img)
    assert not shift_images(img, 6, 0).any()


def test_pixel_shifts_apply_the_drawn_shift_per_image():
    x = torch.rand(5, 1, 7, 7)
    rand = torch.tensor([0, 1, 2, 3, 4])
    out = PixelShifts(1).apply(x, rand)
    for i, (dy, dx) in enumerate([(0, 0), (1, 0), (-1, 0), (0, 1), (0, -1)]):
        assert torch.equal(out[i], shift_images(x[i:i + 1], dy, dx)[0])
    draws = PixelShifts().sample(5000, torch.Generator().manual_seed(0))
    counts = torch.bincount(draws, minlength=5)
    assert counts.min() > 900 and counts.max() < 1100  # five equally likely choices
    with pytest.raises(ValueError, match="expects \\(N, C, H, W\\)"):
        PixelShifts().apply(torch.rand(3, 7, 7), torch.zeros(3, dtype=torch.long))


def test_expand_shifts_is_five_copies_with_labels():
    x, y = torch.rand(4, 1, 8, 8), torch.tensor([0, 1, 2, 3])
    xs, ys = expand_shifts(x, y, seed=1)
    assert xs.shape == (20, 1, 8, 8) and torch.equal(torch.bincount(ys), torch.full((4,), 5))
    for i in range(4):  # the original and its four shifts are all there, with the right label
        mine = xs[ys == i]
        for dy, dx in [(0, 0), (1, 0), (-1, 0), (0, 1), (0, -1)]:
            want = shift_images(x[i:i + 1], dy, dx)[0]
            assert any(torch.equal(m, want) for m in mine)


@pytest.mark.parametrize("key, params", [
    ("shallow", 784 * 100 + 100 + 100 * 10 + 10),
    ("conv1", 20 * 25 + 20 + 20 * 12 * 12 * 100 + 100 + 1010),
    ("conv2", 520 + 40 * 20 * 25 + 40 + 640 * 100 + 100 + 1010),
    ("fc2", 520 + 20040 + 640 * 100 + 100 + 100 * 100 + 100 + 1010),
    ("dropout", 520 + 20040 + 640 * 1000 + 1000 + 1000 * 1000 + 1000 + 10010),
])
def test_rows_are_nielsens_networks(key, params):
    model = nielsen.build(key)
    assert sum(p.numel() for p in model.parameters()) == params
    assert model(torch.rand(2, 1, 28, 28)).shape == (2, 10)
    n_dropout = sum(isinstance(m, torch.nn.Dropout) for m in model.modules())
    assert n_dropout == (3 if key == "dropout" else 0)  # before each FC layer and the softmax, as p_dropout=0.5


def test_rows_are_in_the_books_order_of_improvement():
    books = [r.book for r in nielsen.ROWS]
    assert books == sorted(books) and books[0] == 97.80 and books[-1] == 99.67
    with pytest.raises(UnknownNameError, match="known: shallow"):
        nielsen.get_row("deeper")


def test_nielsen_init_follows_network3():
    model = nielsen.nielsen_init(nielsen.build("dropout"), torch.Generator().manual_seed(0))
    conv1, conv2, fc1, fc2, soft = [m for m in model.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))]
    assert conv1.weight.std().item() == pytest.approx(math.sqrt(1 / (20 * 25 / 4)), rel=0.1)
    assert conv2.weight.std().item() == pytest.approx(math.sqrt(1 / (40 * 25 / 4)), rel=0.05)
    assert fc1.weight.std().item() == pytest.approx(math.sqrt(1 / 1000), rel=0.02)
    assert fc2.bias.std().item() == pytest.approx(1.0, rel=0.1)
    assert not soft.weight.any() and not soft.bias.any()


def test_nielsen_l2_uses_his_divisor_and_spares_biases():
    row = nielsen.get_row("relu_l2")
    opts = nielsen.fit_options(row, "nielsen", seed=0)
    # cost + 0.5·λ·Σw²/num_batches on the batch-mean cost: gradient λ·w·batch/n
    assert opts["weight_decay"] == pytest.approx(0.1 * 10 / 50_000)
    assert nielsen.fit_options(nielsen.get_row("expanded"), "nielsen", 0)["weight_decay"] == pytest.approx(0.1 * 10 / 250_000)
    assert (opts["optimizer"], opts["momentum"], opts["batch_size"], opts["epochs"]) == ("sgd", 0.0, 10, 60)
    # one SGD step with zero gradients: weights shrink by lr·decay, biases stay
    layer = torch.nn.Linear(3, 2)
    w0, b0 = layer.weight.detach().clone(), layer.bias.detach().clone()
    cfg = FitConfig(optimizer="sgd", momentum=0.0, lr=0.5, weight_decay=0.1, decay_biases=False)
    opt = make_optimizer(list(layer.parameters()), cfg)
    for p in layer.parameters():
        p.grad = torch.zeros_like(p)
    opt.step()
    assert torch.allclose(layer.weight, w0 * (1 - 0.5 * 0.1)) and torch.equal(layer.bias, b0)
    modern = nielsen.fit_options(nielsen.get_row("expanded"), "modern", seed=3)
    assert isinstance(modern["augment"], PixelShifts) and modern["seed"] == 3 and not modern["decay_biases"]
    assert modern["monitor"] == "val_accuracy" and modern["restore_best_weights"]


def test_ensemble_averages_softmax_and_votes(tmp_path):
    y = torch.tensor([0, 1, 2])
    outputs = [
        [[0.9, 0.1, 0.0], [0.6, 0.4, 0.0], [0.0, 0.2, 0.8]],
        [[0.4, 0.6, 0.0], [0.45, 0.55, 0.0], [0.0, 0.6, 0.4]],
        [[0.4, 0.6, 0.0], [0.45, 0.55, 0.0], [0.0, 0.6, 0.4]],
    ]
    files = []
    for i, probs in enumerate(outputs):
        files.append(tmp_path / f"{i}.pt")
        torch.save(torch.tensor(probs).half(), files[-1])
    res = nielsen.ensemble_accuracy(files, y)
    # mean: [0.567, 0.433, 0] -> 0 (right); [0.5, 0.5, 0] -> 0 (wrong, tie to the lowest); [0, 0.467, 0.533] -> 2
    assert res["test_accuracy"] == pytest.approx(2 / 3)
    # votes: 1,1,0 -> 1 (wrong); 0,1,1 -> 1 (right); 2,1,1 -> 1 (wrong)
    assert res["vote_accuracy"] == pytest.approx(1 / 3) and res["members"] == 3


def test_bad_specs_are_one_line_errors():
    with pytest.raises(UnknownNameError, match="known: modern, nielsen"):
        nielsen.LadderSpec(recipes=("keras",))
    with pytest.raises(ConfigError, match="`seeds` must be an integer ≥ 1; got 0"):
        nielsen.LadderSpec(seeds=0)
    with pytest.raises(UnknownNameError, match="unknown ladder row"):
        nielsen.LadderSpec(rows=("shallow", "wide"))


@pytest.fixture(scope="module")
def tiny_digits(tmp_path_factory):
    """A 28×28 ten-class tensors file: 300 / 100 / 100 images of MNIST-like size (random, so tiny runs are quick)."""
    from cnnlab.data import from_tensors, save_tensors

    g = torch.Generator().manual_seed(0)
    split = {k: (torch.rand(n, 1, 28, 28, generator=g), torch.randint(0, 10, (n,), generator=g))
             for k, n in (("train", 300), ("val", 100), ("test", 100))}
    ds = from_tensors(*split["train"], *split["val"], *split["test"], name="tiny")
    return "tensors:" + str(save_tensors(ds, tmp_path_factory.mktemp("tiny") / "tiny.safetensors"))


def test_tiny_ladder_end_to_end_and_resumes(tmp_path, tiny_digits):
    spec = nielsen.LadderSpec(recipes=("modern",), rows=("shallow", "dropout", "ensemble"), seeds=2, ensemble_size=2,
                              workers=1, epochs_scale=0.03, data=tiny_digits)
    lines = []
    summary = nielsen.run_ladder(spec, tmp_path, log=lines.append)
    assert "6 to train" in lines[0]  # 2 shallow + 2 ensembles × 2 dropout networks
    by_row = {r["row"]: r for r in summary["rows"]}
    assert by_row["shallow"]["n"] == 2 and by_row["dropout"]["n"] == 4 and by_row["ensemble"]["n"] == 2
    # the ensemble of seed 1 is the dropout networks 2 and 3, recomputed here from their saved outputs
    from cnnlab.workflows.train import load_data_for

    y = load_data_for((1, 28, 28), tiny_digits).y_test
    probs = sum(torch.load(tmp_path / "runs" / f"modern-dropout-s{s}" / nielsen.PROBS_FILE).float() for s in (2, 3))
    assert by_row["ensemble"]["accuracies"][1] == pytest.approx(100 * float((probs.argmax(1) == y).float().mean()))
    stored = json.loads((tmp_path / "runs" / "modern-shallow-s1" / nielsen.RESULT_FILE).read_text())
    assert by_row["shallow"]["accuracies"][1] == pytest.approx(100 * stored["test_accuracy"])
    assert stored["epochs"] == 1 and stored["images"] == 300 and 0 <= stored["test_accuracy"] <= 1
    assert (tmp_path / "ladder.png").stat().st_size > 10_000
    assert "| modern | ensemble of 2 | 99.67 |" in (tmp_path / "ladder.md").read_text()
    lines.clear()
    again = nielsen.run_ladder(spec, tmp_path, log=lines.append)
    assert "6 already trained, 0 to train" in lines[0]
    assert [r["mean"] for r in again["rows"]] == [r["mean"] for r in summary["rows"]]


def test_nielsen_recipe_trains_on_the_stored_expansion_with_raw_pixels(tmp_path, tiny_digits):
    spec = nielsen.LadderSpec(recipes=("nielsen",), rows=("expanded",), seeds=1, workers=1, epochs_scale=0.01,
                              data=tiny_digits)
    summary = nielsen.run_ladder(spec, tmp_path, log=None)
    run = tmp_path / "runs" / "nielsen-expanded-s0"
    stored = json.loads((run / nielsen.RESULT_FILE).read_text())
    assert stored["images"] == 5 * 300 and stored["epochs"] == 1  # 60 epochs × 0.01 -> 1
    config = json.loads((run / "config.json").read_text())
    assert config["fit"]["batch_size"] == 10 and config["fit"]["weight_decay"] == pytest.approx(0.1 * 10 / 1500)
    assert config["data"]["mean"] == [0.0] and config["data"]["std"] == [1.0]  # his raw [0, 1] pixels
    assert summary["rows"][0]["book"] == 99.37


def test_cli_rejects_unknown_rows_and_recipes(tmp_path, capsys):
    from cnnlab.cli.app import main

    assert main(["experiment", "nielsen", "--out", str(tmp_path), "--row", "wide"]) == 2
    assert "unknown ladder row 'wide'; known: shallow" in capsys.readouterr().err
    assert main(["experiment", "nielsen", "--out", str(tmp_path), "--recipe", "keras"]) == 2
    assert "unknown recipe 'keras'" in capsys.readouterr().err
    assert main(["experiment", "nielsen", "--out", str(tmp_path / "x"), "--data", "nosuch"]) == 2
    assert "unknown dataset 'nosuch'" in capsys.readouterr().err
    assert main(["experiment", "nielsen", "--out", str(tmp_path / "x"), "--data", "digits"]) == 2
    assert "has 1×8×8 images but the model takes 1×28×28" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())  # nothing written before the errors
