"""SGF game records through ``sgfmill``: read the main line (setup stones included), write a game.

A :class:`Game` is plain data: size, komi, the setup stones of the root, the moves of the main line (the
first variation at every branch, as SGF viewers show it; setup stones later in the line are kept as
``("setup", black, white, empty)`` events), the winner and the result text. :func:`replay` walks it on a
:class:`Board`, checking every move.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from cnnlab.apps.go.board import BLACK, WHITE, Board, IllegalMove
from cnnlab.errors import DataError
from cnnlab.io import atomic_write

INSTALL = "pip install sgfmill"


def _sgf():
    from cnnlab.errors import require

    return require("sgfmill.sgf", INSTALL)


@dataclass
class Game:
    size: int
    komi: float
    moves: list = field(default_factory=list)  # (colour, point | None) or ("setup", black, white, empty)
    setup_black: list = field(default_factory=list)
    setup_white: list = field(default_factory=list)
    first: int = BLACK  # colour to play first (PL, or the first move's colour)
    winner: int | None = None
    result: str = ""
    name: str = ""

    @property
    def plays(self) -> list:
        return [m for m in self.moves if m[0] != "setup"]


def _pt(rc, size: int) -> int:
    return rc[0] * size + rc[1]


def parse(data: bytes | str, name: str = "<sgf>") -> Game:
    """Parse SGF text (first game tree) into a :class:`Game`.

    Raises:
        DataError: not SGF, not Go, or a board larger than 19.
    """
    sgf = _sgf()
    raw = data.encode() if isinstance(data, str) else data
    try:
        game = sgf.Sgf_game.from_bytes(raw)
    except ValueError as exc:
        raise DataError(f"`{name}` is not a readable SGF file ({exc})") from None
    size = game.get_size()
    if size > 19:
        raise DataError(f"`{name}`: board size must be ≤ 19; got {size}")
    root = game.get_root()
    try:
        komi = float(game.get_komi())
    except ValueError:
        komi = 0.0
    winner = {"b": BLACK, "w": WHITE}.get(game.get_winner() or "")
    result = root.get("RE") if root.has_property("RE") else ""
    g = Game(size=size, komi=komi, winner=winner, result=result, name=name)
    first_colour = None
    for i, node in enumerate(game.get_main_sequence()):
        if node.has_setup_stones():
            ab, aw, ae = node.get_setup_stones()
            b, w, e = sorted(_pt(p, size) for p in ab), sorted(_pt(p, size) for p in aw), sorted(_pt(p, size) for p in ae)
            if i == 0:
                g.setup_black, g.setup_white = b, w
            else:
                g.moves.append(("setup", b, w, e))
        try:
            colour, move = node.get_move()
        except ValueError as exc:
            raise DataError(f"`{name}`: bad move in node {i} ({exc})") from None
        if colour is not None:
            c = BLACK if colour == "b" else WHITE
            first_colour = first_colour or c
            g.moves.append((c, None if move is None else _pt(move, size)))
    if root.has_property("PL"):
        g.first = BLACK if root.get("PL") == "b" else WHITE
    elif first_colour is not None:
        g.first = first_colour
    elif g.setup_black and not g.setup_white:  # handicap stones: White moves first
        g.first = WHITE
    return g


def read(path: str | Path) -> Game:
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DataError(f"cannot read SGF file `{path}` ({exc.strerror})") from None
    return parse(data, str(path))


def start_board(game: Game) -> Board:
    board = Board(game.size, game.komi)
    board.setup(game.setup_black, game.setup_white)
    board.to_play = game.first
    return board


def replay(game: Game) -> Iterator[tuple[Board, int, int | None]]:
    """Yield ``(board before the move, colour, move)`` for every move of the main line, then play it.

    The same board object is yielded each time (copy it to keep a position).

    Raises:
        DataError: an illegal move (named with its number and the file).
    """
    board = start_board(game)
    number = 0
    for event in game.moves:
        if event[0] == "setup":
            _, b, w, e = event
            board.setup(b, w, e)
            continue
        colour, move = event
        number += 1
        board.to_play = colour  # SGF may let one side move twice (after setup); follow the record
        yield board, colour, move
        try:
            board.play(move, colour)
        except IllegalMove as exc:
            raise DataError(f"`{game.name}` move {number}: {exc}") from None


def dumps(moves, *, size: int = 9, komi: float = 7.5, result: str = "", black: str = "", white: str = "",
          comment: str = "", setup_black=(), setup_white=()) -> bytes:
    """SGF bytes of a game given as ``[(colour, point | None)]`` (colour BLACK/WHITE)."""
    sgf = _sgf()
    game = sgf.Sgf_game(size=size)
    root = game.get_root()
    root.set("KM", komi)
    root.set("RU", "Chinese")
    for key, value in (("PB", black), ("PW", white), ("RE", result), ("C", comment)):
        if value:
            root.set(key, value)
    if setup_black or setup_white:
        root.set_setup_stones([divmod(p, size) for p in setup_black], [divmod(p, size) for p in setup_white])
    for colour, move in moves:
        game.extend_main_sequence().set_move("b" if colour == BLACK else "w",
                                             None if move is None else divmod(move, size))
    return game.serialise()


def write(path: str | Path, moves, **kw) -> Path:
    with atomic_write(path, "wb") as fh:
        fh.write(dumps(moves, **kw))
    return Path(path)


def collect(sources) -> list[Path]:
    """SGF files of folders (recursively, sorted) and files given directly.

    Raises:
        DataError: a path that does not exist, or no SGF file at all.
    """
    files: list[Path] = []
    for src in sources:
        p = Path(src)
        if p.is_dir():
            files.extend(sorted(p.rglob("*.sgf")))
        elif p.is_file():
            files.append(p)
        else:
            raise DataError(f"SGF source `{p}` is neither a file nor a folder")
    if not files:
        raise DataError(f"no .sgf files found in {', '.join(map(str, sources))}")
    return files
