"""``cnnlab explain MODEL|RUN --image IMG --method M --out DIR``: explain one image, write PNGs."""

from __future__ import annotations

from typing import Optional

import typer

from cnnlab.cli.app import app
from cnnlab.explain import registry  # names only: the methods' modules (and torch) load when one runs

_METHOD_HELP = ("filters, featuremaps, maximize, or an attribution method of the registry: "
                + ", ".join(registry.names()))


@app.command("explain")
def explain_command(
    model: str = typer.Argument(..., help="zoo name (pretrained when offline weights exist), run folder or JSON description"),
    image: Optional[str] = typer.Option(None, "--image", "-i", help="image file (not needed for filters/maximize)"),
    method: str = typer.Option("gradcam", "--method", "-m", help=_METHOD_HELP),
    layer: Optional[str] = typer.Option(None, "--layer", "-l",
                                        help="dotted module name for filters, featuremaps, maximize and the methods "
                                             "that take a layer (default depends on the method)"),
    target: Optional[str] = typer.Option(None, "--target", "-t", help="class index or name (default: the predicted class)"),
    out: str = typer.Option(..., "--out", "-o", help="output folder for the PNGs"),
    steps: Optional[int] = typer.Option(None, "--steps", help="activation-maximisation steps (default: the preset's)"),
    window: Optional[int] = typer.Option(None, "--window", help="occlusion window side in pixels (default: side/7)"),
    size: Optional[str] = typer.Option(None, "--size", help="H,W to feed the image at (default: the model's input size)"),
    format: str = typer.Option("text", "--format", "-f", help="text or json"),
) -> None:
    """Explain MODEL's decision on one image with one method and write the pictures as PNG files."""
    import json

    from cnnlab.errors import ConfigError
    from cnnlab.workflows.explain import explain_image, load_explainable

    if format not in ("text", "json"):
        raise ConfigError(f"`--format` must be text or json; got {format!r}")
    hw = None
    if size is not None:
        from cnnlab.cli.summary import parse_shape

        hw = parse_shape(size)
        if len(hw) != 2:
            raise ConfigError(f"`--size` must be two numbers H,W; got {size!r}")
    rec = explain_image(load_explainable(model), image, method, out, layer=layer, target=target, steps=steps,
                        window=window, size=hw)
    if format == "json":
        typer.echo(json.dumps(rec))
        return
    if "predicted" in rec:
        typer.echo(f"{rec['model']}: predicted {rec['predicted_name']} ({rec['predicted_probability']:.1%}); "
                   f"explaining {rec['target_name']} ({rec['target_probability']:.1%}) with {method}"
                   + (f" at {rec['layer']}" if rec.get("layer") else ""))
    for f in rec["files"]:
        typer.echo(f)
