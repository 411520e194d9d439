"""``cnnlab zoo``: list the model zoo (name, input shape, parameters, description)."""

from __future__ import annotations

import typer

from cnnlab.cli.app import app


@app.command("zoo")
def zoo_command(
    format: str = typer.Option("text", "--format", "-f", help="text or json"),
) -> None:
    """List the zoo models with their input shape, parameter count and a one-line description."""
    import json

    from cnnlab import zoo
    from cnnlab.errors import ConfigError

    if format not in ("text", "json"):
        raise ConfigError(f"`--format` must be text or json; got {format!r}")
    rows = [zoo.info(name) for name in zoo.names()]
    if format == "json":
        typer.echo(json.dumps(rows))
        return
    typer.echo(render_table(rows))


def render_table(rows) -> str:
    """Plain-text table of :func:`cnnlab.zoo.info` rows."""
    table = [("name", "input", "params", "description")]
    table += [(r["name"], "×".join(map(str, r["input_shape"])), f"{r['params']:,}", r["description"]) for r in rows]
    widths = [max(len(row[i]) for row in table) for i in range(3)]
    lines = []
    for i, row in enumerate(table):
        lines.append(f"{row[0]:<{widths[0]}}  {row[1]:<{widths[1]}}  {row[2]:>{widths[2]}}  {row[3]}")
        if i == 0:
            lines.append("-" * (sum(widths) + 6 + max(len(r[3]) for r in table)))
    return "\n".join(lines)
