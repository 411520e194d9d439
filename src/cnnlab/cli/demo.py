"""``cnnlab demo`` (= ``make demo``): the lecture CNN from summary to trained, evaluated, reported run."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from cnnlab.cli.app import app


@app.command("demo")
def demo_command(
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="run folder [runs/demo, runs/demo-2, ...]"),
    epochs: Optional[int] = typer.Option(None, "--epochs", "-e", help="epochs [5: ≥ 99% test accuracy]"),
    report: bool = typer.Option(True, "--report/--no-report", help="write report.html after training"),
) -> None:
    """Build the lecture CNN, print its summary, train it on full MNIST, evaluate on the test set, save the run."""
    import time

    from cnnlab import data
    from cnnlab.train import evaluate_tensors, fit
    from cnnlab.workflows import demo

    start = time.perf_counter()
    model, desc, input_shape = demo.demo_model()
    text = demo.summary_text(model, input_shape)
    typer.echo(text if text is not None else f"(cnnlab.analysis not available: no summary)\n{model}")
    ds = data.load(demo.DEMO_DATA)
    typer.echo(f"\ndata: {ds}")
    recipe = dict(demo.DEMO_RECIPE, **({"epochs": epochs} if epochs is not None else {}))
    run_dir = demo.demo_out(out)
    typer.echo(f"training: {', '.join(f'{k}={v}' for k, v in recipe.items())}\n")
    t0 = time.perf_counter()
    fit(model, ds, out=run_dir, desc=desc, **recipe)
    train_s = time.perf_counter() - t0
    test = evaluate_tensors(model, ds.x_test, ds.y_test, mean=ds.mean, std=ds.std, num_classes=ds.num_classes)
    typer.echo(f"\ntest accuracy {100 * test['accuracy']:.2f}% (loss {test['loss']:.4f}, {test['n']} images); "
               f"training {train_s:.1f}s")
    typer.echo(f"run folder: {run_dir}")
    if report:
        from cnnlab.report import write_report

        path = write_report(run_dir)
        typer.echo(f"report: {path}" if path is not None else "report: cnnlab.report not available yet")
    typer.echo(f"total {time.perf_counter() - start:.1f}s")
