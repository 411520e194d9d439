"""One trial of ``cnnlab tune``: suggest the parameters, build the model, train it through ``fit``.

Every epoch's validation metric goes to ``trial.report(value, epoch)``; when the pruner says so
(``trial.should_prune()``) the callback ends training after that epoch (the run folder stays complete:
weights, history, config) and the objective raises Optuna's ``TrialPruned``. The trial's value is the best
validation value of the run (the weights ``fit`` restores). The test split is never looked at here.
"""

from __future__ import annotations

from pathlib import Path

import torch

from cnnlab.apps.tune import space as space_mod
from cnnlab.apps.tune import storage
from cnnlab.train.callbacks import Callback


class ReportAndPrune(Callback):
    """Report ``metric`` to an Optuna trial at every epoch end; stop training when the trial should be pruned."""

    def __init__(self, trial, metric: str):
        self.trial, self.metric, self.pruned_at = trial, metric, None

    def on_epoch_end(self, state, logs):
        value = float(logs[self.metric])
        self.trial.report(value, int(logs["epoch"]))
        if self.trial.should_prune():
            self.pruned_at = int(logs["epoch"])
            state.stop_training = True


def load_data(model, data_name: str, model_kwargs: dict | None = None):
    """The dataset of a study, sized for the model's input (as ``cnnlab train`` loads it)."""
    from cnnlab.workflows.train import load_data_for
    from cnnlab.zoo import registry

    shape = registry.input_shape_for(model, model_kwargs or {}) if isinstance(model, str) else ()
    return load_data_for(shape, data_name)


def build_model(model, model_kwargs: dict, num_classes: int, seed: int):
    """``(module, desc)``: a zoo model with the trial's arguments (``num_classes`` from the data), or a user
    factory ``model(**model_kwargs)``; initial weights follow ``seed``."""
    from cnnlab import spec

    torch.manual_seed(seed)
    if isinstance(model, str):
        kwargs = dict(model_kwargs)
        if "num_classes" in space_mod.model_arguments(model, reserved=()):
            kwargs["num_classes"] = num_classes
        desc = {"zoo": model, "kwargs": kwargs}
        return spec.build(desc), desc
    module = model(**model_kwargs)
    return module, None


class Objective:
    """The function Optuna calls once per trial.

    Args:
        settings: the study's :class:`~cnnlab.apps.tune.study.Settings`.
        ds: its dataset (loaded once per process).
        model: a zoo name or a callable ``factory(**model_kwargs) -> nn.Module``.
    """

    def __init__(self, settings, ds, model=None):
        self.s, self.ds = settings, ds
        self.model = model if model is not None else settings.model
        self.params = space_mod.parse_space(settings.params)
        self.model_args = space_mod.model_arguments(self.model) if isinstance(self.model, str) else \
            [p.name for p in self.params if p.name not in _fit_names()]

    def options(self, values: dict) -> tuple[dict, dict]:
        """``(fit options, model kwargs)`` of a trial with parameter ``values``."""
        fit_kw, model_kw = space_mod.split_options({**self.s.fixed, **values}, self.model_args)
        fit_kw.setdefault("epochs", self.s.epochs)
        fit_kw.update(monitor=self.s.metric, seed=self.s.seed, precision=self.s.precision, layout=self.s.layout)
        return fit_kw, model_kw

    def __call__(self, trial) -> float:
        from cnnlab.train import fit

        optuna = storage.optuna()
        storage.mark_worker(trial)
        values = {p.name: p.suggest(trial) for p in self.params}
        fit_kw, model_kw = self.options(values)
        module, desc = build_model(self.model, model_kw, self.ds.num_classes, self.s.seed)
        out = Path(self.s.out) / "trials" / f"{self.s.study}-{trial.number:04d}"
        trial.set_user_attr("run", str(out))
        trial.set_user_attr("epochs", int(fit_kw["epochs"]))
        report = ReportAndPrune(trial, self.s.metric)
        history = fit(module, self.ds, out=out, desc=desc, callbacks=[report], progress=False,
                      extra={"app": "tune", "study": self.s.study, "trial": trial.number, "params": values}, **fit_kw)
        series = [r[self.s.metric] for r in history.records]
        trial.set_user_attr("epochs_run", len(series))
        if report.pruned_at is not None:
            raise optuna.TrialPruned(f"pruned after epoch {report.pruned_at}")
        return float(max(series) if self.s.direction == "maximize" else min(series))


def _fit_names() -> list[str]:
    from cnnlab.train.config import FitConfig

    return FitConfig.names()
