"""After the search: the study's numbers, and the one look at the test split.

The best trial (by its validation value) is either kept (its run folder holds the weights of its best
validation epoch) or retrained with ``retrain_seeds`` fresh seeds (seed+1, seed+2, ...); either way each model is evaluated once on the
test split and the numbers are recorded in ``DIR/summary.json``. A best trial run on another machine (its run
folder is not here) is retrained here.
"""

from __future__ import annotations

import math
import shlex
from pathlib import Path

from cnnlab.apps.tune import storage

# fit options `cnnlab train` has a flag for (the retrain command uses them)
TRAIN_FLAGS = ("epochs", "batch_size", "optimizer", "lr", "momentum", "nesterov", "weight_decay", "schedule",
               "augment", "precision", "layout", "seed", "patience", "monitor", "label_smoothing")


def trial_epochs(trial) -> tuple[int, int]:
    """``(epochs run, epochs planned)`` of a finished trial."""
    planned = int(trial.user_attrs.get("epochs", 0)) or len(trial.intermediate_values)
    run = int(trial.user_attrs.get("epochs_run", len(trial.intermediate_values)))
    return run, max(planned, run)


def summarize(study, settings, *, wall_s: float, trials_run: int, workers: int) -> dict:
    """Counts by state, trial-epochs run against planned (the share pruning saved), the best trial."""
    opt = storage.optuna()
    trials = study.get_trials(deepcopy=False)
    states = {}
    for t in trials:
        states[t.state.name.lower()] = states.get(t.state.name.lower(), 0) + 1
    finished = [t for t in trials if t.state in (opt.trial.TrialState.COMPLETE, opt.trial.TrialState.PRUNED)]
    run = sum(trial_epochs(t)[0] for t in finished)
    planned = sum(trial_epochs(t)[1] for t in finished)
    doc = {"study": settings.study, "storage": settings.storage, "model": settings.model, "data": settings.data,
           "metric": settings.metric, "direction": settings.direction, "pruner": settings.pruner,
           "epochs": settings.epochs, "space": list(settings.params), "fixed": dict(settings.fixed),
           "trials_this_command": trials_run, "workers": workers, "wall_s": wall_s,
           "trials": len(trials), "states": states, "complete": states.get("complete", 0),
           "trial_epochs_run": run, "trial_epochs_planned": planned,
           "pruned_epoch_fraction": (1 - run / planned) if planned else 0.0}
    if doc["complete"]:
        best = study.best_trial
        doc["best_trial"] = {"number": best.number, "value": best.value, "params": best.params,
                             "run": best.user_attrs.get("run"), "epochs_run": trial_epochs(best)[0]}
    return doc


def retrain_command(settings, fit_kw: dict, model_file: Path) -> str:
    """The ``cnnlab train`` command that trains the best configuration again."""
    parts = ["cnnlab", "train", str(model_file), "--data", settings.data]
    for key in TRAIN_FLAGS:
        if key not in fit_kw or key in ("precision", "layout") and fit_kw[key] == "auto":
            continue
        value, flag = fit_kw[key], "--" + key.replace("_", "-")
        if isinstance(value, bool):
            parts.append(flag if value else "--no-" + key.replace("_", "-"))
        else:
            parts += [flag, str(value)]
    return " ".join(shlex.quote(p) for p in parts)


def _test(model, ds, task) -> dict:
    from cnnlab.train import evaluate

    result = evaluate(model, ds, task=task, confusion=False)
    return {k: float(v) for k, v in result.items() if k != "n" and isinstance(v, (int, float))}


def evaluate_best(study, settings, *, retrain_seeds: int = 0, model=None, log=None) -> dict:
    """Evaluate the best trial once on the test split (kept weights or ``retrain_seeds`` retrainings)."""
    from cnnlab.apps.tune.objective import Objective, build_model, load_data
    from cnnlab.io import write_json
    from cnnlab.train import fit, load_run

    best = study.best_trial
    ds = load_data(model if model is not None else settings.model, settings.data)
    objective = Objective(settings, ds, model)
    fit_kw, model_kw = objective.options(best.params)
    out = Path(settings.out)
    doc = {"trial": best.number, "params": best.params, "val": best.value, "fit": fit_kw, "model_kwargs": model_kw}
    if isinstance(settings.model, str) and model is None:
        _, desc = build_model(settings.model, model_kw, ds.num_classes, settings.seed)
        model_file = write_json(out / "best-model.json", desc)
        doc["command"] = retrain_command(settings, fit_kw, model_file)
    run_dir = best.user_attrs.get("run")
    if retrain_seeds == 0 and run_dir and (Path(run_dir) / "weights.safetensors").exists():
        module = None if model is None else build_model(model, model_kw, ds.num_classes, settings.seed)[0]
        run = load_run(run_dir, model=module)
        doc.update(kept=True, run=run_dir, test=_test(run.model, ds, run.task))
        if log is not None:
            log(f"best trial {best.number}: {settings.metric} {best.value:.4f}; test accuracy "
                f"{100 * doc['test'].get('accuracy', float('nan')):.2f}% (its weights, evaluated once)")
        return doc
    # fresh seeds, not the trial's own: the kept trial was selected on validation among many, a retraining is not
    seeds = [settings.seed + 1 + i for i in range(max(1, retrain_seeds))]
    runs = []
    for seed in seeds:
        module, desc = build_model(model if model is not None else settings.model, model_kw, ds.num_classes, seed)
        folder = out / "best" / f"seed-{seed}"
        if (folder / "weights.safetensors").exists():  # retrained before (same trial): evaluate that run
            run = load_run(folder)
            module = run.model
        else:
            fit(module, ds, out=folder, desc=desc, progress=False, extra={"app": "tune", "retrain_of": best.number},
                **dict(fit_kw, seed=seed))
            run = load_run(folder, model=module)
        test = _test(run.model, ds, run.task)
        val = run.config.get("results", {}).get("best_" + settings.metric)
        runs.append({"seed": seed, "run": str(folder), "val": val, "test": test})
        if log is not None:
            log(f"retrained best trial {best.number} with seed {seed}: test accuracy {100 * test.get('accuracy', 0):.2f}%")
    acc = [r["test"].get("accuracy", float("nan")) for r in runs]
    mean = sum(acc) / len(acc)
    std = math.sqrt(sum((a - mean) ** 2 for a in acc) / (len(acc) - 1)) if len(acc) > 1 else 0.0
    doc.update(kept=False, retrained=runs, test={"accuracy_mean": mean, "accuracy_std": std, "seeds": len(acc)})
    return doc
