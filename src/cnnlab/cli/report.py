"""``cnnlab report RUN``: write the run's self-contained report.html."""

from __future__ import annotations

from typing import Optional

import typer

from cnnlab.cli.app import app


@app.command("report")
def report_command(
    run: str = typer.Argument(..., help="run folder written by `cnnlab train`"),
    out: Optional[str] = typer.Option(None, "--out", "-o", help="output file (default RUN/report.html)"),
    n_test: int = typer.Option(2000, "--n-test", help="test images evaluated (0 = all)"),
    examples: int = typer.Option(4, "--examples", help="test images explained with saliency/Grad-CAM/occlusion"),
    steps: Optional[int] = typer.Option(None, "--steps", help="activation-maximisation steps (default: the preset's)"),
    format: str = typer.Option("text", "--format", "-f", help="text or json"),
) -> None:
    """Write RUN/report.html: summary, curves, confusion matrix, mistakes, filters, feature maps,
    activation maximisation, saliency / Grad-CAM / occlusion; images embedded."""
    import json

    from cnnlab.errors import ConfigError
    from cnnlab.report import write_report

    if format not in ("text", "json"):
        raise ConfigError(f"`--format` must be text or json; got {format!r}")
    if n_test < 0 or examples < 0:
        raise ConfigError(f"`--n-test` and `--examples` must be ≥ 0; got {n_test} and {examples}")
    path = write_report(run, out=out, n_test=n_test or None, n_examples=examples, steps=steps)
    typer.echo(json.dumps({"report": str(path)}) if format == "json" else f"report: {path}")
