"""``cnnlab summary MODEL``: shapes, parameters, MACs/FLOPs, receptive field and memory of a model."""

from __future__ import annotations

from typing import Optional

import typer

from cnnlab.cli.app import app


def parse_shape(text: str) -> tuple:
    """``"3,224,224"`` (or ``3x224x224``) → ``(3, 224, 224)``; a one-line error otherwise."""
    from cnnlab.errors import ShapeError

    parts = [p.strip() for p in text.replace("x", ",").replace("×", ",").split(",") if p.strip()]
    try:
        shape = tuple(int(p) for p in parts)
    except ValueError:
        shape = ()
    if not shape or any(s <= 0 for s in shape):
        raise ShapeError(f"`--input-shape` must be positive ints separated by commas, e.g. 3,224,224; got {text!r}")
    return shape


@app.command("summary")
def summary_command(
    model: str = typer.Argument(..., help="zoo name, JSON model description, or run folder"),
    input_shape: Optional[str] = typer.Option(None, "--input-shape", "-i",
                                              help="C,H,W without the batch axis (default: the model's own)"),
    format: str = typer.Option("text", "--format", "-f", help="text, markdown, json or html"),
    profile: bool = typer.Option(False, "--profile", help="measure forward/backward time per layer"),
    depth: Optional[int] = typer.Option(None, "--depth", "-d", help="deepest module level shown"),
    batch_size: int = typer.Option(1, "--batch-size", "-b", help="batch size of the counted pass"),
) -> None:
    """Print the summary of MODEL: per layer shape, params, MACs, FLOPs, receptive field, memory."""
    from cnnlab import bundle
    from cnnlab.analysis import summary
    from cnnlab.analysis.render import FORMATS
    from cnnlab.errors import ConfigError

    if format not in FORMATS:
        raise ConfigError(f"`--format` must be one of {', '.join(FORMATS)}; got {format!r}")
    b = bundle.resolve(model, pretrained=False)
    shape = parse_shape(input_shape) if input_shape else b.require_shape("`cnnlab summary`")
    name = (b.desc or {}).get("zoo") if isinstance(b.desc, dict) else None
    s = summary(b.model, shape, batch_size=batch_size, depth=depth, profile=profile,
                name=name or type(b.model).__name__)
    typer.echo(s.render(format), nl=False)
