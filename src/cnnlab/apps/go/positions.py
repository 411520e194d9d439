"""SGF collections -> positions (feature planes) -> next move and result, split by game.

Every move of a game's main line gives one example: the planes of the position before it (from the side to
move), the move as a class index (``row * size + col``, pass = ``size²``), the move number and the result
from the mover's side (+1 win, −1 loss, 0 unknown/jigo). Held-out games are split off *by game*, never by
position: positions of one game are strongly correlated, so a split by position would leak.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cnnlab.apps.go import sgf
from cnnlab.apps.go.board import format_vertex
from cnnlab.apps.go.features import NUM_PLANES, planes
from cnnlab.errors import ConfigError, DataError


@dataclass
class Positions:
    x: np.ndarray  # (N, NUM_PLANES, S, S) uint8
    y: np.ndarray  # (N,) int64 move index, pass = S*S
    move_number: np.ndarray  # (N,) int32, 1 = first move of the game
    outcome: np.ndarray  # (N,) int8, +1 the mover won, -1 lost, 0 unknown
    game: np.ndarray  # (N,) int32, index into ``files``
    files: list
    skipped: list  # (file, reason) of games left out

    def __len__(self) -> int:
        return len(self.y)

    def subset(self, games) -> "Positions":
        keep = np.isin(self.game, np.asarray(sorted(games), dtype=np.int32))
        return Positions(self.x[keep], self.y[keep], self.move_number[keep], self.outcome[keep], self.game[keep],
                         self.files, self.skipped)


def move_classes(size: int) -> list[str]:
    """Class names of the size² + 1 moves: GTP vertices (A1, B1, ...) then ``pass``."""
    return [format_vertex(p, size) for p in range(size * size)] + ["pass"]


def game_positions(game: sgf.Game):
    """Yield (planes, move index, move number, outcome) for every move of ``game``."""
    n = game.size * game.size
    for number, (board, colour, move) in enumerate(sgf.replay(game), start=1):
        outcome = 0 if game.winner is None else (1 if game.winner == colour else -1)
        yield planes(board), n if move is None else move, number, outcome


def build(sources, *, size: int = 9, dedupe: bool = True) -> Positions:
    """Positions of every game of ``size`` in ``sources`` (SGF files or folders); other sizes, games
    with an illegal move and (``dedupe``) exact repeats of an earlier game (same setup, same moves: GNU Go at
    low levels repeats about a quarter of its self-play games whatever the seed) are left out and listed in
    ``skipped``, so that no game sits on both sides of the train/test split.

    Raises:
        DataError: no SGF file, or no usable game.
    """
    files = sgf.collect(sources)
    xs, ys, nums, outs, games, kept, skipped = [], [], [], [], [], [], []
    seen: set = set()
    for path in files:
        try:
            game = sgf.read(path)
            if game.size != size:
                raise DataError(f"board size {game.size}, not {size}")
            key = repr((game.setup_black, game.setup_white, game.moves))
            if dedupe and key in seen:
                raise DataError("repeats an earlier game")
            seen.add(key)
            rows = list(game_positions(game))
        except DataError as exc:
            skipped.append((str(path), str(exc)))
            continue
        if not rows:
            skipped.append((str(path), "no moves"))
            continue
        gi = len(kept)
        kept.append(str(path))
        for x, y, num, out in rows:
            xs.append(x)
            ys.append(y)
            nums.append(num)
            outs.append(out)
            games.append(gi)
    if not kept:
        reasons = "; ".join(f"{f}: {r}" for f, r in skipped[:3])
        raise DataError(f"no usable {size}×{size} game in {len(files)} SGF file(s) ({reasons})")
    return Positions(np.stack(xs), np.asarray(ys, dtype=np.int64), np.asarray(nums, dtype=np.int32),
                     np.asarray(outs, dtype=np.int8), np.asarray(games, dtype=np.int32), kept, skipped)


def split_games(n_games: int, *, val: float = 0.05, test: float = 0.1, seed: int = 0):
    """Shuffle game indices with ``seed`` and cut them into (train, val, test) lists of games."""
    if not (0 <= val < 1 and 0 <= test < 1 and val + test < 1):
        raise ConfigError(f"`val` and `test` fractions must be in [0, 1) with a sum < 1; got {val} and {test}")
    order = list(range(n_games))
    random.Random(seed).shuffle(order)
    n_test = int(round(test * n_games)) if test else 0
    n_val = int(round(val * n_games)) if val else 0
    if n_games - n_test - n_val < 1 or (test and n_test < 1) or (val and n_val < 1):
        raise DataError(f"{n_games} game(s) are too few to hold out {val:.0%} for validation and {test:.0%} for "
                        f"test by game; give more games")
    return order[n_test + n_val:], order[n_test:n_test + n_val], order[:n_test]


def save(path: str | Path, pos: Positions) -> Path:
    """Store positions (x, y, move_number, outcome, game) as one safetensors file (atomic)."""
    import torch
    from safetensors.torch import save_file

    from cnnlab.io import write_bytes_via

    tensors = {"x": torch.from_numpy(np.ascontiguousarray(pos.x)), "y": torch.from_numpy(pos.y),
               "move_number": torch.from_numpy(pos.move_number), "outcome": torch.from_numpy(pos.outcome),
               "game": torch.from_numpy(pos.game)}
    return write_bytes_via(path, lambda tmp: save_file(tensors, tmp))


def load(path: str | Path) -> Positions:
    from safetensors.torch import load_file

    try:
        t = load_file(str(path))
    except (OSError, ValueError, RuntimeError) as exc:
        raise DataError(f"cannot read positions file `{path}` ({exc})") from None
    if "x" not in t or t["x"].ndim != 4 or t["x"].shape[1] != NUM_PLANES:
        raise DataError(f"`{path}` does not hold Go positions with {NUM_PLANES} planes")
    return Positions(t["x"].numpy(), t["y"].numpy(), t["move_number"].numpy(), t["outcome"].numpy(),
                     t["game"].numpy(), [], [])
