"""Input planes of a position, from the side to move (Maddison et al. 2015; Clark & Storkey 2015).

Planes (``PLANES`` names them, in order), each ``size × size``, 0/1 as uint8 (the model converts to float):
own stones, opponent stones, empty; own groups with 1, 2, ≥ 3 liberties; opponent groups with 1, 2, ≥ 3
liberties; the ko point; "Black to move" (all ones or zeros); a plane of ones (shows the board edge through
zero padding); the last ``LAST_MOVES`` moves (one plane each, most recent first); "the opponent just
passed"; and the legal moves of the side to move (the model masks illegal moves with this last plane).
"""

from __future__ import annotations

import numpy as np

from cnnlab.apps.go.board import BLACK, EMPTY, Board, other

LAST_MOVES = 4
PLANES = ("own", "opponent", "empty", "own_lib1", "own_lib2", "own_lib3+", "opp_lib1", "opp_lib2", "opp_lib3+",
          "ko", "black_to_play", "ones", *(f"last_move_{i + 1}" for i in range(LAST_MOVES)), "opponent_passed",
          "legal")
NUM_PLANES = len(PLANES)
LEGAL_PLANE = PLANES.index("legal")


def planes(board: Board) -> np.ndarray:
    """The feature planes of ``board`` for ``board.to_play``.

    Shape:
        (NUM_PLANES, size, size), uint8.
    """
    n, s = board.n, board.size
    me, opp = board.to_play, other(board.to_play)
    cells = board.cells
    label, libcount = board.analyse()
    out = np.zeros((NUM_PLANES, n), dtype=np.uint8)
    c = np.frombuffer(bytes(cells), dtype=np.uint8)
    out[0] = c == me
    out[1] = c == opp
    out[2] = c == EMPTY
    lab = np.asarray(label)
    libs = np.asarray(libcount + [0])[lab]  # label -1 (empty) reads the 0 appended at the end
    for k, colour_plane in ((3, out[0]), (6, out[1])):
        stone = colour_plane.astype(bool)
        out[k] = stone & (libs == 1)
        out[k + 1] = stone & (libs == 2)
        out[k + 2] = stone & (libs >= 3)
    if board.ko is not None and board.ko[1] == me:
        out[9, board.ko[0]] = 1
    out[10] = 1 if me == BLACK else 0
    out[11] = 1
    for i, (_, move) in enumerate(reversed(board.history[-LAST_MOVES:])):
        if move is not None:
            out[12 + i, move] = 1
    if board.history and board.history[-1][1] is None:
        out[12 + LAST_MOVES] = 1
    out[LEGAL_PLANE] = board.legal_points(me, (label, libcount))
    return out.reshape(NUM_PLANES, s, s)


def legal_mask(board: Board) -> np.ndarray:
    """(size² + 1,) bool: the legal points, then pass (always legal)."""
    return np.asarray(board.legal_points() + [True])
