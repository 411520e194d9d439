"""``cnnlab train MODEL --data DATASET``: train a zoo model / JSON description / run folder into a run folder.

Works unchanged under ``torchrun --nproc_per_node=N`` (only rank 0 writes and prints).
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from cnnlab.cli.app import app


@app.command("train")
def train_command(
    model: Optional[str] = typer.Argument(None, help="zoo name, JSON model description or run folder "
                                                     "(optional with --resume)"),
    data: Optional[str] = typer.Option(None, "--data", "-d",
                                       help="mnist | fashion-mnist | digits | idx:DIR | folder:DIR | tensors:FILE"),
    task: Optional[str] = typer.Option(None, "--task", "-t",
                                       help="classification | regression (image-to-image: PSNR) | embedding "
                                            "[classification; a resumed run keeps its own]"),
    epochs: Optional[int] = typer.Option(None, "--epochs", "-e", help="epochs [10]"),
    batch_size: Optional[int] = typer.Option(None, "--batch-size", "-b", help="global batch size [128]"),
    optimizer: Optional[str] = typer.Option(None, "--optimizer", help="sgd | adam | adamw | adadelta [adam]"),
    lr: Optional[float] = typer.Option(None, "--lr", help="learning rate (peak rate for onecycle) [adam 1e-3, sgd 0.05]"),
    momentum: Optional[float] = typer.Option(None, "--momentum", help="SGD momentum [0.9]"),
    nesterov: Optional[bool] = typer.Option(None, "--nesterov/--no-nesterov", help="Nesterov momentum (SGD)"),
    weight_decay: Optional[float] = typer.Option(None, "--weight-decay", help="weight decay [0]"),
    schedule: Optional[str] = typer.Option(None, "--schedule", help="none | step | cosine | onecycle [none]"),
    augment: Optional[bool] = typer.Option(None, "--augment/--no-augment", help="random shifts and small rotations"),
    precision: Optional[str] = typer.Option(None, "--precision", help="fp32 | bf16 | auto [auto: measured]"),
    layout: Optional[str] = typer.Option(None, "--layout", help="nchw | channels_last | auto [auto: measured]"),
    compile: Optional[bool] = typer.Option(None, "--compile/--no-compile", help="torch.compile the model"),
    seed: Optional[int] = typer.Option(None, "--seed", help="seed of weights, data order, augmentation [0]"),
    deterministic: Optional[bool] = typer.Option(None, "--deterministic/--no-deterministic",
                                                 help="deterministic algorithms; exact resume"),
    patience: Optional[int] = typer.Option(None, "--patience", help="early stopping patience in epochs [0: off]"),
    monitor: Optional[str] = typer.Option(None, "--monitor",
                                          help="any metric of the task: val_loss, val_accuracy, val_psnr, "
                                               "val_verification_accuracy, ... [the task's: val_loss / val_psnr]"),
    checkpoint_every: Optional[int] = typer.Option(None, "--checkpoint-every",
                                                   help="also checkpoint every N steps [0: epoch ends only]"),
    label_smoothing: Optional[float] = typer.Option(None, "--label-smoothing", help="label smoothing [0]"),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="run folder [runs/<model>-<data>-<time>]"),
    resume: Optional[Path] = typer.Option(None, "--resume", help="continue the run in this folder"),
    device: Optional[str] = typer.Option(None, "--device", help="auto | cpu | cuda [auto]"),
    recipe: Optional[str] = typer.Option(None, "--recipe", help="fast: 99% MNIST in seconds (LeNet-5, 3 epochs, "
                                                                "one-cycle); fills MODEL, --data and options not given"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="no progress bar or epoch lines"),
) -> None:
    """Train MODEL on a dataset; writes a run folder (model.json, weights, config, history, checkpoint)."""
    from cnnlab.workflows import recipes
    from cnnlab.workflows.train import format_result, train_job

    options = {k: v for k, v in dict(
        epochs=epochs, batch_size=batch_size, optimizer=optimizer, lr=lr, momentum=momentum, nesterov=nesterov,
        weight_decay=weight_decay, schedule=schedule, augment=augment, precision=precision, layout=layout,
        compile=compile, seed=seed, deterministic=deterministic, patience=patience, monitor=monitor,
        checkpoint_every=checkpoint_every, label_smoothing=label_smoothing, device=device).items() if v is not None}
    if recipe is not None:
        model, data, options = recipes.apply(recipe, model, data, options)
    result = train_job(model, data, options, task=task, out=out, resume=resume, progress=not quiet)
    if result["rank"] == 0:
        typer.echo(format_result(result))
