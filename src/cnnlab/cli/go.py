"""``cnnlab go selfplay|train|gtp|match|show``: CNNs that play Go (see :mod:`cnnlab.apps.go`)."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from cnnlab.cli.app import app

go_app = typer.Typer(help="Go: GNU Go self-play data, policy CNNs (no pooling vs pooling), a GTP engine, matches.",
                     no_args_is_help=True)
app.add_typer(go_app, name="go")


def _check_format(format: str) -> None:
    from cnnlab.errors import ConfigError

    if format not in ("text", "json"):
        raise ConfigError(f"`--format` must be text or json; got {format!r}")


@go_app.command("selfplay")
def selfplay_command(
    games: int = typer.Option(..., "--games", "-n", help="number of games (game i uses seed SEED + i)"),
    out: Path = typer.Option(..., "--out", "-o", help="folder of the SGF files (game-NNNNNN.sgf)"),
    level: int = typer.Option(0, "--level", "-l", help="GNU Go level 0..10"),
    workers: int = typer.Option(1, "--workers", "-k", help="parallel GNU Go processes"),
    size: int = typer.Option(9, "--size", help="board size"),
    komi: float = typer.Option(7.5, "--komi", help="komi"),
    seed: int = typer.Option(0, "--seed", help="seed of game 0"),
    opening: int = typer.Option(0, "--opening", help="start each game from 0..N random isolated stones (setup "
                                "stones, not moves): many more distinct games than GNU Go's seeds give"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="no progress lines"),
) -> None:
    """Record GNU Go self-play games, one SGF per game (resumable: games already written are skipped)."""
    import time

    from cnnlab.apps.go.selfplay import selfplay

    start = time.perf_counter()

    def progress(done: int, total: int) -> None:
        if not quiet:
            minutes = (time.perf_counter() - start) / 60
            typer.echo(f"{done}/{total} games  {minutes:.1f} min", err=True)

    r = selfplay(out, games, level=level, workers=workers, size=size, komi=komi, seed=seed, opening=opening,
                 progress=progress)
    rate = r.written / (r.seconds / 60) if r.seconds > 0 and r.written else 0.0
    typer.echo(f"{out}: {r.written} games written, {r.skipped} already there, {r.moves} moves, "
               f"{r.seconds:.0f} s ({rate:.1f} games/min)")


@go_app.command("train")
def train_command(
    sources: List[Path] = typer.Argument(..., help="SGF files and/or folders of SGF files"),
    out: Path = typer.Option(..., "--out", "-o", help="run folder"),
    model: str = typer.Option("go_policy", "--model", "-m", help="go_policy (no pooling) | go_policy_pool"),
    size: int = typer.Option(9, "--size", help="board size of the games to use"),
    filters: int = typer.Option(64, "--filters", help="filters per conv layer"),
    layers: int = typer.Option(6, "--layers", help="conv layers (the first 5x5, the others 3x3)"),
    augment: bool = typer.Option(True, "--augment/--no-augment", help="random board symmetry per training example"),
    epochs: Optional[int] = typer.Option(None, "--epochs", "-e", help="epochs [8]"),
    batch_size: Optional[int] = typer.Option(None, "--batch-size", "-b", help="batch size [256]"),
    lr: Optional[float] = typer.Option(None, "--lr", help="Adam learning rate [2e-3]"),
    seed: int = typer.Option(0, "--seed", help="seed of initialisation and data order"),
    split_seed: int = typer.Option(0, "--split-seed", help="seed of the split of games into train/val/test"),
    val: float = typer.Option(0.05, "--val", help="fraction of games held out for validation"),
    test: float = typer.Option(0.1, "--test", help="fraction of games held out for test"),
    max_games: Optional[int] = typer.Option(None, "--max-games", help="use only the first N games"),
    max_minutes: Optional[float] = typer.Option(None, "--max-minutes", help="stop after the last epoch that fits"),
    format: str = typer.Option("text", "--format", "-f", help="text or json"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="no progress bar or epoch lines"),
) -> None:
    """Train a policy (positions -> next move) through cnnlab's fit; held-out games split by game."""
    import json

    from cnnlab.apps.go.train import train

    _check_format(format)
    options = {k: v for k, v in dict(epochs=epochs, batch_size=batch_size, lr=lr).items() if v is not None}
    r = train([str(s) for s in sources], out, model=model, size=size, filters=filters, layers=layers, augment=augment,
              val=val, test=test, split_seed=split_seed, max_games=max_games, max_minutes=max_minutes, seed=seed,
              progress=not quiet, log=None if format == "json" or quiet else typer.echo, **options)
    if format == "json":
        typer.echo(json.dumps(r))
    else:
        typer.echo(f"{out}: {r['games']} games ({r['games_test']} held out for test), {r['epochs']} epochs, "
                   f"test top-1 {100 * r['test_top1']:.2f}%  top-5 {100 * r['test_top5']:.2f}% "
                   f"on {r['test_positions']} positions, {r['seconds']:.0f} s")


@go_app.command("eval")
def eval_command(
    run: Path = typer.Argument(..., help="run folder of `cnnlab go train`"),
    symmetries: int = typer.Option(1, "--symmetries", help="1, or 8: average the policy over the board symmetries"),
    format: str = typer.Option("text", "--format", "-f", help="text or json"),
) -> None:
    """Top-1/top-5 move agreement on the run's held-out test games, overall and by game phase."""
    import json

    from cnnlab.apps.go.train import evaluate_run

    _check_format(format)
    r = evaluate_run(run, symmetries)
    if format == "json":
        typer.echo(json.dumps(r))
        return
    typer.echo(f"{run}: top-1 {100 * r['top1']:.2f}%  top-5 {100 * r['top5']:.2f}% on {r['n']} held-out positions")
    for row in r["phases"]:
        typer.echo(f"  moves {row['moves']:>6}: top-1 {100 * row['top1']:5.1f}%  top-5 {100 * row['top5']:5.1f}%"
                   f"  ({row['positions']} positions)")


@go_app.command("gtp")
def gtp_command(
    run: str = typer.Argument(..., help="run folder of `cnnlab go train` (or a zoo name: random weights)"),
    komi: float = typer.Option(7.5, "--komi", help="komi until the controller sets one"),
    symmetries: int = typer.Option(1, "--symmetries", help="1, or 8: average the policy over the board symmetries"),
) -> None:
    """A GTP engine on stdin/stdout: the policy's most probable legal move, no search."""
    import sys

    from cnnlab.apps.go.engine import Engine, load_player, serve

    player = load_player(run, symmetries)
    serve(Engine(player, size=player.size, komi=komi), sys.stdin, sys.stdout)


@go_app.command("match")
def match_command(
    run: str = typer.Argument(..., help="run folder of `cnnlab go train`"),
    opponent: str = typer.Option("gnugo", "--opponent", help="gnugo"),
    level: int = typer.Option(0, "--level", "-l", help="GNU Go level 0..10"),
    games: int = typer.Option(200, "--games", "-n", help="games (colours alternate)"),
    komi: float = typer.Option(7.5, "--komi", help="komi"),
    seed: int = typer.Option(1000, "--seed", help="GNU Go seed of game 0 (game i: seed + i)"),
    workers: int = typer.Option(1, "--workers", "-k", help="parallel games"),
    sgf_dir: Optional[Path] = typer.Option(None, "--sgf-dir", help="write every game as an SGF here"),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="write the summary and the games as JSON here"),
    symmetries: int = typer.Option(1, "--symmetries", help="1, or 8: average the policy over the board symmetries"),
    format: str = typer.Option("text", "--format", "-f", help="text or json"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="no progress lines"),
) -> None:
    """Play RUN against GNU Go, both colours, every move checked on cnnlab's board; wins with a 95% Wilson interval."""
    import json

    from cnnlab.apps.go.match import match, records_json
    from cnnlab.errors import ConfigError
    from cnnlab.io import write_json

    _check_format(format)
    if opponent != "gnugo":
        raise ConfigError(f"`--opponent` must be gnugo (the only opponent installed); got {opponent!r}")

    def progress(res) -> None:
        if not quiet:
            typer.echo(f"{res.n}/{games} games, net won {res.wins}", err=True)

    result = match(run, games=games, level=level, komi=komi, seed=seed, workers=workers, sgf_dir=sgf_dir,
                   progress=progress, symmetries=symmetries)
    s = result.summary()
    if out is not None:
        write_json(out, {"run": str(run), "summary": s, "games": records_json(result)})
    if format == "json":
        typer.echo(json.dumps(s))
        return
    lo, hi = s["wilson95"]
    typer.echo(f"{run} vs GNU Go level {level}, komi {komi:g}: {s['wins']}/{s['games']} wins "
               f"({100 * s['win_rate']:.1f}%, 95% Wilson {100 * lo:.1f}-{100 * hi:.1f}%)")
    for colour, b in s["by_colour"].items():
        if b["games"]:
            typer.echo(f"  as {colour}: {b['wins']}/{b['games']} ({100 * b['win_rate']:.1f}%, "
                       f"{100 * b['wilson95'][0]:.1f}-{100 * b['wilson95'][1]:.1f}%)")
    typer.echo(f"  illegal moves: net {s['illegal_moves']['net']}, gnugo {s['illegal_moves']['gnugo']}; "
               f"GNU Go's final_score names the same winner in {s['gnugo_agrees_on_winner'][0]}/"
               f"{s['gnugo_agrees_on_winner'][1]} games; {s['distinct_games']} distinct games "
               f"({s['distinct_wins']} won); "
               f"{s['mean_moves']:.0f} moves per game; {s['seconds']:.0f} s")


@go_app.command("show")
def show_command(
    game: Path = typer.Argument(..., help="SGF file"),
    out: Path = typer.Option(..., "--out", "-o", help="PNG to write"),
    move: Optional[int] = typer.Option(None, "--move", "-k", help="show the position before move K [after the last]"),
    model: Optional[str] = typer.Option(None, "--model", "-m", help="run folder: draw its policy as a heat map"),
) -> None:
    """Draw a board position (from an SGF) with the policy's move probabilities as a heat map."""
    from cnnlab.apps.go.show import show

    r = show(game, move=move, model=model, out=out)
    top = ", ".join(f"{v} {100 * p:.1f}%" for v, p in r["top"])
    typer.echo(f"{out}: position before move {r['move']}" + (f"; policy top moves: {top}" if top else ""))
