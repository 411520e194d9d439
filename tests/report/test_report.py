"""The HTML report of a real (tiny) run folder: sections, embedded images, atomic write, lazy matplotlib."""

from __future__ import annotations

import base64
import io
import re
import subprocess
import sys

import pytest
from PIL import Image

from cnnlab.errors import ConfigError, DataError

SECTIONS = ["summary", "training", "evaluation", "mistakes", "filters", "featuremaps", "maximize", "attribution"]


def test_report_has_every_section_and_only_embedded_images(digits_report, digits_run):
    assert digits_report == digits_run / "report.html"
    text = digits_report.read_text(encoding="utf-8")
    for sid in SECTIONS:
        assert f'<section id="{sid}">' in text, sid
    srcs = re.findall(r'<img src="([^"]+)"', text)
    assert len(srcs) > 30
    for src in srcs:
        assert src.startswith("data:image/png;base64,")
        img = Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1])))
        img.load()
        assert img.width > 0 and img.height > 0
    assert "http://" not in text and "https://" not in text and "<script" not in text  # self-contained, static
    for heading in ("classes (logit), no prior", "with the L1 prior", "neurons of", "filters of",
                    "Grad-CAM", "guided backprop", "occlusion", "Most confident mistakes", "Accuracy on 300 test images"):
        assert heading in text, heading
    assert "conv2d_1" in text  # the analysis summary names the layers
    assert sorted(p.name for p in digits_run.iterdir() if p.name.startswith(".")) == []  # no temp file left


def test_report_numbers_match_the_model(digits_report, digits_run):
    import torch

    from cnnlab import data
    from cnnlab.train.runs import load_run

    run = load_run(digits_run)
    ds = data.load("digits")
    with torch.no_grad():
        acc = (run.model(run.normalize(ds.x_test[:300])).argmax(1) == ds.y_test[:300]).float().mean().item()
    assert f"<b>{acc:.2%}</b>" in digits_report.read_text(encoding="utf-8")


def test_importing_the_report_does_not_import_matplotlib():
    code = "import sys, cnnlab.report, cnnlab.report.html, cnnlab.pictures; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_report_errors(tmp_path, digits_run):
    from cnnlab.report import build_report, write_report

    with pytest.raises(DataError, match=r"run folder `.*nope` does not exist"):
        write_report(tmp_path / "nope")
    import torch

    with pytest.raises(ConfigError, match=r"`sections` must be among summary, .*; got charts"):
        build_report(torch.nn.Identity(), torch.zeros(1, 1, 8, 8), torch.zeros(1), sections=["charts"])
