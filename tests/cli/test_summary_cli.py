"""``cnnlab summary MODEL``: zoo names and JSON descriptions, every format, options, one-line errors."""

from __future__ import annotations

import json

import pytest

from cnnlab.cli import app as cli_app
from cnnlab.cli.summary import parse_shape

zoo = pytest.importorskip("cnnlab.zoo")
spec = pytest.importorskip("cnnlab.spec")


def _run(capsys, *argv):
    code = cli_app.main(["summary", *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_json_prints_one_contract_document(capsys):
    code, out, _ = _run(capsys, "lecture_cnn", "--format", "json")
    assert code == 0
    d = json.loads(out)  # exactly one JSON document
    assert list(d) == ["model", "input_shape", "layers", "total_params", "trainable_params",
                       "non_trainable_params", "total_macs", "total_flops", "uncounted_ops"]
    assert d["model"] == "lecture_cnn" and d["input_shape"] == [1, 28, 28]
    assert d["total_params"] == 93_322 and d["total_macs"] == 2_794_240 and d["uncounted_ops"] == []
    convs = [layer for layer in d["layers"] if layer["type"] == "Conv2d"]
    assert [c["output_shape"] for c in convs] == [[1, 32, 26, 26], [1, 64, 11, 11], [1, 64, 3, 3]]
    assert sum(c["params"] for c in convs) == 55_744
    assert [c["receptive_field"] for c in convs] == [3, 8, 18]


def test_works_after_the_render_submodule_is_imported(capsys):
    import cnnlab.analysis.render  # noqa: F401  (once shadowed a lazy `render` function)

    code, out, _ = _run(capsys, "lecture_cnn", "-f", "json")
    assert code == 0 and json.loads(out)["total_params"] == 93_322


def test_text_markdown_html(capsys):
    code, text, _ = _run(capsys, "lecture_cnn")
    assert code == 0 and text.startswith('Model: "lecture_cnn"') and "Total MACs:" in text
    _, md, _ = _run(capsys, "lecture_cnn", "-f", "markdown")
    assert md.startswith("### Model `lecture_cnn`") and "| Layer (type) |" in md
    _, page, _ = _run(capsys, "lecture_cnn", "--format", "html")
    assert page.startswith('<div class="cnnlab-summary">') and "<table>" in page


def test_input_shape_and_depth_options(capsys):
    _, out, _ = _run(capsys, "resnet18", "--depth", "1", "-f", "json", "--input-shape", "3,64,64")
    d = json.loads(out)
    assert d["input_shape"] == [3, 64, 64] and d["layers"][0]["output_shape"] == [1, 64, 32, 32]
    assert [layer["name"] for layer in d["layers"]][:5] == ["conv1", "bn1", "relu", "maxpool", "layer1"]
    assert sum(layer["macs"] for layer in d["layers"]) == d["total_macs"]


def test_json_description_file(capsys, tmp_path):
    path = tmp_path / "model.json"
    spec.save(zoo.create("lenet5"), path)
    code, out, _ = _run(capsys, str(path), "-f", "json")
    assert code == 0 and json.loads(out)["total_params"] == 61_706


def test_run_folder(capsys, tmp_path):
    spec.save(zoo.create("lecture_cnn"), tmp_path / "model.json")  # a run folder holds model.json
    code, out, _ = _run(capsys, str(tmp_path), "-f", "json")
    assert code == 0 and json.loads(out)["total_macs"] == 2_794_240


def test_profile_adds_time_columns(capsys):
    code, out, _ = _run(capsys, "lecture_cnn", "--profile")
    assert code == 0 and "Fwd ms" in out and "Bwd ms" in out and "matmul peak" in out


@pytest.mark.parametrize("argv, message", [
    (["lecture_cnn", "--format", "pdf"], "error: `--format` must be one of text, markdown, json, html; got 'pdf'\n"),
    (["lecture_cnn", "--input-shape", "a,b"],
     "error: `--input-shape` must be positive ints separated by commas, e.g. 3,224,224; got 'a,b'\n"),
    (["lecture_cnn", "--input-shape", "28,28"],
     "error: `input_shape` must have 3 axes (C, H, W) for layer 'conv2d' (Conv2d); it received (1, 28, 28), "
     "batch axis included\n"),
    (["no_such_model"], "error: MODEL 'no_such_model' is not a zoo name"),
    (["lecture_cnn", "--input-shape", "1,32,32"],
     "error: `input_shape` (1, 32, 32) does not fit the model: layer 'dense' (Linear) raised RuntimeError: "
     "mat1 and mat2 shapes cannot be multiplied (1x1024 and 576x64)\n"),
])
def test_errors_are_one_line(capsys, argv, message):
    code, out, err = _run(capsys, *argv)
    assert code == 2 and out == ""
    assert err.startswith(message) and err.count("\n") == 1


def test_parse_shape():
    assert parse_shape("3,224,224") == parse_shape("3x224x224") == parse_shape(" 3, 224 ,224 ") == (3, 224, 224)
