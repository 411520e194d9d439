"""Run folders written before tasks and recorded preprocessing (cnnlab 0.1.0, commit fabe061) still load,
evaluate, predict, report and resume with the numbers that version gave (the fixture is a real run of it)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from cnnlab.cli.app import main

OLD = Path(__file__).parents[1] / "fixtures" / "run_v0_1"


@pytest.fixture
def old_run(tmp_path):
    dst = tmp_path / "run"
    shutil.copytree(OLD, dst)
    return dst


def test_old_run_evaluates_to_the_numbers_of_its_version(old_run, capsys):
    assert main(["evaluate", str(old_run), "--format", "json"]) == 0
    res = json.loads(capsys.readouterr().out)
    # `cnnlab evaluate` of cnnlab 0.1.0 on this run: 0.21727019498607242, loss 2.176834999020717
    assert res["accuracy"] == pytest.approx(0.21727019498607242, abs=1e-12)
    assert res["loss"] == pytest.approx(2.176834999020717, rel=1e-9)
    assert res["task"] == "classification" and res["n"] == 359


def test_old_run_predicts_reports_and_resumes(old_run, tmp_path, capsys):
    from cnnlab import data
    from cnnlab.train import fit, load_run

    x = data.load("digits").x_test[0, 0].numpy()
    png = tmp_path / "digit.png"
    Image.fromarray((x * 255).round().astype(np.uint8)).save(png)
    assert main(["predict", str(old_run), str(png), "--format", "json"]) == 0
    top = json.loads(capsys.readouterr().out)[0]["top"]
    run = load_run(old_run)
    cfg = json.loads((old_run / "config.json").read_text())["data"]
    img = torch.from_numpy(np.asarray(Image.open(png), dtype=np.float32) / 255.0)[None, None]
    with torch.no_grad():  # by hand: the data statistics the old fit normalised with
        probs = run.model((img - cfg["mean"][0]) / cfg["std"][0]).softmax(1)[0]
    assert top[0]["class"] == int(probs.argmax())
    assert top[0]["probability"] == pytest.approx(float(probs.max()), abs=1e-6)
    assert main(["report", str(old_run)]) == 0
    assert (old_run / "report.html").is_file()
    history = fit(load_run(old_run).model, data.load("digits"), resume=old_run, epochs=3, progress=False)
    assert [r["epoch"] for r in history.records] == [1, 2, 3]
