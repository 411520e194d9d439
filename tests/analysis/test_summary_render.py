"""Renderers: the golden text table of the lecture CNN, markdown, the JSON contract, self-contained HTML.

Regenerate the golden file only on purpose: ``CNNLAB_UPDATE_GOLDEN=1 pytest tests/analysis``.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from analysis_nets import lecture_cnn, resnet50
from cnnlab.analysis import summary
from cnnlab.analysis.records import CONTRACT_KEYS, LAYER_KEYS, Summary
from cnnlab.analysis.render import render, to_html, to_json, to_markdown, to_text
from cnnlab.errors import ConfigError

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "summary_lecture_cnn.txt"


@pytest.fixture(scope="module")
def lecture():
    return summary(lecture_cnn(), (1, 28, 28), name="lecture_cnn")


def test_text_table_matches_golden(lecture):
    text = to_text(lecture)
    if os.environ.get("CNNLAB_UPDATE_GOLDEN"):
        GOLDEN.write_text(text, encoding="utf-8")
    assert text == GOLDEN.read_text(encoding="utf-8")


def test_text_table_reads_like_keras(lecture):
    lines = str(lecture).splitlines()
    assert lines[0] == 'Model: "lecture_cnn"'
    header = lines[2]
    for col in ("Layer (type)", "Output Shape", "Param #", "Kernel", "MACs", "FLOPs", "RF", "Jump", "Start"):
        assert col in header
    row = next(line for line in lines if line.startswith("3 (Conv2d)"))
    assert re.search(r"\[1, 64, 11, 11\]\s+18,496\s+3x3 s1 p0\s+2,230,272\s+4,460,544\s+8\s+2\s+4", row)
    assert "Total params:                      93,322" in lines
    assert any(line.startswith("Total MACs:") and "2,794,240" in line for line in lines)
    assert any(line.startswith("Uncounted ops:") and line.endswith("none") for line in lines)


def test_merged_fields_are_starred():
    import torch

    with torch.device("meta"):
        s = summary(resnet50(True), (3, 224, 224), depth=1)
    row = next(line for line in str(s).splitlines() if line.startswith("layer4 (Sequential)"))
    assert " 483*" in row


def test_json_has_exactly_the_contract_keys(lecture):
    d = json.loads(to_json(lecture))
    assert tuple(d) == CONTRACT_KEYS
    assert d["model"] == "lecture_cnn" and d["input_shape"] == [1, 28, 28]
    assert (d["total_params"], d["trainable_params"], d["non_trainable_params"]) == (93_322, 93_322, 0)
    assert d["total_macs"] == 2_794_240 and d["total_flops"] == lecture.total_flops
    assert d["uncounted_ops"] == []
    for layer in d["layers"]:
        assert tuple(layer) == LAYER_KEYS
    first = d["layers"][0]
    assert {k: first[k] for k in ("name", "type", "output_shape", "params", "trainable_params", "macs",
                                  "flops", "receptive_field", "jump")} == {
        "name": "0", "type": "Conv2d", "output_shape": [1, 32, 26, 26], "params": 320,
        "trainable_params": 320, "macs": 194_688, "flops": 389_376, "receptive_field": 3, "jump": 1}
    ext = json.loads(to_json(lecture, extended=True))
    assert set(CONTRACT_KEYS) < set(ext)
    assert ext["forward_backward_bytes"] == 2 * ext["activation_bytes"] and ext["batch_size"] == 1


def test_json_round_trip_renders_the_same(lecture):
    again = Summary.from_dict(json.loads(to_json(lecture, extended=True)))
    assert to_text(again) == to_text(lecture)
    assert to_markdown(again) == to_markdown(lecture)


def test_markdown_table(lecture):
    md = to_markdown(lecture).splitlines()
    assert md[0] == "### Model `lecture_cnn`"
    assert md[2].startswith("| Layer (type) | Output Shape | Param # |")
    assert md[3].startswith("|:---|:---|---:|")
    assert md[4] == ("| 0 (Conv2d) | [1, 32, 26, 26] | 320 | 3x3 s1 p0 | 194,688 | 389,376 | 3 | 1 | 1.5 "
                     "| 84.50 KiB |")
    assert sum(1 for line in md if line.startswith("| ")) == 1 + len(lecture.layers)
    assert "- **Total params**: 93,322" in md


def test_html_is_self_contained_and_escaped():
    s = summary(lecture_cnn(), (1, 28, 28), name="<script>alert(1)</script>")
    page = to_html(s)
    assert page.startswith('<div class="cnnlab-summary"><style>')
    assert "<script" not in page and "&lt;script&gt;" in page
    for external in ("src=", "href=", "@import", "url("):
        assert external not in page
    assert page.count("<tr") == 1 + len(s.layers)
    assert "<td class=\"num\">2,230,272</td>" in page
    full = to_html(s, full_page=True)
    assert full.startswith("<!doctype html>") and page.strip() in full


def test_render_dispatch_and_unknown_format(lecture):
    assert render(lecture, "text") == str(lecture) == lecture.render()
    assert render(lecture, "json") == to_json(lecture)
    with pytest.raises(ConfigError, match=r"`format` must be one of text, markdown, json, html; got 'pdf'"):
        render(lecture, "pdf")


def test_renderers_never_import_torch(lecture, tmp_path):
    path = tmp_path / "s.json"
    path.write_text(to_json(lecture, extended=True))
    code = ("import json, sys; from cnnlab.analysis.records import Summary; "
            "from cnnlab.analysis.render import render; "
            f"s = Summary.from_dict(json.load(open({str(path)!r}))); "
            "[render(s, f) for f in ('text', 'markdown', 'json', 'html')]; "
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_layer_lookup_error(lecture):
    with pytest.raises(KeyError, match="no layer named 'nope'"):
        lecture.layer("nope")


def test_human_numbers():
    from cnnlab.analysis.render import human, human_bytes

    assert (human(2_794_240, "MACs"), human(32, "MACs"), human(1.5e9)) == ("2.79 MMACs", "32 MACs", "1.50 G")
    assert (human_bytes(1536), human_bytes(100), human_bytes(3 * 2**20)) == ("1.50 KiB", "100 B", "3.00 MiB")
