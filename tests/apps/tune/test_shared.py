"""Several processes on one study: distinct trials, none lost or duplicated (SQLite, journal file); a worker
killed with SIGKILL mid-trial loses only that trial, and the study stays readable and resumable."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import optuna
import pytest

from cnnlab.apps.tune import storage
from cnnlab.apps.tune.study import tune

from conftest import start_tune

SPACE = ["--param", "lr=loguniform:1e-3:1e-2", "--param", "dropout=uniform:0:0.5"]
FAST = ["--epochs", "1", "--pruner", "none", "--precision", "fp32", "--layout", "nchw", "--set", "batch_size=64", "--no-plots"]


def _url(kind: str, tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'shared.db'}" if kind == "sqlite" else f"journal:{tmp_path / 'shared.journal'}"


def _load(url: str, study="s"):
    return optuna.load_study(study_name=study, storage=storage.open_storage(url, heartbeat=1))


def _check_distinct(study, n: int) -> None:
    trials = study.get_trials()
    assert sorted(t.number for t in trials) == list(range(n))  # none lost, none twice
    assert all(t.state.name == "COMPLETE" for t in trials)
    folders = set()
    for t in trials:
        run = Path(t.user_attrs["run"])
        cfg = json.loads((run / "config.json").read_text())
        assert cfg["extra"]["trial"] == t.number and cfg["extra"]["params"] == t.params
        folders.add(run)
    assert len(folders) == n
    pids = {t.system_attrs[storage.WORKER_ATTR]["pid"] for t in trials}
    assert len(pids) == 2  # both processes really ran trials


@pytest.mark.parametrize("kind, how", [("sqlite", "workers"), ("journal", "workers"), ("journal", "commands")])
def test_two_processes_share_one_study(digits28, tmp_path, kind, how):
    url = _url(kind, tmp_path)
    common = ["lecture_cnn", "--data", digits28, *SPACE, *FAST, "--storage", url, "--study", "s"]
    if how == "workers":
        p = start_tune(*common, "--trials", 4, "--workers", 2, "--out", tmp_path / "a", log=tmp_path / "log")
        assert p.wait(timeout=1500) == 0, (tmp_path / "log").read_text()
    else:  # two commands at once on one storage: --trials is per command, so 2 + 2 = 4
        ps = [start_tune(*common, "--trials", 2, "--out", tmp_path / d, log=tmp_path / f"log-{d}") for d in "ab"]
        assert [p.wait(timeout=1500) for p in ps] == [0, 0], [(tmp_path / f"log-{d}").read_text() for d in "ab"]
    study = _load(url)
    _check_distinct(study, 4)
    assert len({t.params["lr"] for t in study.get_trials()}) == 4  # no two processes proposed the same trial


def _wait_mid_trial(url: str, proc, timeout=1200.0):  # generous: a loaded 2-core machine starts torch slowly
    """Wait until trial 0 is RUNNING with its first epoch reported and checkpointed (the kill lands mid-trial)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        assert proc.poll() is None, "the tuning process ended before it could be killed"
        try:
            trials = _load(url).get_trials()
        except Exception:  # noqa: BLE001 - the study may not exist yet
            trials = []
        if trials and trials[0].state.name == "RUNNING" and trials[0].intermediate_values and \
                (Path(trials[0].user_attrs["run"]) / "checkpoint.pt").exists():
            return
        time.sleep(0.5)
    raise AssertionError("trial 0 never reached its first epoch")


@pytest.mark.parametrize("kind", ["sqlite", "journal"])
def test_sigkill_mid_trial_loses_only_that_trial(digits28, tmp_path, kind):
    url = _url(kind, tmp_path)
    out = tmp_path / "k"
    proc = start_tune("lecture_cnn", "--data", digits28, *SPACE, "--epochs", "40", "--pruner", "none", "--precision",
                      "fp32", "--layout", "nchw", "--set", "batch_size=64", "--no-plots", "--storage", url,
                      "--study", "s", "--heartbeat", "1", "--trials", 3, "--out", out, log=tmp_path / "log")
    try:
        _wait_mid_trial(url, proc)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    study = _load(url)  # readable after the kill
    (killed,) = study.get_trials()
    assert killed.state.name == "RUNNING" and len(killed.intermediate_values) >= 1
    if kind == "sqlite":  # Optuna's heartbeat: silent for longer than the grace period (2 s) -> FAIL
        time.sleep(3.0)
        optuna.storages.fail_stale_trials(study)
    else:  # no heartbeat in the journal storage: the dead local process is noticed instead
        assert storage.fail_dead_local_trials(study) == [0]
    assert study.get_trials()[0].state.name == "FAIL"
    # resumable: the same command carries on with new trials; the killed trial's folder keeps its last epoch
    summary = tune("lecture_cnn", digits28, out=out, params=[SPACE[1], SPACE[3]], trials=2, epochs=1,
                   pruner="none", precision="fp32", layout="nchw", fixed={"batch_size": 64}, storage_url=url,
                   study="s", heartbeat=1, plots=False)
    assert summary["states"] == {"fail": 1, "complete": 2} and summary["best"]["trial"] in (1, 2)
    assert [t.number for t in _load(url).get_trials()] == [0, 1, 2]
    assert (Path(killed.user_attrs["run"]) / "checkpoint.pt").exists()


def test_a_killed_trial_is_failed_on_restart_without_waiting(digits28, tmp_path):
    """A RUNNING trial recorded by a process of this machine that no longer exists is failed when a command
    starts, before any heartbeat grace period (the journal storage has no heartbeat at all)."""
    url = _url("journal", tmp_path)
    st = optuna.create_study(study_name="s", storage=storage.open_storage(url), direction="maximize")
    trial = st.ask()
    dead = start_tune("--help", log=tmp_path / "log")
    dead.wait()
    st._storage.set_trial_system_attr(trial._trial_id, storage.WORKER_ATTR,
                                      {"host": os.uname().nodename, "pid": dead.pid})
    alive = st.ask()
    storage.mark_worker(alive)  # this process: alive, so left alone
    assert storage.fail_dead_local_trials(st) == [0]
    assert [t.state.name for t in st.get_trials()] == ["FAIL", "RUNNING"]


def test_tickets_hand_out_exactly_n(tmp_path):
    from cnnlab.apps.tune.study import claim_ticket

    path = tmp_path / "tickets"
    path.write_text("3")
    assert [claim_ticket(path) for _ in range(5)] == [True, True, True, False, False]
    assert path.read_text() == "0"
