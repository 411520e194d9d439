"""``cnnlab style``: neural style transfer (Gatys) with the offline VGG16 trunks."""

from __future__ import annotations

from typing import Optional

import typer

from cnnlab.cli.app import app


@app.command("style")
def style_command(
    content: str = typer.Argument(..., help="content image path or skimage:NAME"),
    style: str = typer.Argument(..., help="style image path or skimage:NAME"),
    output: str = typer.Option(..., "--output", "-o", help="output image (.png/.jpg); the loss curve goes beside it"),
    size: int = typer.Option(256, "--size", help="longer side of the output in pixels"),
    steps: int = typer.Option(120, "--steps", help="loss evaluations at full size (after 100 at each coarse size)"),
    scales: str = typer.Option("0.25,0.5,1", "--scales", help="coarse-to-fine stage sizes relative to --size, e.g. 1 for one stage"),
    model: str = typer.Option("vgg16_bn", "--model", "-m", help="vgg16_bn (easyocr trunk) or vgg16 (HED)"),
    style_weight: Optional[float] = typer.Option(None, "--style-weight", help="default per model"),
    content_weight: float = typer.Option(1.0, "--content-weight"),
    tv_weight: Optional[float] = typer.Option(None, "--tv-weight", help="default per model"),
    optimizer: str = typer.Option("lbfgs", "--optimizer", help="lbfgs or adam"),
    precondition: float = typer.Option(0.2, "--precondition", help="L-BFGS low-pass preconditioner cutoff (fraction of Nyquist); 0 turns it off"),
    style_scale: str = typer.Option("output", "--style-scale", help="output (style targets at the output size in every stage) or stage"),
    init: str = typer.Option("matched", "--init", help="matched (content in the style's colours), content or noise"),
    preserve_color: bool = typer.Option(False, "--preserve-color", help="keep the content image's colours"),
    seed: int = typer.Option(0, "--seed"),
) -> None:
    """Paint CONTENT in the style of STYLE; writes OUT, OUT's loss curve (.loss.png) and losses (.loss.csv)."""
    from pathlib import Path

    from tqdm import tqdm

    from cnnlab.art.images import save_image
    from cnnlab.art.plot import loss_csv, save_loss_curve
    from cnnlab.art.style import style_transfer
    from cnnlab.io import write_text

    from cnnlab.errors import ConfigError

    try:
        stage_scales = tuple(float(v) for v in scales.split(","))
    except ValueError:
        raise ConfigError(f"`--scales` must be comma-separated numbers like 0.25,0.5,1; got {scales!r}") from None
    out = Path(output)
    bar = tqdm(total=None, desc="style", unit="eval", leave=False)

    def progress(record, total: int) -> None:
        bar.total = total
        bar.update(1)
        bar.set_postfix(loss=f"{record.total:.4g}", size=f"{record.width}×{record.height}")

    try:
        result = style_transfer(content, style, model, size=size, steps=steps, scales=stage_scales, style_weight=style_weight,
                                content_weight=content_weight, tv_weight=tv_weight, optimizer=optimizer,
                                precondition=precondition or None, style_scale=style_scale,
                                init=init, preserve_color=preserve_color, seed=seed, callback=progress)
    finally:
        bar.close()
    save_image(result.image, out)
    stem = out.with_suffix("")
    curve = save_loss_curve(result.history, f"{stem}.loss.png", title=f"style transfer: {Path(content).name} × {Path(style).name}")
    write_text(f"{stem}.loss.csv", loss_csv(result.history))
    f = result.final
    typer.echo(f"wrote {out} and {curve} ({result.seconds:.1f} s; final loss {f['total']:.4g} = content "
               f"{f['content']:.4g} + style {f['style']:.4g} + tv {f['tv']:.4g})")
