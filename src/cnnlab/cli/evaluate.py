"""``cnnlab evaluate RUN``: the run's task metrics on a dataset split (classification: accuracy, loss, per-class
accuracy and confusion matrix; regression: loss, PSNR/SSIM; embedding: verification accuracy, ROC AUC)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from cnnlab.cli.app import app


@app.command("evaluate")
def evaluate_command(
    run: Path = typer.Argument(..., help="run folder"),
    data: Optional[str] = typer.Option(None, "--data", "-d", help="dataset [the run's]"),
    split: str = typer.Option("test", "--split", help="test | val | train"),
    weights: str = typer.Option("final", "--weights", help="final | best"),
    format: str = typer.Option("text", "--format", "-f", help="text or json"),
    device: str = typer.Option("auto", "--device", help="auto | cpu | cuda"),
) -> None:
    """Evaluate a trained run with its task's metrics; --format json prints them (classification: {accuracy, loss,
    per_class_accuracy, confusion_matrix, n, ...}; regression: {loss, psnr, ...})."""
    import json

    from cnnlab.errors import ConfigError
    from cnnlab.train import evaluate_run, load_run

    if format not in ("text", "json"):
        raise ConfigError(f"`--format` must be text or json; got {format!r}")
    result = evaluate_run(load_run(run, weights=weights), data, split=split, device=device)
    if format == "json":
        typer.echo(json.dumps(result))
        return
    typer.echo(render_text(result))


def render_text(r: dict) -> str:
    if "confusion_matrix" not in r:  # regression, embedding: one line of the task's numbers
        shown = "  ".join(f"{k.replace('_', ' ')} {v:.4f}" for k, v in r.items()
                          if isinstance(v, float) and k not in ("threshold",))
        return f"{r['dataset']} {r['split']} ({r.get('task', '')}): {shown}  n {r['n']}"
    lines = [f"{r['dataset']} {r['split']}: accuracy {100 * r['accuracy']:.2f}%  loss {r['loss']:.4f}  n {r['n']}", "",
             "per-class accuracy:"]
    for name, acc in zip(r["classes"], r["per_class_accuracy"]):
        lines.append(f"  {name:>12}  {'-' if acc is None else f'{100 * acc:6.2f}%'}")
    cm = r["confusion_matrix"]
    width = max(5, max((len(str(v)) for row in cm for v in row), default=1) + 1)
    lines += ["", "confusion matrix (rows: true, columns: predicted):",
              " " * 14 + "".join(f"{i:>{width}}" for i in range(len(cm)))]
    for i, row in enumerate(cm):
        lines.append(f"  {r['classes'][i][:10]:>10}  " + "".join(f"{v:>{width}}" for v in row))
    return "\n".join(lines)
