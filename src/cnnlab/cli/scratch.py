"""``cnnlab scratch ...``: the NumPy engine's worked examples and its MNIST trainer."""

from __future__ import annotations

from typing import Optional

import typer

from cnnlab.cli.app import app

scratch_app = typer.Typer(help="CNN by hand: the NumPy engine's worked examples and trainer.",
                          no_args_is_help=True)
app.add_typer(scratch_app, name="scratch")


def _grid(a) -> str:
    return "\n".join("  " + " ".join(f"{v:>4g}" for v in row) for row in a)


@scratch_app.command("edge")
def edge_command() -> None:
    """The vertical-edge kernel on the 6×6 image of the notes (cross-correlation, valid, stride 1)."""
    from cnnlab.scratch.examples import edge_example

    r = edge_example()
    typer.echo("image (6×6):\n" + _grid(r["image"]))
    typer.echo("kernel (3×3, vertical edge):\n" + _grid(r["kernel"]))
    typer.echo("output (4×4):\n" + _grid(r["output"]))
    terms = " + ".join(f"{a:g}·{b:g}" for a, b in r["top_left_terms"])
    typer.echo(f"top-left: {terms} = {r['output'][0, 0]:g}")


@scratch_app.command("learn-edge")
def learn_edge_command(steps: int = typer.Option(150, help="gradient-descent steps"),
                       lr: float = typer.Option(0.5, help="learning rate")) -> None:
    """Learn the vertical-edge kernel back from (image, edge map) pairs by gradient descent."""
    from cnnlab.scratch.examples import learn_edge_kernel

    r = learn_edge_kernel(steps=steps, lr=lr)
    for step in sorted({0, 1, 5, 20, 50, steps} & set(range(steps + 1))):
        typer.echo(f"step {step:>4}  loss {r['losses'][step]:.3e}")
    typer.echo("learned kernel:\n" + _grid(r["kernel"].round(4) + 0.0))
    typer.echo(f"max |learned − target| = {abs(r['kernel'] - r['target']).max():.2e}")


@scratch_app.command("formulas")
def formulas_command() -> None:
    """Output-size, parameter-count and receptive-field formulas next to what the engine produces."""
    from cnnlab.scratch.examples import formula_checks

    rows = formula_checks()
    width = max(len(r[0]) for r in rows)
    typer.echo(f"{'':<{width}}  {'formula':>12}  {'engine':>12}")
    for what, formula, engine in rows:
        flag = "" if formula == engine else "  MISMATCH"
        typer.echo(f"{what:<{width}}  {formula:>12,}  {engine:>12,}{flag}")


@scratch_app.command("pooling")
def pooling_command() -> None:
    """Back-propagation through 2×2 max pooling (to the max id) and mean pooling (spread evenly)."""
    from cnnlab.scratch.examples import pooling_example

    r = pooling_example()
    typer.echo("input (4×4):\n" + _grid(r["x"]))
    typer.echo("max pool 2×2:\n" + _grid(r["max_out"]) + "\nmean pool 2×2:\n" + _grid(r["mean_out"]))
    typer.echo("upstream δ:\n" + _grid(r["delta"]))
    typer.echo("∂L/∂x through max pooling (δ to each window's max id):\n" + _grid(r["max_dx"]))
    typer.echo("∂L/∂x through mean pooling (δ/4 to every pixel):\n" + _grid(r["mean_dx"]))
    typer.echo(f"Σ δ = {r['delta'].sum():g}; Σ ∂L/∂x = {r['max_dx'].sum():g} (max), "
               f"{r['mean_dx'].sum():g} (mean): pooling keeps the total gradient")


@scratch_app.command("vanishing")
def vanishing_command(depth: int = typer.Option(8, help="hidden layers"),
                      width: int = typer.Option(32, help="units per hidden layer")) -> None:
    """Per-layer gradient norms of a deep sigmoid net vs the same net with ReLU (the ¼ factor)."""
    from cnnlab.scratch.examples import vanishing_gradients

    r = vanishing_gradients(depth=depth, width=width)
    typer.echo(f"{'layer':>5}  {'‖∂L/∂W‖ sigmoid':>16}  {'gain σ':>7}  {'‖∂L/∂W‖ relu':>13}  {'gain relu':>9}")
    s, q = r["sigmoid"], r["relu"]
    for i in range(depth):
        typer.echo(f"{i + 1:>5}  {s['weight_grad_norms'][i]:>16.2e}  {s['activation_gains'][i]:>7.3f}  "
                   f"{q['weight_grad_norms'][i]:>13.2e}  {q['activation_gains'][i]:>9.3f}")
    typer.echo("gain = ‖∂L/∂z‖/‖∂L/∂a‖ through the activation; σ'(z) ≤ 0.25 so every sigmoid gain ≤ 0.25, "
               "and layer 1's gradient is "
               f"{s['weight_grad_norms'][-1] / s['weight_grad_norms'][0]:.0f}× smaller than layer {depth}'s "
               f"(ReLU: {q['weight_grad_norms'][-1] / q['weight_grad_norms'][0]:.1f}×)")


@scratch_app.command("train")
def train_command(
    model: str = typer.Option("lecture_cnn", "--model", "-m", help="lecture_cnn or lenet5"),
    epochs: int = typer.Option(3, help="epochs over the 50,000 training images"),
    batch_size: int = typer.Option(64, "--batch-size", "-b"),
    lr: float = typer.Option(0.05, help="SGD learning rate (momentum 0.9)"),
    lr_decay: float = typer.Option(0.5, help="learning-rate factor after each epoch"),
    limit: Optional[int] = typer.Option(None, help="train on the first N images only"),
    threads: Optional[int] = typer.Option(None, help="BLAS threads (default: numpy's own)"),
    seed: int = typer.Option(0, "--seed"),
    format: str = typer.Option("text", "--format", "-f", help="text or json"),
) -> None:
    """Train a NumPy CNN on MNIST with mini-batch SGD + momentum and report test accuracy."""
    import json

    from cnnlab.errors import ConfigError
    from cnnlab.scratch.train import train_mnist

    if format not in ("text", "json"):
        raise ConfigError(f"`--format` must be text or json; got {format!r}")
    if epochs < 1 or batch_size < 1:
        raise ConfigError(f"`--epochs` and `--batch-size` must be ≥ 1; got {epochs}, {batch_size}")
    result = train_mnist(model, epochs=epochs, batch_size=batch_size, lr=lr, lr_decay=lr_decay,
                         limit=limit, threads=threads, seed=seed,
                         log=(lambda line: typer.echo(line)) if format == "text" else None)
    if format == "json":
        typer.echo(json.dumps(result))
    else:
        typer.echo(f"{result['seconds_per_epoch']:.1f} s/epoch on {result['train_images']:,} images")
