"""``cnnlab sr train|eval``: super-resolution models trained on T91 and measured on Set5 as the papers do."""

from __future__ import annotations

from typing import Optional

import typer

from cnnlab.cli.app import app

sr_app = typer.Typer(help="Super-resolution (SRCNN, FSRCNN, ESPCN): train on T91, evaluate on Set5.",
                     no_args_is_help=True)
app.add_typer(sr_app, name="sr")


@sr_app.command("eval")
def eval_command(
    run: Optional[str] = typer.Argument(None, help="run folder of `cnnlab sr train` or SR weights file "
                                                   "(default: the shipped model)"),
    data: str = typer.Option("set5", "--data", "-d", help="set5"),
    scale: Optional[int] = typer.Option(None, "--scale", "-s", help="scale [the model's]"),
    format: str = typer.Option("text", "--format", "-f", help="text or json"),
    bicubic_only: bool = typer.Option(False, "--bicubic", help="score bicubic only (no model)"),
) -> None:
    """PSNR/SSIM of RUN on Set5 (Y channel, border shaved by the scale), per image and mean, bicubic beside."""
    import json

    from cnnlab.apps.superres import protocol, weights
    from cnnlab.apps.superres.render import evaluation_text
    from cnnlab.errors import ConfigError

    if format not in ("text", "json"):
        raise ConfigError(f"`--format` must be text or json; got {format!r}")
    if data.lower() != "set5":
        raise ConfigError(f"`--data` must be set5 (the set with LR files); got {data!r}")
    if bicubic_only:
        sr = None
        scale = scale or 3
    else:
        sr = weights.resolve(run, scale) if scale else weights.resolve_any(run)
        scale = sr.scale
    ev = protocol.evaluate(sr.model if sr else None, scale, data="set5").to_dict()
    name = "bicubic" if sr is None else sr.meta.get("zoo", "model")
    if format == "json":
        ev["model"] = None if sr is None else {"source": sr.source, "zoo": name, "channels": sr.channels}
        typer.echo(json.dumps(ev, indent=2))
    else:
        typer.echo(evaluation_text(ev, name), nl=False)
