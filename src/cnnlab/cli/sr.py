"""``cnnlab sr train|eval``: super-resolution models trained on T91 and measured on Set5 as the papers do."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from cnnlab.cli.app import app

sr_app = typer.Typer(help="Super-resolution (SRCNN, FSRCNN, ESPCN): train on T91, evaluate on Set5.",
                     no_args_is_help=True)
app.add_typer(sr_app, name="sr")


@sr_app.command("train")
def train_command(
    model: str = typer.Option("fsrcnn", "--model", "-m", help="fsrcnn | espcn | espcn_residual | srcnn | srcnn_915"),
    scale: int = typer.Option(3, "--scale", "-s", help="upscaling factor"),
    data: str = typer.Option("t91", "--data", "-d", help="t91 or an image folder"),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="run folder [runs/<model>-x<scale>]"),
    resume: Optional[Path] = typer.Option(None, "--resume", help="continue the run in this folder"),
    channels: str = typer.Option("y", "--channels", help="y (the papers' protocol) or rgb"),
    patch: int = typer.Option(24, "--patch", help="LR patch side (the HR patch is scale × patch)"),
    n_train: int = typer.Option(8000, "--n-train", help="training patch pairs"),
    n_val: int = typer.Option(500, "--n-val", help="validation patch pairs (other crops, another seed)"),
    epochs: Optional[int] = typer.Option(None, "--epochs", "-e", help="epochs [20]"),
    batch_size: Optional[int] = typer.Option(None, "--batch-size", "-b", help="batch size [16]"),
    lr: Optional[float] = typer.Option(None, "--lr", help="Adam learning rate [1e-3]"),
    schedule: Optional[str] = typer.Option(None, "--schedule", help="none | step | cosine | onecycle [cosine]"),
    layout: Optional[str] = typer.Option(None, "--layout", help="nchw | channels_last [channels_last]"),
    seed: Optional[int] = typer.Option(None, "--seed", help="seed of patches, weights and data order [0]"),
    set5_curve: bool = typer.Option(True, "--set5-curve/--no-set5-curve",
                                    help="record Set5 PSNR per epoch (set5_psnr.csv) when Set5 is available"),
    max_minutes: Optional[float] = typer.Option(None, "--max-minutes",
                                                help="stop after the last epoch that fits this wall-clock budget"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="no progress bar or epoch lines"),
) -> None:
    """Train an SR model on T91 patches through cnnlab's fit (regression task: MSE loss, PSNR)."""
    import time

    from cnnlab.apps.superres.data import data_root
    from cnnlab.apps.superres.train import DEFAULTS, train

    options = {k: v for k, v in dict(epochs=epochs, batch_size=batch_size, lr=lr, schedule=schedule, layout=layout,
                                     seed=seed).items() if v is not None}
    if resume is None:
        options = {**DEFAULTS, **options}
        out = out or Path("runs") / f"{model}-x{scale}"
        set5_curve = set5_curve and scale in (2, 3, 4) and (data_root() / "Set5").is_dir()
    start = time.perf_counter()
    history = train(model, scale, data, out, channels=channels, patch=patch, n_train=n_train, n_val=n_val,
                    set5_curve=set5_curve, max_minutes=max_minutes, resume=resume, progress=not quiet, **options)
    last = history.records[-1] if history.records else {}
    typer.echo(f"{resume or out}: {len(history.records)} epochs, val_psnr {last.get('val_psnr', float('nan')):.2f} dB, "
               f"{time.perf_counter() - start:.0f} s")


@sr_app.command("eval")
def eval_command(
    run: Optional[str] = typer.Argument(None, help="run folder of `cnnlab sr train` or SR weights file "
                                                   "(default: the shipped model)"),
    data: str = typer.Option("set5", "--data", "-d", help="set5"),
    scale: Optional[int] = typer.Option(None, "--scale", "-s", help="scale [the model's]"),
    format: str = typer.Option("text", "--format", "-f", help="text or json"),
    bicubic_only: bool = typer.Option(False, "--bicubic", help="score bicubic only (no model)"),
) -> None:
    """PSNR/SSIM of RUN on Set5 (Y channel, border shaved by the scale), per image and mean, bicubic beside."""
    import json

    from cnnlab.apps.superres import protocol, weights
    from cnnlab.apps.superres.render import evaluation_text
    from cnnlab.errors import ConfigError

    if format not in ("text", "json"):
        raise ConfigError(f"`--format` must be text or json; got {format!r}")
    if data.lower() != "set5":
        raise ConfigError(f"`--data` must be set5 (the set with LR files); got {data!r}")
    if bicubic_only:
        sr = None
        scale = scale or 3
    else:
        sr = weights.resolve(run, scale) if scale else weights.resolve_any(run)
        scale = sr.scale
    ev = protocol.evaluate(sr.model if sr else None, scale, data="set5").to_dict()
    name = "bicubic" if sr is None else sr.meta.get("zoo", "model")
    if format == "json":
        ev["model"] = None if sr is None else {"source": sr.source, "zoo": name, "channels": sr.channels}
        typer.echo(json.dumps(ev, indent=2))
    else:
        typer.echo(evaluation_text(ev, name), nl=False)


@sr_app.command("export")
def export_command(
    run: Path = typer.Argument(..., help="run folder of `cnnlab sr train`"),
    out: Path = typer.Option(..., "--out", "-o", help="SR weights file to write (.safetensors)"),
    command: str = typer.Option("", "--command", help="the training command, recorded as provenance"),
) -> None:
    """Write RUN's model as one small SR weights file (usable with `cnnlab upscale --model FILE`)."""
    from cnnlab.apps.superres.weights import export_run

    path = export_run(run, out, command=command)
    typer.echo(f"{run} -> {path} ({path.stat().st_size:,} bytes)")
