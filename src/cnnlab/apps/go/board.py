"""A Go board (any size 2..19): captures, suicide rejected, simple ko, passes, area scoring with komi.

Points are flat indices ``row * size + col`` with sgfmill's orientation (row 0 is the bottom line, GTP row 1);
a move is a point or ``None`` for a pass. The board is a Python list of cells (fast for one point at a time,
which is what play does) and groups are found by flood fill; :meth:`Board.analyse` labels every group once
so that liberties of all groups and the legal moves of a position come from one pass (the feature planes
need both).

Scoring is area scoring (Tromp-Taylor, Chinese counting): stones on the board plus empty regions that touch
only one colour, minus komi for White. It agrees with GNU Go's ``final_score`` on finished games where every
dead stone has been captured (``gnugo --chinese-rules --capture-all-dead``), which is how self-play runs.

Example:
    >>> b = Board(9)
    >>> b.play(b.point(4, 4)); b.to_play == WHITE
    True
"""

from __future__ import annotations

from functools import lru_cache

from cnnlab.errors import CnnlabError

EMPTY, BLACK, WHITE = 0, 1, 2
COLOUR_NAMES = {BLACK: "black", WHITE: "white"}
GTP_LETTERS = "ABCDEFGHJKLMNOPQRST"  # GTP skips I


class IllegalMove(CnnlabError, ValueError):
    """A move that the rules forbid (occupied point, suicide, ko, off the board)."""


def other(colour: int) -> int:
    return WHITE if colour == BLACK else BLACK


@lru_cache(maxsize=None)
def neighbours(size: int) -> tuple[tuple[int, ...], ...]:
    """For each point, its orthogonal neighbours on a ``size`` × ``size`` board."""
    out = []
    for p in range(size * size):
        r, c = divmod(p, size)
        out.append(tuple(r2 * size + c2 for r2, c2 in ((r - 1, c), (r + 1, c), (r, c - 1), (r, c + 1))
                         if 0 <= r2 < size and 0 <= c2 < size))
    return tuple(out)


def parse_colour(text: str) -> int:
    t = text.strip().lower()
    if t in ("b", "black"):
        return BLACK
    if t in ("w", "white"):
        return WHITE
    raise IllegalMove(f"colour must be b/black or w/white; got {text!r}")


def format_vertex(move: int | None, size: int) -> str:
    """GTP vertex of a move: ``D4``, ``pass``."""
    if move is None:
        return "pass"
    r, c = divmod(move, size)
    return f"{GTP_LETTERS[c]}{r + 1}"


def parse_vertex(text: str, size: int) -> int | None:
    """Move of a GTP vertex (``D4``, ``pass``; case-insensitive).

    Raises:
        IllegalMove: not a vertex of this board.
    """
    t = text.strip().upper()
    if t == "PASS":
        return None
    if len(t) < 2 or t[0] not in GTP_LETTERS[:size] or not t[1:].isdigit():
        raise IllegalMove(f"vertex must be a letter A..{GTP_LETTERS[size - 1]} (no I) and a row 1..{size}, "
                          f"or pass; got {text!r}")
    r, c = int(t[1:]) - 1, GTP_LETTERS.index(t[0])
    if not 0 <= r < size:
        raise IllegalMove(f"vertex row must be 1..{size}; got {text!r}")
    return r * size + c


class Board:
    """A position and the rules. ``play`` changes it (or raises :class:`IllegalMove`), ``undo`` takes back.

    Attributes:
        cells: list of EMPTY/BLACK/WHITE, one per point.
        to_play: the colour to move.
        ko: ``(point, colour)`` that ``colour`` may not play now (simple ko), or None.
        passes: consecutive passes so far (2 ends the game).
        history: ``[(colour, move)]`` of every move played (setup stones are not moves).
    """

    def __init__(self, size: int = 9, komi: float = 7.5):
        if not isinstance(size, int) or not 2 <= size <= 19:
            raise IllegalMove(f"board size must be an integer in 2..19; got {size!r}")
        self.size = size
        self.komi = float(komi)
        self.n = size * size
        self.nbrs = neighbours(size)
        self.clear()

    def clear(self) -> None:
        self.cells = [EMPTY] * self.n
        self.to_play = BLACK
        self.ko: tuple[int, int] | None = None
        self.passes = 0
        self.history: list[tuple[int, int | None]] = []
        self.captures = {BLACK: 0, WHITE: 0}  # stones each colour has captured
        self._undo: list[tuple] = []

    def copy(self) -> "Board":
        b = Board.__new__(Board)
        b.size, b.komi, b.n, b.nbrs = self.size, self.komi, self.n, self.nbrs
        b.cells, b.to_play, b.ko, b.passes = list(self.cells), self.to_play, self.ko, self.passes
        b.history, b.captures, b._undo = list(self.history), dict(self.captures), list(self._undo)
        return b

    def point(self, row: int, col: int) -> int:
        if not (0 <= row < self.size and 0 <= col < self.size):
            raise IllegalMove(f"point ({row}, {col}) is off the {self.size}×{self.size} board")
        return row * self.size + col

    # ------------------------------------------------------------------------------------------- groups
    def group(self, p: int) -> tuple[list[int], set[int]]:
        """The stones of the group at ``p`` and its liberties (flood fill)."""
        cells, nbrs = self.cells, self.nbrs
        colour = cells[p]
        stones, libs, seen, stack = [], set(), {p}, [p]
        while stack:
            q = stack.pop()
            stones.append(q)
            for m in nbrs[q]:
                v = cells[m]
                if v == EMPTY:
                    libs.add(m)
                elif v == colour and m not in seen:
                    seen.add(m)
                    stack.append(m)
        return stones, libs

    def analyse(self) -> tuple[list[int], list[int]]:
        """Label every group once: ``(label per point (-1 on empty), liberty count per label)``."""
        cells, nbrs, n = self.cells, self.nbrs, self.n
        label = [-1] * n
        libcount: list[int] = []
        for p in range(n):
            if cells[p] == EMPTY or label[p] >= 0:
                continue
            g = len(libcount)
            colour, libs, stack = cells[p], set(), [p]
            label[p] = g
            while stack:
                q = stack.pop()
                for m in nbrs[q]:
                    v = cells[m]
                    if v == EMPTY:
                        libs.add(m)
                    elif v == colour and label[m] < 0:
                        label[m] = g
                        stack.append(m)
            libcount.append(len(libs))
        return label, libcount

    # ------------------------------------------------------------------------------------------- legality
    def _legal_with(self, p: int, colour: int, label: list[int], libcount: list[int]) -> bool:
        cells = self.cells
        if cells[p] != EMPTY or self.ko == (p, colour):
            return False
        for m in self.nbrs[p]:
            v = cells[m]
            if v == EMPTY:
                return True
            g = label[m]
            if v == colour and libcount[g] > 1:  # connects to a group that keeps a liberty
                return True
            if v != colour and libcount[g] == 1:  # captures (its only liberty is p)
                return True
        return False

    def is_legal(self, move: int | None, colour: int | None = None) -> bool:
        if move is None:
            return True
        if not isinstance(move, int) or not 0 <= move < self.n:
            return False
        label, libcount = self.analyse()
        return self._legal_with(move, colour or self.to_play, label, libcount)

    def legal_points(self, colour: int | None = None, analysis=None) -> list[bool]:
        """One flag per point: may ``colour`` (default: to play) play there now (pass is always legal)."""
        colour = colour or self.to_play
        label, libcount = analysis or self.analyse()
        return [self._legal_with(p, colour, label, libcount) for p in range(self.n)]

    # ------------------------------------------------------------------------------------------- moves
    def play(self, move: int | None, colour: int | None = None) -> list[int]:
        """Play ``move`` (a point or None = pass) for ``colour`` (default: the side to move).

        Returns:
            the points of the captured stones.
        Raises:
            IllegalMove: off the board, occupied, suicide, or a ko recapture.
        """
        colour = colour or self.to_play
        snapshot = (list(self.cells), self.to_play, self.ko, self.passes, dict(self.captures))
        opp = other(colour)
        if move is None:
            self._undo.append(snapshot)
            self.passes += 1
            self.ko = None
            self.to_play = opp
            self.history.append((colour, None))
            return []
        if not isinstance(move, int) or not 0 <= move < self.n:
            raise IllegalMove(f"point {move!r} is off the {self.size}×{self.size} board")
        name = format_vertex(move, self.size)
        cells = self.cells
        if cells[move] != EMPTY:
            raise IllegalMove(f"{COLOUR_NAMES[colour]} {name}: the point is occupied")
        if self.ko == (move, colour):
            raise IllegalMove(f"{COLOUR_NAMES[colour]} {name}: retakes the ko at once (simple ko)")
        cells[move] = colour
        captured: list[int] = []
        for m in self.nbrs[move]:
            if cells[m] == opp:
                stones, libs = self.group(m)
                if not libs:
                    for s in stones:
                        cells[s] = EMPTY
                    captured.extend(stones)
        stones, libs = self.group(move)
        if not libs:
            cells[move] = EMPTY
            raise IllegalMove(f"{COLOUR_NAMES[colour]} {name}: suicide (the stone would have no liberty)")
        self._undo.append(snapshot)
        # simple ko: a single stone captured a single stone and now sits in atari in the captured point's eye
        self.ko = (captured[0], opp) if len(captured) == 1 and len(stones) == 1 and len(libs) == 1 else None
        self.captures[colour] += len(captured)
        self.passes = 0
        self.to_play = opp
        self.history.append((colour, move))
        return captured

    def undo(self) -> None:
        """Take back the last move (or raise IllegalMove when there is none)."""
        if not self._undo:
            raise IllegalMove("no move to undo")
        self.cells, self.to_play, self.ko, self.passes, self.captures = self._undo.pop()
        self.history.pop()

    def setup(self, black=(), white=(), empty=()) -> None:
        """Place setup stones (SGF AB/AW/AE): no captures, not moves; clears the ko."""
        for points, colour in ((black, BLACK), (white, WHITE), (empty, EMPTY)):
            for p in points:
                self.cells[self.point(*p) if isinstance(p, tuple) else p] = colour
        self.ko = None

    @property
    def game_over(self) -> bool:
        return self.passes >= 2

    # ------------------------------------------------------------------------------------------- scoring
    def area(self) -> tuple[int, int]:
        """(black, white) area: stones plus empty regions bordered by one colour only."""
        cells, nbrs = self.cells, self.nbrs
        counts = {BLACK: cells.count(BLACK), WHITE: cells.count(WHITE)}
        seen = [False] * self.n
        for p in range(self.n):
            if cells[p] != EMPTY or seen[p]:
                continue
            region, borders, stack = 0, set(), [p]
            seen[p] = True
            while stack:
                q = stack.pop()
                region += 1
                for m in nbrs[q]:
                    v = cells[m]
                    if v == EMPTY:
                        if not seen[m]:
                            seen[m] = True
                            stack.append(m)
                    else:
                        borders.add(v)
            if len(borders) == 1:
                counts[borders.pop()] += region
        return counts[BLACK], counts[WHITE]

    def score(self) -> float:
        """Black's area minus White's area minus komi (> 0: Black wins)."""
        b, w = self.area()
        return b - w - self.komi

    def result(self) -> str:
        """SGF/GTP-style result: ``B+3.5``, ``W+0.5`` or ``0`` (jigo)."""
        s = self.score()
        if s == 0:
            return "0"
        return f"{'B' if s > 0 else 'W'}+{abs(s):g}"

    # ------------------------------------------------------------------------------------------- display
    def __str__(self) -> str:
        marks = {EMPTY: ".", BLACK: "X", WHITE: "O"}
        last = self.history[-1][1] if self.history else None
        letters = GTP_LETTERS[:self.size]
        lines = ["   " + " ".join(letters)]
        for r in range(self.size - 1, -1, -1):
            row = []
            for c in range(self.size):
                p = r * self.size + c
                mark = marks[self.cells[p]]
                row.append(mark.lower() if p == last else mark)  # the last move in lower case
            lines.append(f"{r + 1:2d} " + " ".join(row) + f" {r + 1}")
        lines.append("   " + " ".join(letters))
        lines.append(f"{COLOUR_NAMES[self.to_play]} to play; captures black {self.captures[BLACK]}, "
                     f"white {self.captures[WHITE]}; komi {self.komi:g}")
        return "\n".join(lines)
