"""GNU Go self-play games recorded move by move (GNU Go's ``printsgf`` writes only the final position).

One GNU Go process per worker plays both colours; each game gets its own random seed (``--seed`` at start,
``set_random_seed`` between games), otherwise every game is identical. Every ``genmove`` reply is recorded
and written as one SGF per game (atomically: a killed run leaves no half-written file); a rerun skips the
games already written, so the command is resumable. The root node records the seed, level, komi, rules and
GNU Go's own ``final_score``.

GNU Go at low levels repeats itself: different seeds often give the very same game. ``opening=K`` starts
game i from 0..K random stones (the count and the points drawn from the game's seed), played alternately
on isolated points off the first line, so no stone touches another and none is ever captured; they are
stored as setup stones (AB/AW, with PL), not as moves, so that training never learns a random move as
GNU Go's. Every move after them is GNU Go's ``genmove``.
"""

from __future__ import annotations

import multiprocessing
import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from cnnlab.apps.go.gnugo import GtpError, check_gnugo_job, gnugo
from cnnlab.errors import ConfigError
from cnnlab.io import atomic_write

MAX_MOVES_FACTOR = 4  # a game longer than 4 × points is cut (never reached by GNU Go on 9×9 in practice)


@dataclass
class SelfplayResult:
    written: int
    skipped: int
    seconds: float
    moves: int


def game_path(out: Path, index: int) -> Path:
    return Path(out) / f"game-{index:06d}.sgf"


def random_opening(seed: int, size: int, most: int) -> list[tuple[str, tuple[int, int]]]:
    """0..``most`` stones [(colour, (row, col))], Black first then alternating, drawn from ``seed``: each on
    an empty point off the first line whose neighbours (diagonals included) are all empty, so the stones
    never touch (no liberties are taken, nothing can be captured) and the position equals its setup."""
    if most <= 0:
        return []
    rng = random.Random(f"opening-{seed}")
    taken: set = set()
    stones = []
    for i in range(rng.randint(0, most)):
        free = [(r, c) for r in range(1, size - 1) for c in range(1, size - 1)
                if not any((r + dr, c + dc) in taken for dr in (-1, 0, 1) for dc in (-1, 0, 1))]
        if not free:
            break
        point = rng.choice(free)
        taken.add(point)
        stones.append(("b" if i % 2 == 0 else "w", point))
    return stones


def play_one(proc, seed: int, *, size: int, komi: float, level: int, opening: int = 0) -> tuple[list, str, list]:
    """Play one game on a running GNU Go: returns ([(colour, (row, col) | None)], final_score, opening
    stones [(colour, (row, col))] played before GNU Go's first move)."""
    from sgfmill import common

    proc.send(f"set_random_seed {seed}")
    proc.send(f"boardsize {size}")
    proc.send("clear_board")
    proc.send(f"komi {komi}")
    stones = random_opening(seed, size, opening)
    for c, point in stones:
        proc.send(f"play {c} {common.format_vertex(point)}")
    moves: list = []
    colour, passes = ("b" if len(stones) % 2 == 0 else "w"), 0
    while passes < 2 and len(moves) < MAX_MOVES_FACTOR * size * size:
        reply = proc.send(f"genmove {colour}")
        if reply.lower() == "resign":  # --never-resign: not expected, but a resignation ends the game
            return moves, ("W" if colour == "b" else "B") + "+R", stones
        move = common.move_from_vertex(reply, size)
        moves.append((colour, move))
        passes = passes + 1 if move is None else 0
        colour = "w" if colour == "b" else "b"
    return moves, proc.send("final_score"), stones


def game_sgf(moves: list, *, size: int, komi: float, result: str, level: int, seed: int, stones=(),
             opening: int = 0) -> bytes:
    from sgfmill import sgf

    game = sgf.Sgf_game(size=size)
    root = game.get_root()
    root.set("KM", komi)
    root.set("RU", "Chinese")
    root.set("PB", f"GNU Go level {level}")
    root.set("PW", f"GNU Go level {level}")
    root.set("RE", result)
    root.set("GN", f"seed {seed}")
    root.set("C", f"cnnlab go selfplay: gnugo --level {level} --seed {seed} --chinese-rules --capture-all-dead "
                  f"--never-resign; final_score {result}"
                  + (f"; random opening (--opening {opening}): {len(stones)} setup stone(s)" if opening else ""))
    if stones:
        root.set_setup_stones([p for c, p in stones if c == "b"], [p for c, p in stones if c == "w"])
        root.set("PL", "b" if len(stones) % 2 == 0 else "w")
    for colour, move in moves:
        game.extend_main_sequence().set_move(colour, move)
    return game.serialise()


def _worker(args) -> tuple[int, int]:
    out, indices, size, komi, level, base_seed, opening = args
    written = moves_total = 0
    proc = gnugo(level, base_seed + indices[0], komi=komi, size=size) if indices else None
    try:
        for index in indices:
            path = game_path(out, index)
            if path.exists():
                continue
            seed = base_seed + index
            try:
                moves, result, stones = play_one(proc, seed, size=size, komi=komi, level=level, opening=opening)
            except GtpError:  # restart a dead engine once and replay the game
                proc.close()
                proc = gnugo(level, seed, komi=komi, size=size)
                moves, result, stones = play_one(proc, seed, size=size, komi=komi, level=level, opening=opening)
            with atomic_write(path, "wb") as fh:
                fh.write(game_sgf(moves, size=size, komi=komi, result=result, level=level, seed=seed,
                                  stones=stones, opening=opening))
            written += 1
            moves_total += len(moves)
    finally:
        if proc is not None:
            proc.close()
    return written, moves_total


def _exit_on_sigterm() -> None:
    import signal
    import threading

    if threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
        signal.signal(signal.SIGTERM, lambda signum, frame: (_ for _ in ()).throw(SystemExit(128 + signum)))


def selfplay(out: str | Path, games: int, *, level: int = 0, workers: int = 1, size: int = 9, komi: float = 7.5,
             seed: int = 0, opening: int = 0, chunk: int = 10,
             progress: Callable[[int, int], None] | None = None) -> SelfplayResult:
    """Write ``games`` GNU Go self-play games as ``out/game-NNNNNN.sgf`` (game i uses seed ``seed + i``;
    ``opening=K``: it starts from 0..K random isolated setup stones, see the module docstring).

    Raises:
        MissingDependencyError: GNU Go is not installed (the message gives the apt-get command).
        ConfigError: bad ``games``/``level``/``workers``/``size``.
    """
    check_gnugo_job(games, level, workers)
    if not 2 <= size <= 19:
        raise ConfigError(f"`--size` must be in 2..19; got {size}")
    if not 0 <= opening <= size * size // 4:
        raise ConfigError(f"`--opening` must be in 0..{size * size // 4} stones; got {opening}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    todo = [i for i in range(games) if not game_path(out, i).exists()]
    skipped = games - len(todo)
    chunks = [(out, todo[i:i + chunk], size, komi, level, seed, opening) for i in range(0, len(todo), chunk)]
    start = time.perf_counter()
    written = moves = 0
    _exit_on_sigterm()  # a killed run stops its workers too (their GNU Go processes exit on end of input)
    if workers == 1 or len(chunks) <= 1:
        results: Iterator = map(_worker, chunks)
        pool = None
    else:
        pool = multiprocessing.get_context("spawn").Pool(min(workers, len(chunks)))
        results = pool.imap_unordered(_worker, chunks)
    try:
        for w, m in results:
            written += w
            moves += m
            if progress is not None:
                progress(skipped + written, games)
    except BaseException:  # Ctrl-C or an error: stop the workers now (finished games are on disk)
        if pool is not None:
            pool.terminate()
        raise
    finally:
        if pool is not None:
            pool.close()
            pool.join()
    return SelfplayResult(written=written, skipped=skipped, seconds=time.perf_counter() - start, moves=moves)
