"""``cnnlab tune MODEL --data NAME --trials N --param ...``: hyper-parameter search with Optuna through ``fit``."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from cnnlab.cli.app import app


@app.command("tune")
def tune_command(
    model: str = typer.Argument(..., help="zoo name (its factory's arguments, e.g. width, dropout, are searchable)"),
    data: str = typer.Option(..., "--data", "-d", help="mnist | fashion-mnist | digits | idx:DIR | folder:DIR | tensors:FILE"),
    trials: int = typer.Option(..., "--trials", "-n", help="trials this command runs (two commands with 4 on one study make 8)"),
    param: List[str] = typer.Option([], "--param", "-p",
                                    help="NAME=loguniform:LO:HI | uniform:LO:HI | int:LO:HI[:STEP] | logint:LO:HI | "
                                         "choice:A,B,C (a fit option or a model argument); repeat"),
    fixed: List[str] = typer.Option([], "--set", help="NAME=VALUE held fixed in every trial (e.g. schedule=onecycle); repeat"),
    metric: str = typer.Option("val_accuracy", "--metric", help="validation metric to optimise [val_accuracy]"),
    direction: Optional[str] = typer.Option(None, "--direction", help="maximize | minimize [the metric's]"),
    pruner: str = typer.Option("median", "--pruner", help="median | percentile[:P] | successive_halving | hyperband | none"),
    epochs: int = typer.Option(10, "--epochs", "-e", help="epochs per trial (the most; pruning stops earlier) [10]"),
    storage: Optional[str] = typer.Option(None, "--storage",
                                          help="Optuna storage: sqlite:///PATH, postgresql://..., journal:PATH "
                                               "[sqlite in --out]"),
    study: str = typer.Option("cnnlab", "--study", help="study name (the same on every machine) [cnnlab]"),
    workers: int = typer.Option(1, "--workers", "-w", help="processes on this machine sharing the storage [1]"),
    seed: int = typer.Option(0, "--seed", help="seed of every trial's weights and data order [0]"),
    sampler_seed: Optional[int] = typer.Option(None, "--sampler-seed",
                                               help="seed of the TPE sampler (per worker index) [random]"),
    startup_trials: int = typer.Option(5, "--startup-trials", help="random trials before TPE and the pruner act [5]"),
    heartbeat: int = typer.Option(30, "--heartbeat", help="seconds between heartbeats of a running trial (database "
                                                          "storages); a trial silent for twice that is failed [30]"),
    precision: str = typer.Option("auto", "--precision", help="fp32 | bf16 | auto [auto: measured]"),
    layout: str = typer.Option("auto", "--layout", help="nchw | channels_last | auto [auto: measured]"),
    retrain_seeds: int = typer.Option(0, "--retrain-seeds",
                                      help="0: evaluate the best trial's own weights on test; S: retrain it with S "
                                           "seeds and report the test mean ± std [0]"),
    out: Path = typer.Option(..., "--out", "-o", help="output folder: study.db, trials/, plots/, report.html"),
    plots: bool = typer.Option(True, "--plots/--no-plots", help="draw the PNG plots and the HTML report"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="no line per trial"),
) -> None:
    """Search hyper-parameters of MODEL on a dataset (validation split); evaluate the best once on test."""
    from cnnlab.apps.tune.cli_text import parse_fixed, summary_text
    from cnnlab.apps.tune.study import tune

    summary = tune(model, data, out=out, params=param, trials=trials, fixed=parse_fixed(fixed), metric=metric,
                   direction=direction, pruner=pruner, epochs=epochs, storage_url=storage, study=study,
                   workers=workers, seed=seed, sampler_seed=sampler_seed, startup_trials=startup_trials,
                   heartbeat=heartbeat, precision=precision, layout=layout, retrain_seeds=retrain_seeds, plots=plots,
                   log=None if quiet else typer.echo)
    typer.echo(summary_text(summary))
