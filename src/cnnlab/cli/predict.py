"""``cnnlab predict RUN IMAGE...``: top-k classes of image files (converted to the model's input)."""

from __future__ import annotations

from pathlib import Path
from typing import List

import typer

from cnnlab.cli.app import app


@app.command("predict")
def predict_command(
    run: Path = typer.Argument(..., help="run folder"),
    images: List[Path] = typer.Argument(..., help="image files (any size, grey or colour)"),
    top_k: int = typer.Option(3, "--top-k", "-k", help="classes to show per image"),
    format: str = typer.Option("text", "--format", "-f", help="text or json"),
    device: str = typer.Option("auto", "--device", help="auto | cpu | cuda"),
) -> None:
    """Classify images; --format json prints [{file, top: [{class, label, probability}]}]."""
    import json

    from cnnlab.errors import ConfigError
    from cnnlab.train import load_run, predict_files

    if format not in ("text", "json"):
        raise ConfigError(f"`--format` must be text or json; got {format!r}")
    result = predict_files(load_run(run), list(images), top_k=top_k, device=device)
    if format == "json":
        typer.echo(json.dumps(result))
        return
    for item in result:
        tops = ", ".join(f"{t['label']} {100 * t['probability']:.1f}%" for t in item["top"])
        typer.echo(f"{item['file']}: {tops}")
