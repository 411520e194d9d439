"""`cnnlab train --task regression` on image pairs saved as `tensors:FILE`, then evaluate, report and resume:
the CLI path of the regression task (the report shows PSNR, not accuracy)."""

from __future__ import annotations

import json

import pytest
import torch
import torch.nn.functional as F

from cnnlab import data
from cnnlab.cli.app import main


@pytest.fixture(scope="module")
def pairs(tmp_path_factory):
    g = torch.Generator().manual_seed(0)
    hr = F.avg_pool2d(torch.rand(80, 1, 22, 22, generator=g), 7, stride=1)  # smooth 16×16 images
    hr = (hr - hr.amin()) / (hr.amax() - hr.amin())
    lr = F.interpolate(F.avg_pool2d(hr, 2), scale_factor=2, mode="bilinear", align_corners=False)
    ds = data.from_tensors(lr[:48], hr[:48], lr[48:64], hr[48:64], lr[64:], hr[64:], name="pairs")
    path = tmp_path_factory.mktemp("d") / "pairs.safetensors"
    data.save_tensors(ds, path)
    return path


def test_tensors_file_round_trip(pairs):
    ds = data.load(f"tensors:{pairs}")
    assert ds.name == f"tensors:{pairs}" and ds.y_train.shape == (48, 1, 16, 16) and ds.classes == []
    assert ds.mean == pytest.approx(data.channel_stats(ds.x_train)[0])


def test_train_regression_from_the_cli_then_evaluate_report_resume(pairs, tmp_path, capsys):
    run = tmp_path / "run"
    args = ["train", "srcnn", "--data", f"tensors:{pairs}", "--task", "regression", "--epochs", "3",
            "--batch-size", "16", "--lr", "1e-3", "--precision", "fp32", "--layout", "nchw", "--out", str(run), "-q"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "val loss" in out and "psnr" in out and "test loss" in out and "accuracy" not in out
    history = [json.loads(line) for line in (run / "history.jsonl").read_text().splitlines()]
    assert history[-1]["val_psnr"] > history[0]["val_psnr"]
    assert main(["evaluate", str(run), "--format", "json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["task"] == "regression" and "accuracy" not in res and res["psnr"] > 10
    assert main(["report", str(run)]) == 0
    html = (run / "report.html").read_text()
    assert "PSNR" in html and "confusion" not in html.lower()
    assert main(["train", "--resume", str(run), "--epochs", "4", "-q"]) == 0
    assert len((run / "history.jsonl").read_text().splitlines()) == 4
    assert main(["train", "--resume", str(run), "--task", "embedding", "--epochs", "5", "-q"]) == 2
    assert "`--task` 'embedding' differs from the run being resumed ('regression')" in capsys.readouterr().err


def test_unknown_task_is_a_one_line_error(pairs, capsys):
    assert main(["train", "srcnn", "--data", f"tensors:{pairs}", "--task", "segmentation", "--epochs", "1"]) == 2
    assert "unknown `task` 'segmentation'; expected one of: classification" in capsys.readouterr().err
    assert main(["train", "srcnn", "--data", "tensors:/nope.safetensors", "--task", "regression"]) == 2
    assert "`/nope.safetensors` does not exist" in capsys.readouterr().err
