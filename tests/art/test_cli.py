"""The `cnnlab dream` / `cnnlab style` commands: one-line errors (no weights needed)."""

from __future__ import annotations

from cnnlab.cli.app import main


def test_dream_bad_image_path(tmp_path, capsys):
    code = main(["dream", str(tmp_path / "missing.jpg"), "-o", str(tmp_path / "out.png")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.strip().count("\n") == 0 and "error: `image` file not found:" in err
    assert not (tmp_path / "out.png").exists()


def test_style_bad_style_path(tmp_path, capsys):
    code = main(["style", "skimage:chelsea", str(tmp_path / "nope.jpg"), "-o", str(tmp_path / "out.png")])
    assert code == 2
    assert "error: `style` file not found:" in capsys.readouterr().err


def test_unknown_model_lists_presets(tmp_path, capsys):
    code = main(["dream", "skimage:chelsea", "--model", "resnet1000", "-o", str(tmp_path / "o.png")])
    assert code == 2
    assert "unknown `model` 'resnet1000'; art presets: vgg16_bn, vgg16, mobilenet_v2, efficientnet_lite0" in capsys.readouterr().err


def test_random_weight_zoo_models_are_refused_and_run_folders_accepted(tmp_path, capsys):
    code = main(["dream", "skimage:chelsea", "--model", "resnet50", "-o", str(tmp_path / "o.png")])
    assert code == 2
    assert "`model` 'resnet50' has random weights (no offline pretrained weights); the art tools need a trained" \
        in capsys.readouterr().err
    import torch

    from cnnlab import data
    from cnnlab.art.presets import resolve_model
    from cnnlab.layers import Conv2D, Dense, Flatten, Sequential
    from cnnlab.train import fit

    torch.manual_seed(0)
    model = Sequential([Conv2D(4, 3, activation="relu"), Flatten(), Dense(10)], input_shape=(1, 8, 8))
    fit(model, data.load("digits").subset(train=64), epochs=1, out=tmp_path / "run", progress=False,
        precision="fp32", layout="nchw")
    art = resolve_model(str(tmp_path / "run"))
    assert art.dream_layers == ("conv2d",) and art.preprocess.to_config()["kind"] == "normalize"


def test_bad_optimizer(tmp_path, capsys):
    code = main(["style", "skimage:chelsea", "skimage:coffee", "--optimizer", "sgd", "-o", str(tmp_path / "o.png")])
    assert code == 2
    assert "`optimizer` must be one of lbfgs, adam; got 'sgd'" in capsys.readouterr().err


def test_bad_scales(tmp_path, capsys):
    code = main(["style", "skimage:chelsea", "skimage:coffee", "--scales", "half,1", "-o", str(tmp_path / "o.png")])
    assert code == 2
    assert "`--scales` must be comma-separated numbers like 0.25,0.5,1; got 'half,1'" in capsys.readouterr().err


def test_bad_precondition(tmp_path, capsys):
    code = main(["style", "skimage:chelsea", "skimage:coffee", "--precondition", "-0.5", "-o", str(tmp_path / "o.png")])
    assert code != 0
    assert "`precondition` must be a cutoff > 0 (fraction of the Nyquist frequency) or None; got -0.5" in capsys.readouterr().err
    assert not (tmp_path / "o.png").exists()
