"""``cnnlab experiment nielsen``: Nielsen's chapter-6 improvement ladder on MNIST, with his recipe and/or cnnlab's."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from cnnlab.cli.app import app

experiment_app = typer.Typer(help="Reproduce published experiments: nielsen (the chapter-6 MNIST ladder).",
                             no_args_is_help=True)
app.add_typer(experiment_app, name="experiment")


@experiment_app.command("nielsen")
def nielsen_command(
    out: Path = typer.Option(..., "--out", "-o", help="folder: runs/, ladder.json, ladder.md, ladder.png "
                             "(a second call with the same folder continues: trained networks are kept)"),
    recipe: List[str] = typer.Option(["modern"], "--recipe", "-r",
                                     help="modern (Adam + one-cycle, a few epochs) | nielsen (his SGD, batch 10, "
                                          "40-60 epochs: hours per row); repeat for both"),
    row: List[str] = typer.Option([], "--row", help="rows to run (default all): shallow, conv1, conv2, relu_l2, "
                                                    "expanded, fc2, dropout, ensemble; repeat"),
    seeds: int = typer.Option(3, "--seeds", "-s", help="seeds per row (the ensemble row: that many ensembles) [3]"),
    ensemble_size: int = typer.Option(5, "--ensemble-size", help="dropout networks per ensemble [5]"),
    workers: int = typer.Option(2, "--workers", "-w", help="training processes, each with cores/workers threads [2]"),
    first_seed: int = typer.Option(0, "--first-seed", help="seed of the first run of each row [0]"),
    epochs_scale: float = typer.Option(1.0, "--epochs-scale", help="multiply every row's epochs (quick looks) [1]"),
    data: str = typer.Option("mnist", "--data", "-d", help="a 28×28 10-class dataset [mnist]"),
    train_subset: Optional[int] = typer.Option(None, "--train-subset", help="first N training images only (quick looks)"),
) -> None:
    """Train every row of Nielsen's ladder with ≥ 3 seeds; print and write the table beside his numbers."""
    from cnnlab.apps.tune.nielsen import ROW_KEYS, LadderSpec, get_row, run_ladder

    for key in row:
        get_row(key)  # an unknown name is a one-line error naming the known rows
    spec = LadderSpec(recipes=tuple(dict.fromkeys(recipe)),
                      rows=tuple(k for k in ROW_KEYS if k in row) if row else ROW_KEYS, seeds=seeds,
                      ensemble_size=ensemble_size, workers=workers, data=data,
                      epochs_scale=epochs_scale, train_subset=train_subset, first_seed=first_seed)
    run_ladder(spec, out, log=typer.echo)
    typer.echo((out / "ladder.md").read_text())
    typer.echo(f"plot: {out / 'ladder.png'}")
