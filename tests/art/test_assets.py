"""One test per offline weight file (skipped with the install command when the asset is missing)."""

from __future__ import annotations

import pytest
import torch

from cnnlab.art.images import load_image
from cnnlab.cli.app import main
from cnnlab.errors import MissingDependencyError

pytestmark = pytest.mark.assets

STARRY = "/usr/share/doc/opencv-doc/examples/data/starry_night.jpg"


def _preset(name):
    from cnnlab.art.presets import resolve_model

    try:
        return resolve_model(name)
    except MissingDependencyError as exc:
        pytest.skip(str(exc))


def _style_image():
    import os

    if not os.path.exists(STARRY):
        pytest.skip("Starry Night is not installed: apt-get install opencv-doc")
    return STARRY


def test_mobilenet_v2_dream_cli(tmp_path, capsys):
    _preset("mobilenet_v2")
    out = tmp_path / "dream.png"
    code = main(["dream", "skimage:chelsea", "--octaves", "2", "--steps", "3", "--max-side", "96", "-o", str(out)])
    assert code == 0, capsys.readouterr().err
    img = load_image(out)
    assert img.shape == load_image("skimage:chelsea").shape  # full size kept despite --max-side
    text = capsys.readouterr().out
    before, after = (float(v) for v in text.split("objective ")[1].split(" at full")[0].split(" -> "))
    assert after > before


def test_efficientnet_lite0_dream_objective_rises():
    from cnnlab.art.dream import dream

    art = _preset("efficientnet_lite0")
    r = dream(load_image("skimage:astronaut", max_side=96), art, octaves=1, steps=4, jitter=0, seed=0)
    assert all(b > a for a, b in zip(r.objective[0], r.objective[0][1:])), r.objective


def test_vgg16_bn_easyocr_style_cli(tmp_path, capsys):
    _preset("vgg16_bn")
    out = tmp_path / "style.png"
    code = main(["style", "skimage:chelsea", _style_image(), "--size", "64", "--steps", "12", "-o", str(out)])
    assert code == 0, capsys.readouterr().err
    assert load_image(out).shape == (1, 3, 43, 64)
    assert (tmp_path / "style.loss.png").stat().st_size > 1000
    rows = (tmp_path / "style.loss.csv").read_text().splitlines()
    assert rows[0] == "step,height,width,content,style,tv,total" and len(rows) >= 12


def test_vgg16_hed_style_loss_falls():
    from cnnlab.art.style import style_transfer

    art = _preset("vgg16")
    assert art.preprocess.bgr and art.preprocess.scale == 255.0  # Caffe preprocessing
    r = style_transfer("skimage:chelsea", _style_image(), art, size=64, steps=16, scales=(1.0,))
    fine = [h.style for h in r.history]
    assert min(fine[-3:]) < fine[0] / 2
    assert torch.isfinite(r.image).all()
