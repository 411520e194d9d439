"""Where a study lives: any Optuna storage, chosen by one ``--storage`` text.

- nothing: SQLite in the output folder (``DIR/study.db``);
- ``sqlite:///PATH``, ``postgresql://...``, ``mysql://...``: Optuna's RDB storage (SQLAlchemy URL), with a
  heartbeat, so a trial whose process was killed is marked FAIL once its heartbeat is older than the grace
  period (Optuna's ``fail_stale_trials``, run at the start of every trial) and never blocks the study;
- ``journal:PATH`` or a path ending in ``.log``/``.journal``: Optuna's journal file storage (an append-only
  file with a lock; no server). It has no heartbeat, so :func:`fail_dead_local_trials` marks FAIL the
  RUNNING trials of this machine whose process no longer exists.

Every worker of every machine opens the same storage and study name; Optuna hands out distinct trials.
"""

from __future__ import annotations

import os
import socket
import warnings
from pathlib import Path

from cnnlab.errors import ConfigError, require

OPTUNA = "pip install optuna"
WORKER_ATTR = "cnnlab_worker"  # trial system attribute: {"host", "pid"} of the process running it


def optuna():
    return require("optuna", OPTUNA)


def resolve_url(storage: str | None, out: Path) -> str:
    """The storage text a study uses (SQLite in ``out`` by default), as recorded in the study's files."""
    if storage is None or storage == "":
        return f"sqlite:///{(Path(out) / 'study.db').resolve()}"
    return storage


def is_journal(url: str) -> bool:
    return url.startswith("journal:") or url.endswith((".log", ".journal"))


def open_storage(url: str, *, heartbeat: int = 30):
    """An Optuna storage object for ``url`` (see the module docstring).

    Args:
        heartbeat: seconds between a running trial's heartbeats (RDB storages); a trial whose last heartbeat
            is older than twice that is failed by the next worker that starts a trial.
    """
    opt = optuna()
    opt.logging.set_verbosity(opt.logging.WARNING)
    if is_journal(url):
        path = Path(url.removeprefix("journal:"))
        if not path.parent.is_dir():
            raise ConfigError(f"`--storage` journal file {str(path)!r}: folder {str(path.parent)!r} does not exist")
        from optuna.storages.journal import JournalFileBackend, JournalFileOpenLock

        backend = JournalFileBackend(str(path), lock_obj=JournalFileOpenLock(str(path)))
        return opt.storages.JournalStorage(backend)
    if "://" not in url:
        raise ConfigError(f"`--storage` must be a database URL (sqlite:///PATH, postgresql://USER@HOST/DB, ...) or "
                          f"journal:PATH; got {url!r}")
    if heartbeat < 1:
        raise ConfigError(f"`--heartbeat` must be ≥ 1 second; got {heartbeat}")
    engine = {"connect_args": {"timeout": 60}} if url.startswith("sqlite") else {"pool_pre_ping": True}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", opt.exceptions.ExperimentalWarning)
            return opt.storages.RDBStorage(url, engine_kwargs=engine, heartbeat_interval=int(heartbeat),
                                           grace_period=2 * int(heartbeat))
    except ImportError as exc:
        raise ConfigError(f"`--storage` {url.split('://')[0]}: its database driver is missing ({exc}); for "
                          "PostgreSQL: pip install psycopg2-binary") from None
    except Exception as exc:  # sqlalchemy's OperationalError/ArgumentError: unreachable or malformed
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConfigError(f"`--storage` {url!r} cannot be opened: {first}") from None


def mark_worker(trial) -> None:
    """Record which process runs ``trial`` (read by :func:`fail_dead_local_trials`)."""
    trial.storage.set_trial_system_attr(trial._trial_id, WORKER_ATTR,  # noqa: SLF001 - Optuna's own id
                                        {"host": socket.gethostname(), "pid": os.getpid()})


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie (killed, not yet reaped by its parent) is dead too
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


def fail_dead_local_trials(study) -> list[int]:
    """Mark FAIL the RUNNING trials started on this machine by a process that is gone; returns their numbers.

    RDB storages do this by heartbeat on any machine; this covers the journal storage (no heartbeat) and
    makes a killed trial visible at once on restart.
    """
    opt = optuna()
    host, failed = socket.gethostname(), []
    for t in study.get_trials(deepcopy=False, states=(opt.trial.TrialState.RUNNING,)):
        who = t.system_attrs.get(WORKER_ATTR)
        if not who or who.get("host") != host or _alive(int(who.get("pid", -1))):
            continue
        try:
            if study._storage.set_trial_state_values(t._trial_id, opt.trial.TrialState.FAIL):  # noqa: SLF001
                failed.append(t.number)
        except opt.exceptions.UpdateFinishedTrialError:  # another process failed it first
            pass
    return failed
