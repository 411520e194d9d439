"""A real PostgreSQL server as the shared storage: started by the test (``initdb`` + ``pg_ctl`` on a Unix socket
in a temporary folder, no TCP), two worker processes run distinct trials on it, the server is stopped after.

Needs the Debian ``postgresql`` server binaries (``scripts/setup.sh`` installs them) and the ``psycopg2`` driver
(``pip install psycopg2-binary``). ``initdb`` refuses to run as root, so as root the server runs as ``nobody``.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import optuna
import pytest

from cnnlab.apps.tune import storage

from conftest import start_tune


def _bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


def _as_server_user(cmd: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return cmd
    runuser = shutil.which("runuser")
    if runuser is None:
        pytest.skip("running as root and no `runuser` to start PostgreSQL as an unprivileged user")
    return [runuser, "-u", "nobody", "--", *cmd]


@pytest.fixture
def postgres_url():
    initdb, pg_ctl = _bin("initdb"), _bin("pg_ctl")
    if initdb is None or pg_ctl is None:
        pytest.skip("PostgreSQL server binaries not found; install them with: apt-get install -y postgresql")
    pytest.importorskip("psycopg2", reason="PostgreSQL driver missing; install it with: pip install psycopg2-binary")
    root = Path(tempfile.mkdtemp(prefix="cnnlab-pg-"))  # short path: a socket path has a 107-byte limit
    data, sock = root / "data", root / "sock"
    sock.mkdir()
    if os.geteuid() == 0:
        for p in (root, sock):
            os.chown(p, 65534, 65534)
    port = "54329"
    try:
        run = subprocess.run(_as_server_user([initdb, "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                                              "--no-sync"]), capture_output=True, text=True, timeout=120)
        if run.returncode != 0:
            pytest.skip(f"initdb failed here: {run.stderr.strip().splitlines()[-1] if run.stderr.strip() else run.returncode}")
        opts = f"-k {sock} -c listen_addresses='' -p {port} -c fsync=off"
        start = subprocess.run(_as_server_user([pg_ctl, "-D", str(data), "-o", opts, "-l", str(root / "server.log"),
                                                "-w", "-t", "60", "start"]), capture_output=True, text=True, timeout=120)
        assert start.returncode == 0, start.stderr + (root / "server.log").read_text()
        yield f"postgresql+psycopg2://postgres@/postgres?host={sock}&port={port}"
    finally:
        if data.exists():
            subprocess.run(_as_server_user([pg_ctl, "-D", str(data), "-m", "immediate", "stop"]),
                           capture_output=True, timeout=60)
        shutil.rmtree(root, ignore_errors=True)


def test_two_workers_share_a_postgresql_study(digits28, tmp_path, postgres_url):
    p = start_tune("lecture_cnn", "--data", digits28, "--param", "lr=loguniform:1e-3:1e-2", "--epochs", "1",
                   "--pruner", "none", "--precision", "fp32", "--layout", "nchw", "--set", "batch_size=64", "--no-plots",
                   "--storage", postgres_url, "--study", "pg", "--trials", 4, "--workers", 2, "--out", tmp_path,
                   log=tmp_path / "log")
    assert p.wait(timeout=1500) == 0, (tmp_path / "log").read_text()
    study = optuna.load_study(study_name="pg", storage=storage.open_storage(postgres_url))
    trials = study.get_trials()
    assert sorted(t.number for t in trials) == [0, 1, 2, 3] and all(t.state.name == "COMPLETE" for t in trials)
    assert len({t.system_attrs[storage.WORKER_ATTR]["pid"] for t in trials}) == 2
    assert len({t.user_attrs["run"] for t in trials}) == 4
