"""Matches between the policy engine and GNU Go, refereed on cnnlab's own board.

Each game: GNU Go (``--level L --seed S``, a new seed per game, Chinese rules, capture-all-dead, never
resigning) against the :class:`~cnnlab.apps.go.engine.Engine` spoken to through GTP command lines; the
colours alternate (even games: the network is Black). The referee checks every move of both players
against its own board before passing it on: an illegal move loses the game on the spot (and is counted).
A game ends after two passes in a row (or at ``4 × size²`` moves) and is scored by area scoring with komi
on the referee's board; GNU Go's own ``final_score`` is recorded beside it.

The win rate comes with its 95% Wilson score interval (Wilson 1927), which stays inside [0, 1] and is
sound at small counts, unlike the normal approximation.
"""

from __future__ import annotations

import math
import multiprocessing
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from cnnlab.apps.go.board import BLACK, WHITE, Board, IllegalMove, format_vertex, parse_vertex
from cnnlab.apps.go.gnugo import GtpError, check_gnugo_job, gnugo
from cnnlab.errors import ConfigError


def wilson(wins: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """The Wilson score interval of a binomial proportion (95% for the default z)."""
    if n == 0:
        return 0.0, 1.0
    p = wins / n
    den = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass
class GameRecord:
    index: int
    net_colour: str
    winner: str  # "net" | "gnugo"
    score: float  # black - white - komi on the referee's board (nan when ended by an illegal move)
    gnugo_score: str
    moves: int
    illegal: str = ""  # who played an illegal move, and which
    sgf: str = ""


@dataclass
class MatchResult:
    games: list = field(default_factory=list)
    seconds: float = 0.0
    level: int = 0
    komi: float = 7.5
    symmetries: int = 1

    @property
    def n(self) -> int:
        return len(self.games)

    @property
    def wins(self) -> int:
        return sum(g.winner == "net" for g in self.games)

    def summary(self) -> dict:
        lo, hi = wilson(self.wins, self.n)
        by = {}
        for colour in ("black", "white"):
            gs = [g for g in self.games if g.net_colour == colour]
            w = sum(g.winner == "net" for g in gs)
            clo, chi = wilson(w, len(gs))
            by[colour] = {"games": len(gs), "wins": w, "win_rate": w / len(gs) if gs else None,
                          "wilson95": [clo, chi]}
        agree = [g for g in self.games if not g.illegal]
        same = sum(_same_winner(g) for g in agree)
        distinct = {(g.net_colour, _moves_of(g.sgf)): g.winner == "net" for g in self.games}
        return {"games": self.n, "wins": self.wins, "win_rate": self.wins / self.n if self.n else None,
                "wilson95": [lo, hi], "by_colour": by, "level": self.level, "komi": self.komi,
                "symmetries": self.symmetries,
                "illegal_moves": {"net": sum(g.illegal.startswith("net") for g in self.games),
                                  "gnugo": sum(g.illegal.startswith("gnugo") for g in self.games)},
                "mean_moves": sum(g.moves for g in self.games) / self.n if self.n else 0,
                # the net plays deterministically and GNU Go's randomness is small: count the distinct games
                # (and how many of them the net won: the repeats weight each line by how often GNU Go's seeds
                # pick it, which the win rate should; the distinct count shows how many lines there were)
                "distinct_games": len(distinct), "distinct_wins": sum(distinct.values()),
                "gnugo_agrees_on_winner": [same, len(agree)], "seconds": self.seconds}


def _moves_of(text: str) -> str:
    return text[text.find(";", 2):] if text else ""


def _same_winner(g: GameRecord) -> bool:
    gs = g.gnugo_score.upper()
    if not gs or gs[0] not in "BW0":
        return False
    ref = "B" if g.score > 0 else ("W" if g.score < 0 else "0")
    return gs[0] == ref


def play_game(engine, opponent, index: int, *, size: int, komi: float, net_black: bool,
              max_moves: int | None = None) -> GameRecord:
    """One refereed game between ``engine`` (cnnlab's GTP :class:`Engine`) and a GTP ``opponent`` process."""
    from cnnlab.apps.go import sgf

    for cmd in (f"boardsize {size}", "clear_board", f"komi {komi}"):
        reply = engine.handle(cmd)
        if not reply.startswith("="):
            raise ConfigError(f"the engine refused {cmd!r}: {reply.strip()}")
        opponent.send(cmd)
    referee = Board(size, komi)
    net_colour = BLACK if net_black else WHITE
    max_moves = max_moves or 4 * size * size
    colour, illegal = BLACK, ""
    while not referee.game_over and len(referee.history) < max_moves:
        name = "b" if colour == BLACK else "w"
        is_net = colour == net_colour
        if is_net:
            reply = engine.handle(f"genmove {name}")
            if not reply.startswith("="):
                illegal = f"net: engine error {reply.strip()}"
                break
            vertex = reply[1:].strip()
        else:
            vertex = opponent.send(f"genmove {name}")
        try:
            if vertex.lower() == "resign":
                illegal = f"{'net' if is_net else 'gnugo'}: resigned"
                break
            move = parse_vertex(vertex, size)
            referee.play(move, colour)
        except IllegalMove as exc:
            illegal = f"{'net' if is_net else 'gnugo'}: {vertex} ({exc})"
            break
        if is_net:
            opponent.send(f"play {name} {format_vertex(move, size)}")
        else:
            reply = engine.handle(f"play {name} {format_vertex(move, size)}")
            if not reply.startswith("="):
                illegal = f"net: engine refused GNU Go's legal {vertex}: {reply.strip()}"
                break
        colour = WHITE if colour == BLACK else BLACK
    if illegal:
        loser_is_net = illegal.startswith("net")
        winner = "gnugo" if loser_is_net else "net"
        score = float("nan")
        gnugo_score = ""
    else:
        score = referee.score()
        net_wins = (score > 0) == (net_colour == BLACK) and score != 0
        winner = "net" if net_wins else "gnugo"
        try:
            gnugo_score = opponent.send("final_score")
        except GtpError:
            gnugo_score = ""
    record = sgf.dumps(referee.history, size=size, komi=komi, result=referee.result() if not illegal else "",
                       black="cnnlab" if net_black else "GNU Go", white="GNU Go" if net_black else "cnnlab",
                       comment=illegal)
    return GameRecord(index, "black" if net_black else "white", winner, score, gnugo_score, len(referee.history),
                      illegal, record.decode())


def _worker(args) -> list[GameRecord]:
    run, indices, level, seed, size, komi, symmetries = args
    from cnnlab.apps.go.engine import Engine, load_player

    player = load_player(run, symmetries)
    engine = Engine(player, size=size, komi=komi)
    records = []
    proc = gnugo(level, seed + indices[0], komi=komi, size=size)
    try:
        for i in indices:
            proc.send(f"set_random_seed {seed + i}")
            records.append(play_game(engine, proc, i, size=size, komi=komi, net_black=i % 2 == 0))
    finally:
        proc.close()
    return records


def match(run, *, games: int = 200, level: int = 0, komi: float = 7.5, seed: int = 1000, workers: int = 1,
          size: int | None = None, sgf_dir: str | Path | None = None, progress=None, symmetries: int = 1) -> MatchResult:
    """Play ``games`` refereed games of ``run``'s policy against GNU Go at ``level`` (colours alternate).

    Raises:
        MissingDependencyError: GNU Go is not installed. ConfigError: bad games/level/workers.
    """
    from cnnlab.apps.go.engine import load_player
    from cnnlab.io import write_text

    check_gnugo_job(games, level, workers)
    size = size or load_player(run).size
    run_ref = str(run) if isinstance(run, (str, Path)) else run
    chunk = max(1, min(10, games // max(1, workers)))
    jobs = [(run_ref, list(range(i, min(games, i + chunk))), level, seed, size, komi, symmetries)
            for i in range(0, games, chunk)]
    start = time.perf_counter()
    result = MatchResult(level=level, komi=komi, symmetries=symmetries)
    if workers == 1 or len(jobs) == 1 or not isinstance(run_ref, str):
        outputs = map(_worker, jobs)
        pool = None
    else:
        pool = multiprocessing.get_context("spawn").Pool(min(workers, len(jobs)))
        outputs = pool.imap_unordered(_worker, jobs)
    try:
        for records in outputs:
            result.games.extend(records)
            if progress is not None:
                progress(result)
    except BaseException:
        if pool is not None:
            pool.terminate()
        raise
    finally:
        if pool is not None:
            pool.close()
            pool.join()
    result.games.sort(key=lambda g: g.index)
    result.seconds = time.perf_counter() - start
    if sgf_dir is not None:
        for g in result.games:
            write_text(Path(sgf_dir) / f"match-{g.index:04d}.sgf", g.sgf)
    return result


def records_json(result: MatchResult) -> list[dict]:
    return [{k: v for k, v in asdict(g).items() if k != "sgf"} for g in result.games]
