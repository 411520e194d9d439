"""``cnnlab upscale IMG --scale 3 -o OUT.png``: super-resolve one image (RGB in, RGB out) with a trained model."""

from __future__ import annotations

from typing import Optional

import typer

from cnnlab.cli.app import app


@app.command("upscale")
def upscale_command(
    image: str = typer.Argument(..., help="the image to enlarge (any size; PNG, JPEG, BMP, ...)"),
    scale: int = typer.Option(3, "--scale", "-s", help="upscaling factor (must be one the model was trained for)"),
    model: Optional[str] = typer.Option(None, "--model", "-m",
                                        help="run folder of `cnnlab sr train` or SR weights file (default: shipped)"),
    out: str = typer.Option(..., "--out", "-o", help="output image file (format from the suffix)"),
    tile: int = typer.Option(256, "--tile", help="tile side in input pixels for large images"),
) -> None:
    """Enlarge IMAGE by SCALE with a super-resolution CNN and write OUT."""
    import time

    from cnnlab.apps.superres import weights
    from cnnlab.apps.superres.images import read_rgb, write_rgb
    from cnnlab.apps.superres.upscale import super_resolve

    lr = read_rgb(image)
    sr = weights.resolve(model, scale)
    start = time.perf_counter()
    hr = super_resolve(sr.model, lr, scale, tile=tile)
    path = write_rgb(out, hr)
    typer.echo(f"{image} {lr.shape[1]}×{lr.shape[0]} -> {path} {hr.shape[1]}×{hr.shape[0]} "
               f"(×{scale}, {sr.name} from {sr.source}, {time.perf_counter() - start:.2f} s)")
