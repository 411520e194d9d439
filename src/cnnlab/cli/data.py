"""``cnnlab data list`` and ``cnnlab data fetch NAME``: the datasets under ``$CNNLAB_DATA``."""

from __future__ import annotations

from typing import Optional

import typer

from cnnlab.cli.app import app

data_app = typer.Typer(help="Datasets under $CNNLAB_DATA (default ~/.cache/cnnlab/datasets): list, fetch.",
                       no_args_is_help=True)
app.add_typer(data_app, name="data")


@data_app.command("list")
def list_command(format: str = typer.Option("text", "--format", "-f", help="text or json")) -> None:
    """Each dataset, the folder where it is looked for, and whether it is there."""
    import json

    from cnnlab.data import store
    from cnnlab.errors import ConfigError

    if format not in ("text", "json"):
        raise ConfigError(f"`--format` must be text or json; got {format!r}")
    rows = store.status()
    if format == "json":
        typer.echo(json.dumps({"root": str(store.root()), "datasets": rows}))
        return
    typer.echo(f"datasets root: {store.root()}  (set {store.ENV} to change it)")
    width = max(len(r["name"]) for r in rows)
    for r in rows:
        state = "present" if r["present"] else "missing: " + ", ".join(r["missing"][:2])
        typer.echo(f"{r['name']:<{width}}  {state:<24}  {r['folder']}")
        typer.echo(f"{'':<{width}}  {r['description']}")


@data_app.command("fetch")
def fetch_command(
    name: str = typer.Argument(..., help="dataset name (see `cnnlab data list`)"),
    url: Optional[str] = typer.Option(None, "--url", help="another source with the same layout (mirror, file://)"),
    force: bool = typer.Option(False, "--force", help="fetch again even if the dataset is complete"),
) -> None:
    """Download NAME from its public source (resumable), check its sha256s and unpack it under $CNNLAB_DATA."""
    import sys

    from cnnlab.data import fetch, store

    def progress(done: int, total: Optional[int]) -> None:
        if sys.stderr.isatty():
            what = f"{done / 1e6:.1f} / {total / 1e6:.1f} MB" if total else f"{done / 1e6:.1f} MB"
            print(f"\rdownloading {name}: {what}", end="", file=sys.stderr, flush=True)

    already = not store.missing_files(store.info(name), store.folder(name))
    where = fetch.fetch(name, url=url, force=force, progress=progress)
    if sys.stderr.isatty():
        print(file=sys.stderr)
    typer.echo(f"{name}: {'already present' if already and not force else 'ready'} in {where}")
