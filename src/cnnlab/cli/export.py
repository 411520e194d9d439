"""``cnnlab export RUN --onnx OUT``: ONNX export checked with onnxruntime."""

from __future__ import annotations

from pathlib import Path

import typer

from cnnlab.cli.app import app


@app.command("export")
def export_command(
    run: Path = typer.Argument(..., help="run folder"),
    onnx: Path = typer.Option(..., "--onnx", help="output .onnx file"),
    atol: float = typer.Option(1e-4, "--atol", help="largest allowed logit difference torch vs onnxruntime"),
) -> None:
    """Export a run's model to ONNX (dynamic batch) and check onnxruntime's logits against torch's."""
    from cnnlab.train import export_onnx, load_run

    info = export_onnx(load_run(run), onnx, atol=atol)
    typer.echo(f"wrote {info['path']} (opset {info['opset']}, input {info['input_name']} "
               f"N×{'×'.join(map(str, info['input_shape'][1:]))}); onnxruntime max |Δlogit| {info['max_abs_diff']:.1e}")
