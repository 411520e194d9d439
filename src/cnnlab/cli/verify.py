"""``cnnlab verify MODEL``: check a torch model against the NumPy engine, layer by layer."""

from __future__ import annotations

from typing import Optional

import typer

from cnnlab.cli.app import app


@app.command("verify")
def verify_command(
    model: str = typer.Argument(..., help="zoo name, JSON model description, or run folder"),
    input_shape: Optional[str] = typer.Option(None, "--input-shape", "-i",
                                              help="C,H,W without the batch axis (default: the model's own)"),
    batch_size: int = typer.Option(4, "--batch-size", "-b", help="images in the random test batch"),
    seed: int = typer.Option(0, "--seed", help="seed of the batch, labels and projection"),
    float64: bool = typer.Option(False, "--float64", help="run torch in float64 (tolerance 1e-10 relative)"),
    mode: str = typer.Option("eval", "--mode", help="eval (running BN stats) or train (batch stats)"),
    format: str = typer.Option("text", "--format", "-f", help="text or json"),
) -> None:
    """Copy MODEL's weights into the NumPy engine, run one batch through both and print the max
    |difference| per layer for the outputs and the gradients w.r.t. weights and input. Exits with
    status 1 when a difference is beyond tolerance (float32: 1e-4·max|torch| + 1e-6)."""
    import json

    from cnnlab.errors import ConfigError
    from cnnlab.scratch.verify import render, verify
    from cnnlab.bundle import resolve

    if format not in ("text", "json"):
        raise ConfigError(f"`--format` must be text or json; got {format!r}")
    if batch_size < 1:
        raise ConfigError(f"`--batch-size` must be ≥ 1; got {batch_size}")
    b = resolve(model, pretrained=False)
    torch_model, default_shape = b.model, b.require_shape("`cnnlab verify`")
    if input_shape:
        from cnnlab.cli.summary import parse_shape

        shape = parse_shape(input_shape)
    else:
        shape = tuple(default_shape)
    report = verify(torch_model, shape, batch_size=batch_size, seed=seed,
                    dtype="float64" if float64 else "float32", mode=mode)
    if format == "json":
        typer.echo(json.dumps(report.to_dict()))
    else:
        typer.echo(render(report))
    if not report.ok:
        # SystemExit, not typer.Exit: the app runs click with standalone_mode=False, where an Exit's
        # code is returned by app() and not seen by cnnlab.cli.app.main
        raise SystemExit(1)
