"""``cnnlab tune``: an Optuna study whose trials train through ``fit``, on one or many processes and machines.

:func:`tune` checks everything first (search space, metric, pruner, storage), creates or loads the study,
runs ``trials`` trials (in this process, or split over ``workers`` processes of this machine that share the
storage, each with ``cores / workers`` torch threads), then evaluates the best trial once on the test split
(:mod:`cnnlab.apps.tune.final`) and writes the plots and the HTML report beside the study.

Scaling out needs no scheduler of ours: the same command with the same ``--storage`` URL and ``--study`` name
on several machines makes them share one study (Optuna hands every worker distinct trials).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path

from cnnlab.apps.tune import space as space_mod
from cnnlab.apps.tune import storage
from cnnlab.errors import ConfigError

PRUNERS = ("median", "percentile", "successive_halving", "hyperband", "none")
SETTINGS_FILE = "tune.json"


@dataclass
class Settings:
    """Everything a worker needs to join the study (JSON-able; written to ``DIR/tune.json``)."""

    model: str
    data: str
    out: str
    params: list = field(default_factory=list)  # --param specs
    fixed: dict = field(default_factory=dict)  # fit options / model arguments held fixed
    metric: str = "val_accuracy"
    direction: str | None = None  # None -> the task's mode of the metric
    pruner: str = "median"
    epochs: int = 10
    storage: str | None = None  # resolved URL
    study: str = "cnnlab"
    seed: int = 0  # weights and data order of every trial
    sampler_seed: int | None = None  # None: a fresh random stream per process (commands never repeat each other)
    startup_trials: int = 5  # random trials before TPE and before the pruner acts
    heartbeat: int = 30
    precision: str = "auto"
    layout: str = "auto"


def make_pruner(name: str, epochs: int, startup: int):
    """Optuna's pruner for ``name`` (``percentile:P`` keeps trials in the best P percent; default 25)."""
    opt = storage.optuna()
    base, _, arg = name.lower().partition(":")
    if base not in PRUNERS:
        raise ConfigError(f"`--pruner` must be one of {', '.join(PRUNERS)} (percentile:P); got {name!r}")
    if base == "median":
        return opt.pruners.MedianPruner(n_startup_trials=startup, n_warmup_steps=1)
    if base == "percentile":
        try:
            p = float(arg or 25)
        except ValueError:
            raise ConfigError(f"`--pruner percentile:P` needs a number 0 < P < 100; got {arg!r}") from None
        if not 0 < p < 100:
            raise ConfigError(f"`--pruner percentile:P` needs 0 < P < 100; got {p}")
        return opt.pruners.PercentilePruner(p, n_startup_trials=startup, n_warmup_steps=1)
    if base == "successive_halving":
        return opt.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=3)
    if base == "hyperband":
        return opt.pruners.HyperbandPruner(min_resource=1, max_resource=max(1, epochs), reduction_factor=3)
    return opt.pruners.NopPruner()


def make_sampler(settings: Settings, worker: int):
    opt = storage.optuna()
    # every worker draws its own random stream (reproducible per worker index with a sampler seed; otherwise
    # random, so two commands started on one study do not propose the same start-up trials); the shared
    # storage gives TPE everyone's results
    seed = None if settings.sampler_seed is None else settings.sampler_seed * 1000 + worker
    return opt.samplers.TPESampler(seed=seed, n_startup_trials=settings.startup_trials)


def check(settings: Settings, model=None) -> None:
    """Fail fast, with one line, on a bad space, metric, direction, pruner or option."""
    from cnnlab.train import tasks
    from cnnlab.train.config import FitConfig

    model = model if model is not None else settings.model
    params = space_mod.parse_space(settings.params)
    model_args = space_mod.model_arguments(model) if isinstance(model, str) else \
        [p.name for p in params if p.name not in FitConfig.names()]
    space_mod.check_space(params, model_args, settings.fixed)
    task = tasks.Classification()
    if settings.metric not in task.monitors() or not settings.metric.startswith("val_"):
        known = ", ".join(m for m in task.monitors() if m.startswith("val_"))
        raise ConfigError(f"`--metric` must be a validation metric of the classification task ({known}); "
                          f"got {settings.metric!r}")
    if settings.direction is None:
        settings.direction = "maximize" if task.mode(settings.metric) == "max" else "minimize"
    if settings.direction not in ("maximize", "minimize"):
        raise ConfigError(f"`--direction` must be maximize or minimize; got {settings.direction!r}")
    make_pruner(settings.pruner, settings.epochs, settings.startup_trials)
    fixed_fit = {k: v for k, v in settings.fixed.items() if k not in model_args}
    FitConfig.from_options({**fixed_fit, "epochs": settings.epochs, "monitor": settings.metric})
    if not isinstance(settings.study, str) or not settings.study:
        raise ConfigError(f"`--study` must be a name; got {settings.study!r}")


def open_study(settings: Settings, worker: int = 0, *, create: bool = False):
    """Create (or load) the study; a study of another direction under the same name is an error."""
    opt = storage.optuna()
    st = storage.open_storage(settings.storage, heartbeat=settings.heartbeat)
    kw = dict(study_name=settings.study, storage=st, sampler=make_sampler(settings, worker),
              pruner=make_pruner(settings.pruner, settings.epochs, settings.startup_trials))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", opt.exceptions.ExperimentalWarning)
        if create:
            study = opt.create_study(direction=settings.direction, load_if_exists=True, **kw)
        else:
            study = opt.load_study(**kw)
    if study.direction.name.lower() != settings.direction:
        raise ConfigError(f"study {settings.study!r} in {settings.storage} was created to "
                          f"{study.direction.name.lower()}; got --direction {settings.direction}")
    return study


def claim_ticket(path) -> bool:
    """Take one trial from the command's ticket file (a count, under an exclusive file lock); False when none
    is left. The workers of one command share the file, so a fast worker keeps going while a slow one is busy
    and the command runs exactly its ``--trials``."""
    import fcntl

    with open(path, "r+") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            left = int(f.read().strip() or 0)
            if left <= 0:
                return False
            f.seek(0)
            f.truncate()
            f.write(str(left - 1))
            f.flush()
            os.fsync(f.fileno())
            return True
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def run_worker(settings: Settings, n_trials: int, worker: int = 0, *, model=None, ds=None, log=None,
               tickets=None) -> int:
    """Run ``n_trials`` trials of the study in this process (or, with ``tickets``, one trial per ticket taken
    from that shared file until none is left); returns how many ended (any state)."""
    from cnnlab.apps.tune.objective import Objective, load_data
    from cnnlab.errors import TrainingError

    opt = storage.optuna()
    opt.logging.set_verbosity(opt.logging.WARNING)
    study = open_study(settings, worker)
    storage.fail_dead_local_trials(study)
    if ds is None:
        ds = load_data(model if model is not None else settings.model, settings.data)
    objective = Objective(settings, ds, model)
    ended = []

    def note(study, trial):
        ended.append(trial.number)
        if log is not None:
            log(_trial_line(trial, settings.metric, worker))

    opt.logging.disable_default_handler()
    if tickets is not None:
        while claim_ticket(tickets):
            study.optimize(objective, n_trials=1, catch=(TrainingError,), callbacks=[note], gc_after_trial=False)
    elif n_trials > 0:
        study.optimize(objective, n_trials=n_trials, catch=(TrainingError,), callbacks=[note],
                       gc_after_trial=False)
    return len(ended)


def _trial_line(trial, metric: str, worker: int) -> str:
    params = ", ".join(f"{k}={_short(v)}" for k, v in trial.params.items())
    epochs = trial.user_attrs.get("epochs_run", len(trial.intermediate_values))
    value = "" if trial.value is None else f" {metric} {trial.value:.4f}"
    last = max(trial.intermediate_values.items())[1] if trial.intermediate_values else None
    if trial.state.name == "PRUNED" and last is not None:
        value = f" {metric} {last:.4f}"
    return f"[w{worker}] trial {trial.number} {trial.state.name.lower()} after {epochs} epochs:{value} ({params})"


def _short(v) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def _threads(workers: int) -> int:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, cores // workers)


def run_workers(settings: Settings, n_trials: int, workers: int, *, log=None) -> None:
    """``workers`` processes of this machine share the storage and take the ``n_trials`` from one ticket file."""
    from cnnlab.io import write_text

    spec_path = Path(settings.out) / SETTINGS_FILE
    tickets = write_text(Path(settings.out) / f".tickets-{os.getpid()}-{time.time_ns()}", str(n_trials))
    env_base = dict(os.environ)
    src = str(Path(__file__).resolve().parents[3])
    env_base["PYTHONPATH"] = os.pathsep.join([src] + [p for p in env_base.get("PYTHONPATH", "").split(os.pathsep) if p])
    threads = _threads(workers)
    procs = []
    for i in range(min(workers, n_trials)):
        env = dict(env_base, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
        logf = open(Path(settings.out) / f"worker-{i}.log", "ab")
        cmd = [sys.executable, "-m", "cnnlab.apps.tune.worker", str(spec_path), "--tickets", str(tickets),
               "--worker", str(i), "--threads", str(threads)]
        procs.append((i, subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=logf, text=True), logf))
    failed = []
    try:
        import selectors

        sel = selectors.DefaultSelector()
        for i, p, _ in procs:
            sel.register(p.stdout, selectors.EVENT_READ, i)
        open_count = len(procs)
        while open_count:
            for key, _ in sel.select():
                line = key.fileobj.readline()
                if not line:
                    sel.unregister(key.fileobj)
                    open_count -= 1
                elif log is not None:
                    log(line.rstrip("\n"))
        for i, p, logf in procs:
            if p.wait() != 0:
                failed.append(f"worker {i} exited with status {p.returncode} (see {Path(settings.out) / f'worker-{i}.log'})")
    finally:
        for _, p, logf in procs:
            if p.poll() is None:
                p.terminate()
                p.wait()
            logf.close()
        tickets.unlink(missing_ok=True)
    if failed:
        from cnnlab.errors import TrainingError

        raise TrainingError("; ".join(failed))


def tune(model, data: str, *, out, params, trials: int, fixed: dict | None = None, metric: str = "val_accuracy",
         direction: str | None = None, pruner: str = "median", epochs: int = 10, storage_url: str | None = None,
         study: str | None = None, workers: int = 1, seed: int = 0, sampler_seed: int | None = None, startup_trials: int = 5,
         heartbeat: int = 30, precision: str = "auto", layout: str = "auto", retrain_seeds: int = 0,
         plots: bool = True, log=None) -> dict:
    """Run a tuning study and return its summary (also written to ``DIR/summary.json``).

    Args:
        model: a zoo name (its factory's arguments are searchable), or a callable ``factory(**kwargs)`` (one
            process only).
        data: dataset name (its validation split selects; its test split is used once, for the best trial).
        params: ``--param`` specs (:mod:`cnnlab.apps.tune.space`).
        trials: trials this call runs (Optuna's ``n_trials``; ``0`` only re-evaluates and re-draws the study).
        fixed: fit options or model arguments held fixed in every trial.
        storage_url: any Optuna storage (see :mod:`cnnlab.apps.tune.storage`); default SQLite in ``out``.
        workers: processes on this machine sharing the storage.
        retrain_seeds: 0 keeps the best trial's weights for the test evaluation; S > 0 retrains its
            configuration with fresh seeds (seed+1..seed+S) and reports the test mean ± std.
    """
    from cnnlab.io import write_json

    if isinstance(trials, bool) or not isinstance(trials, int) or trials < 0:
        raise ConfigError(f"`--trials` must be an integer ≥ 0; got {trials!r}")
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ConfigError(f"`--workers` must be an integer ≥ 1; got {workers!r}")
    if workers > 1 and not isinstance(model, str):
        raise ConfigError("`workers` > 1 needs a zoo model name (worker processes rebuild the model by name)")
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise ConfigError(f"`--epochs` must be an integer ≥ 1; got {epochs!r}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    settings = Settings(model=model if isinstance(model, str) else getattr(model, "__name__", "model"), data=data,
                        out=str(out.resolve()), params=list(params), fixed=dict(fixed or {}), metric=metric,
                        direction=direction, pruner=pruner, epochs=epochs,
                        storage=storage.resolve_url(storage_url, out), study=study or "cnnlab", seed=seed,
                        sampler_seed=sampler_seed, startup_trials=startup_trials, heartbeat=heartbeat,
                        precision=precision, layout=layout)
    check(settings, model if not isinstance(model, str) else None)
    st = open_study(settings, create=True)
    failed = storage.fail_dead_local_trials(st)
    if failed and log is not None:
        log(f"marked {len(failed)} trial(s) of dead processes as failed: {', '.join(map(str, failed))}")
    write_json(out / SETTINGS_FILE, asdict(settings))
    start = time.perf_counter()
    if workers == 1:
        run_worker(settings, trials, 0, model=model if not isinstance(model, str) else None, log=log)
    else:
        run_workers(settings, trials, workers, log=log)
    wall = time.perf_counter() - start
    from cnnlab.apps.tune import final

    st = open_study(settings)
    summary = final.summarize(st, settings, wall_s=wall, trials_run=trials, workers=workers)
    if summary["complete"]:
        summary["best"] = final.evaluate_best(st, settings, retrain_seeds=retrain_seeds,
                                              model=model if not isinstance(model, str) else None, log=log)
    if plots:
        from cnnlab.apps.tune import plots as plots_mod
        from cnnlab.apps.tune import report

        summary["plots"] = plots_mod.write_plots(st, out, settings.metric)
        write_json(out / "summary.json", summary)
        summary["report"] = str(report.write_report(st, settings, summary, out))
    write_json(out / "summary.json", summary)
    return summary


def load_settings(path) -> Settings:
    doc = json.loads(Path(path).read_text())
    return Settings(**doc)
