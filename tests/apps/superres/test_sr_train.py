"""Training through the core: ``cnnlab sr train`` writes a run folder whose PSNR rises; resume; eval of the run."""

from __future__ import annotations

import json

import pytest
import torch
from PIL import Image

from cnnlab.apps.superres import train as sr_train
from cnnlab.apps.superres import weights
from cnnlab.cli import app as cli_app
from cnnlab.errors import ConfigError

from conftest import synthetic_rgb


@pytest.fixture
def folder(tmp_path):
    d = tmp_path / "imgs"
    d.mkdir()
    for k in range(3):
        Image.fromarray(synthetic_rgb(40 + 4 * k, 48, seed=k)).save(d / f"im{k}.png")
    return d


def _history(run):
    return [json.loads(line) for line in (run / "history.jsonl").read_text().splitlines()]


def test_sr_train_psnr_rises_and_the_run_upscales(folder, tmp_path, capsys):
    run = tmp_path / "run"
    code = cli_app.main(["sr", "train", "--model", "espcn", "--scale", "2", "--data", str(folder), "--out", str(run),
                         "--epochs", "3", "--patch", "6", "--n-train", "256", "--n-val", "64", "--batch-size", "32",
                         "--lr", "3e-3", "--quiet"])
    err = capsys.readouterr().err
    assert code == 0, err
    hist = _history(run)
    psnr = [h["val_psnr"] for h in hist]
    assert len(psnr) == 3 and psnr[-1] > psnr[0] + 1.0, psnr  # from an untrained network, +1 dB at least
    extra = json.loads((run / "config.json").read_text())["extra"]
    assert extra["app"] == "superres" and extra["scale"] == 2 and extra["model"] == "espcn"
    sr = weights.resolve(run, 2)
    assert sr.scale == 2 and sr.channels == "y" and sr.model.upscale == 2
    # exported as one weight file: same model, provenance recorded
    assert cli_app.main(["sr", "export", str(run), "-o", str(tmp_path / "m.safetensors"), "--command", "cmd"]) == 0
    # the core's report draws this application's sections (Set5 table when Set5 is there, curves, filters)
    assert cli_app.main(["report", str(run)]) == 0
    page = (run / "report.html").read_text()
    assert "PSNR per epoch" in page and "First-layer filters" in page and "data:image/png;base64," in page
    if (run / "set5_psnr.csv").is_file():
        assert "Set5 ×2 (Y channel, 2-pixel border shaved)" in page and "33.67" in page
    exported = weights.load(tmp_path / "m.safetensors")
    assert exported.meta["command"] == "cmd" and exported.meta["data"] == str(folder)
    x = torch.rand(1, 1, 5, 6)
    with torch.no_grad():
        assert torch.equal(exported.model(x), sr.model(x))
    curve = (run / "set5_psnr.csv").read_text().splitlines() if (run / "set5_psnr.csv").is_file() else None
    if curve is not None:  # Set5 present: one row per epoch, bicubic ×2 beside
        assert curve[0] == "epoch,set5_psnr,bicubic_psnr" and [r.split(",")[0] for r in curve[1:]] == ["1", "2", "3"]
        assert curve[1].endswith(",33.6736")


def test_resume_continues_to_more_epochs(folder, tmp_path):
    run = tmp_path / "run"
    sr_train.train("fsrcnn", 2, str(folder), run, patch=6, n_train=128, n_val=32, epochs=1, batch_size=32,
                   progress=False)
    sr_train.train(resume=run, epochs=2, progress=False)
    assert [h["epoch"] for h in _history(run)] == [1, 2]


def test_unknown_model_is_refused():
    with pytest.raises(ConfigError, match=r"`--model` must be one of fsrcnn, espcn, espcn_residual, srcnn, srcnn_915, srcnn915; "
                                          r"got 'vdsr'"):
        sr_train.build_model("vdsr", 3)


def test_time_budget_stops_after_the_epoch_that_fits(monkeypatch):
    import time

    from cnnlab.train.callbacks import TimeBudget

    clock = iter([0.0, 10.0, 22.0, 35.0])  # train begins, then three epochs of 10, 12 and 13 s
    monkeypatch.setattr(time, "perf_counter", lambda: next(clock))

    class State:
        stop_training = False

    cb, state = TimeBudget(40.0), State()
    cb.on_train_begin(state)
    cb.on_epoch_end(state, {})  # 10 s + another 10 s fits in 40
    assert not state.stop_training
    cb.on_epoch_end(state, {})  # 22 + 12 = 34 fits
    assert not state.stop_training
    cb.on_epoch_end(state, {})  # 35 + 13 = 48 does not
    assert state.stop_training
    with pytest.raises(ConfigError, match=r"the time budget must be > 0 seconds; got 0"):
        TimeBudget(0)
