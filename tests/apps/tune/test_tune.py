"""A study end to end in one process: pruning through fit's callback, the best trial chosen on validation and
evaluated once on test, the summary's numbers recomputed from the run folders, plots, report, CLI errors."""

from __future__ import annotations

import csv
import json
import shlex
from pathlib import Path

import optuna
import pytest
import torch

from cnnlab import data, zoo
from cnnlab.apps.tune import objective, storage
from cnnlab.apps.tune.study import tune
from cnnlab.cli import app as cli_app
from cnnlab.errors import ConfigError
from cnnlab.train import fit


def _run(capsys, *argv):
    code = cli_app.main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


class FakeTrial:
    """Prunes from epoch ``at`` on; records what was reported."""

    def __init__(self, at):
        self.at, self.reported = at, []

    def report(self, value, step):
        self.reported.append((step, value))

    def should_prune(self):
        return len(self.reported) >= self.at


def test_report_and_prune_stops_fit_after_that_epoch(digits28):
    ds = data.load(digits28)
    trial = FakeTrial(at=2)
    cb = objective.ReportAndPrune(trial, "val_accuracy")
    history = fit(zoo.create("lecture_cnn"), ds, epochs=5, batch_size=64, progress=False, callbacks=[cb],
                  precision="fp32", layout="nchw")
    assert len(history) == 2 and cb.pruned_at == 2 and history.stop_reason == "callback"
    assert trial.reported == [(1, history["val_accuracy"][0]), (2, history["val_accuracy"][1])]


def _history(run: Path) -> list[dict]:
    with open(run / "history.csv") as f:
        return list(csv.DictReader(f))


def test_pruning_prunes_trials_that_cannot_learn(digits28, tmp_path):
    """SGD at lr 1e-7 stays at chance; after one trial at lr 0.05 completes, the median pruner must stop every
    lr 1e-7 trial after its first epoch (n_warmup_steps=1 counts epochs from 1), and the summary's saving must be what the folders say."""
    out = tmp_path / "study"
    out.mkdir()
    url = storage.resolve_url(None, out)
    st = optuna.create_study(study_name="prune", storage=url, direction="maximize")
    for lr in (0.05, 1e-7, 1e-7, 0.05, 1e-7):
        st.enqueue_trial({"lr": lr})
    summary = tune("lecture_cnn", digits28, out=out, params=["lr=choice:0.05,1e-7"], trials=5, epochs=4,
                   fixed={"optimizer": "sgd", "batch_size": 64}, pruner="median", startup_trials=1,
                   study="prune", precision="fp32", layout="nchw", plots=False)
    trials = optuna.load_study(study_name="prune", storage=url).trials
    states = [(t.params["lr"], t.state.name) for t in trials]
    assert states == [(0.05, "COMPLETE"), (1e-7, "PRUNED"), (1e-7, "PRUNED"), (0.05, "COMPLETE"), (1e-7, "PRUNED")]
    epochs_run = []
    for t in trials:
        rows = _history(Path(t.user_attrs["run"]))
        epochs_run.append(len(rows))
        assert [round(float(r["val_accuracy"]), 6) for r in rows] == \
            [round(v, 6) for _, v in sorted(t.intermediate_values.items())]
    assert epochs_run == [4, 1, 1, 4, 1]
    assert summary["trial_epochs_run"] == 11 and summary["trial_epochs_planned"] == 20
    assert summary["pruned_epoch_fraction"] == pytest.approx(1 - 11 / 20)


def test_best_trial_is_chosen_on_validation_and_tested_once(digits28, tmp_path):
    out = tmp_path / "t"
    summary = tune("lecture_cnn", digits28, out=out, trials=3, epochs=2, pruner="none", startup_trials=3,
                   params=["lr=loguniform:1e-3:3e-2", "dropout=uniform:0:0.4", "width=choice:0.5,1"],
                   precision="fp32", layout="nchw")
    st = optuna.load_study(study_name="cnnlab", storage=storage.resolve_url(None, out))
    # the value of each trial is the best validation accuracy in its history; the best trial the highest
    vals = {}
    for t in st.trials:
        run = Path(t.user_attrs["run"])
        vals[t.number] = max(float(r["val_accuracy"]) for r in _history(run))
        assert t.value == pytest.approx(vals[t.number], abs=1e-6)
        cfg = json.loads((run / "config.json").read_text())
        assert cfg["extra"]["trial"] == t.number and cfg["fit"]["lr"] == pytest.approx(t.params["lr"])
        assert json.loads((run / "model.json").read_text())["kwargs"]["width"] == t.params["width"]
    best = max(vals, key=vals.get)
    assert summary["best"]["trial"] == best and summary["best"]["kept"]
    # its test accuracy, recomputed by hand from the kept weights
    from cnnlab.train import load_run

    run = load_run(st.trials[best].user_attrs["run"])
    ds = data.load(digits28)
    with torch.no_grad():
        x = (ds.x_test - torch.tensor(ds.mean).view(1, -1, 1, 1)) / torch.tensor(ds.std).view(1, -1, 1, 1)
        acc = (run.model(x).argmax(1) == ds.y_test).float().mean().item()
    assert summary["best"]["test"]["accuracy"] == pytest.approx(acc, abs=1e-6)
    # plots are PNG files, the report holds the retrain command and the plots inline
    for name in ("history", "intermediate", "parallel", "importance", "slice"):
        assert Path(summary["plots"][name]["path"]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    html = Path(summary["report"]).read_text()
    assert "cnnlab train" in html and html.count("data:image/png;base64,") == 5 and "<script" not in html
    # the retrain command trains the same model description with the best options
    argv = shlex.split(summary["best"]["command"])
    assert argv[:3] == ["cnnlab", "train", str(out.resolve() / "best-model.json")]
    assert json.loads((out / "best-model.json").read_text()) == \
        {"zoo": "lecture_cnn", "kwargs": {"width": st.trials[best].params["width"],
                                          "dropout": st.trials[best].params["dropout"], "num_classes": 10}}
    assert float(argv[argv.index("--lr") + 1]) == st.trials[best].params["lr"]
    # a second command on the same study adds its trials (n_trials per command)
    again = tune("lecture_cnn", digits28, out=out, trials=2, epochs=2, pruner="none", startup_trials=3,
                 params=["lr=loguniform:1e-3:3e-2", "dropout=uniform:0:0.4", "width=choice:0.5,1"],
                 precision="fp32", layout="nchw", plots=False)
    assert again["trials"] == 5 and again["states"] == {"complete": 5}


def test_retrain_seeds_reports_mean_and_std(digits28, tmp_path):
    summary = tune("lecture_cnn", digits28, out=tmp_path, trials=1, epochs=1, pruner="none",
                   params=["lr=loguniform:1e-3:3e-3"], precision="fp32", layout="nchw", retrain_seeds=2, plots=False)
    runs = summary["best"]["retrained"]
    acc = [r["test"]["accuracy"] for r in runs]
    assert [r["seed"] for r in runs] == [1, 2]
    assert summary["best"]["test"]["accuracy_mean"] == pytest.approx(sum(acc) / 2)
    assert summary["best"]["test"]["accuracy_std"] == pytest.approx(abs(acc[0] - acc[1]) / 2 ** 0.5)


def test_cli_runs_and_prints_the_summary(digits28, tmp_path, capsys):
    code, out, err = _run(capsys, "tune", "lecture_cnn", "--data", digits28, "--trials", "2", "--epochs", "1",
                          "--param", "lr=loguniform:1e-3:1e-2", "--set", "batch_size=64", "--pruner", "none",
                          "--precision", "fp32", "--layout", "nchw", "--out", tmp_path / "c")
    assert code == 0, err
    assert "study cnnlab: 2 trials (2 complete)" in out and "test accuracy" in out and "retrain: cnnlab train" in out
    assert out.count("[w0] trial ") == 2


@pytest.mark.parametrize("args, message", [
    (["--param", "lr=loguniform:0:1"], r"^error: `--param lr=loguniform:0:1`: a log scale needs LOW > 0; got 0$"),
    (["--param", "lr=uniform:1e-3:1e-2", "--metric", "val_f1"],
     r"^error: `--metric` must be a validation metric of the classification task \(val_loss, val_accuracy.*got 'val_f1'$"),
    (["--param", "lr=uniform:1e-3:1e-2", "--metric", "accuracy"], r"^error: `--metric` must be a validation metric"),
    (["--param", "lr=uniform:1e-3:1e-2", "--pruner", "bogus"], r"^error: `--pruner` must be one of median, "),
    (["--param", "lr=uniform:1e-3:1e-2", "--storage", "nowhere"], r"^error: `--storage` must be a database URL"),
    (["--param", "lr=uniform:1e-3:1e-2", "--direction", "up"], r"^error: `--direction` must be maximize or minimize"),
    (["--param", "lr=uniform:1e-3:1e-2", "--workers", "0"], r"^error: `--workers` must be an integer ≥ 1; got 0$"),
])
def test_cli_errors_are_one_line(digits28, tmp_path, capsys, args, message):
    code, out, err = _run(capsys, "tune", "lecture_cnn", "--data", digits28, "--trials", "1", *args,
                          "--out", tmp_path / "e")
    assert code == 2 and "\n" not in err.strip()
    assert pytest.importorskip("re").search(message, err.strip()), err


def test_model_and_data_must_fit(tmp_path):
    with pytest.raises(Exception, match=r"dataset 'digits' has 1×8×8 images but the model takes 1×28×28"):
        tune("lecture_cnn", "digits", out=tmp_path, trials=1, params=["lr=uniform:1e-3:1e-2"], plots=False)


def test_any_module_factory_can_be_tuned(digits28, tmp_path):
    def tiny(hidden=8):
        return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, hidden), torch.nn.ReLU(),
                                   torch.nn.Linear(hidden, 10))

    summary = tune(tiny, digits28, out=tmp_path, trials=2, epochs=1, pruner="none",
                   params=["hidden=choice:4,16", "lr=loguniform:1e-3:1e-2"], precision="fp32", layout="nchw",
                   plots=False)
    assert summary["complete"] == 2 and 0 <= summary["best"]["test"]["accuracy"] <= 1
    with pytest.raises(ConfigError, match=r"`workers` > 1 needs a zoo model name"):
        tune(tiny, digits28, out=tmp_path, trials=2, workers=2, params=["hidden=choice:4,16"])
