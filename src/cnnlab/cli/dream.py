"""``cnnlab dream``: Deep Dream an image with a pretrained offline network."""

from __future__ import annotations

from typing import List, Optional

import typer

from cnnlab.cli.app import app


@app.command("dream")
def dream_command(
    image: str = typer.Argument(..., help="image path or skimage:NAME (e.g. skimage:chelsea)"),
    output: str = typer.Option(..., "--output", "-o", help="output image (.png/.jpg)"),
    model: str = typer.Option("mobilenet_v2", "--model", "-m", help="mobilenet_v2, efficientnet_lite0, vgg16_bn, vgg16"),
    layer: Optional[List[str]] = typer.Option(None, "--layer", "-l", help="layer to excite (repeatable); default per model"),
    octaves: int = typer.Option(3, "--octaves", help="number of scales"),
    steps: int = typer.Option(10, "--steps", help="gradient-ascent steps per octave"),
    step_size: float = typer.Option(0.012, "--step-size", help="mean pixel change per step ([0, 1] pixels)"),
    octave_scale: float = typer.Option(1.4, "--octave-scale", help="size ratio between octaves"),
    jitter: int = typer.Option(32, "--jitter", help="max random roll in pixels"),
    guide: Optional[str] = typer.Option(None, "--guide", help="guide image: dream towards its features"),
    max_side: Optional[int] = typer.Option(None, "--max-side", help="dream at most at this size (detail upsampled)"),
    seed: int = typer.Option(0, "--seed", help="random seed of the jitter"),
) -> None:
    """Exaggerate what a CNN sees in IMAGE (octaves, jitter, normalised gradient ascent)."""
    from tqdm import tqdm

    from cnnlab.art.dream import dream
    from cnnlab.art.images import save_image

    bar = tqdm(total=octaves * steps, desc="dream", unit="step", leave=False)

    def progress(done: int, total: int, value: float) -> None:
        bar.update(done - bar.n)
        bar.set_postfix(objective=f"{value:.4g}")

    try:
        result = dream(image, model, layer or None, octaves=octaves, steps=steps, step_size=step_size,
                       octave_scale=octave_scale, jitter=jitter, guide=guide, max_side=max_side, seed=seed,
                       callback=progress)
    finally:
        bar.close()
    path = save_image(result.image, output)
    H, W = result.image.shape[-2:]
    typer.echo(f"wrote {path} ({W}×{H}, layers {', '.join(result.layers)}, objective "
               f"{result.objective[-1][0]:.4g} -> {result.objective[-1][-1]:.4g} at full size, {result.seconds:.1f} s)")
