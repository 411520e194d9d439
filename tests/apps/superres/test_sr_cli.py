"""``cnnlab upscale`` and ``cnnlab sr eval``: sizes, colours, JSON, one-line errors; SR weight files."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from cnnlab import zoo
from cnnlab.apps.superres import upscale, weights
from cnnlab.cli import app as cli_app
from cnnlab.errors import CheckpointError, ConfigError

from conftest import needs_sr_data, synthetic_rgb


def _run(capsys, *argv):
    code = cli_app.main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def espcn_file(tmp_path):
    model = zoo.create("espcn", scale=2)
    return weights.save(model, tmp_path / "espcn_x2.safetensors", scale=2, channels="y", data="test")


def test_weight_file_round_trip(espcn_file):
    sr = weights.load(espcn_file)
    assert sr.scale == 2 and sr.channels == "y" and sr.meta["data"] == "test" and not sr.model.training
    again = weights.save(sr.model, espcn_file.with_name("b.safetensors"), scale=2, channels="y")
    x = torch.rand(1, 1, 6, 7)
    with torch.no_grad():
        torch.testing.assert_close(weights.load(again).model(x), sr.model(x), rtol=0, atol=0)
    with pytest.raises(ConfigError, match=r"model `.*espcn_x2.safetensors` was trained for ×2; got `scale` 3"):
        weights.resolve(espcn_file, 3)


def test_weight_file_errors(tmp_path):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json}      ")
    with pytest.raises(CheckpointError, match=r"`.*bad.safetensors` is not a safetensors file"):
        weights.load(bad)
    with pytest.raises(CheckpointError, match=r"SR weights `.*nope.safetensors` do not exist"):
        weights.load(tmp_path / "nope.safetensors")
    with pytest.raises(ConfigError, match=r"the default model upscales by 3; got `scale` 5"):
        weights.default_path(5)


def test_upscale_command_keeps_size_ratio_and_colours(tmp_path, capsys, espcn_file):
    src = tmp_path / "in.png"
    Image.fromarray(synthetic_rgb(30, 41)).save(src)
    code, out, err = _run(capsys, "upscale", str(src), "--scale", "2", "--model", str(espcn_file),
                          "-o", str(tmp_path / "out.png"), "--tile", "16")
    assert code == 0, err
    got = np.asarray(Image.open(tmp_path / "out.png"))
    assert got.shape == (60, 82, 3) and "espcn" in out
    # the same pixels as the library call without tiling
    ref = upscale.super_resolve(weights.load(espcn_file).model, synthetic_rgb(30, 41), 2, tile=1000)
    assert np.abs(got.astype(int) - ref.astype(int)).max() <= 1


def test_upscale_command_one_line_errors(tmp_path, capsys, espcn_file):
    not_image = tmp_path / "notes.txt"
    not_image.write_text("hello")
    code, _, err = _run(capsys, "upscale", str(not_image), "--scale", "2", "--model", str(espcn_file),
                        "-o", str(tmp_path / "o.png"))
    assert code == 2 and err.strip().count("\n") == 0 and "is not a readable image" in err
    img = tmp_path / "in.png"
    Image.fromarray(synthetic_rgb(8, 8)).save(img)
    code, _, err = _run(capsys, "upscale", str(img), "--scale", "4", "--model", str(espcn_file),
                        "-o", str(tmp_path / "o.png"))
    assert code == 2 and err.strip() == f"error: model `{espcn_file}` was trained for ×2; got `scale` 4"
    code, _, err = _run(capsys, "upscale", str(img), "--scale", "2", "--model", str(espcn_file),
                        "-o", str(tmp_path / "o.xyz"))
    assert code == 2 and "cannot write an image as `o.xyz`" in err
    assert not (tmp_path / "o.png").exists()


@needs_sr_data
def test_sr_eval_json_lists_images_and_bicubic(capsys, espcn_file):
    code, out, err = _run(capsys, "sr", "eval", str(espcn_file), "--format", "json")
    assert code == 0, err
    d = json.loads(out)
    assert d["scale"] == 2 and [s["name"] for s in d["images"]] == [f"img_00{i}" for i in range(1, 6)]
    assert round(d["mean"]["bicubic_psnr"], 2) == 33.67
    assert d["model"]["zoo"] == "espcn" and d["mean"]["psnr"] < d["mean"]["bicubic_psnr"]  # untrained
    code, out, _ = _run(capsys, "sr", "eval", "--bicubic", "--scale", "4")
    assert code == 0 and out.splitlines()[-1].split()[1] == "28.43"
