"""Feature planes on hand-made positions; the 8 symmetries on planes and moves."""

from __future__ import annotations

import numpy as np
import pytest

from cnnlab.apps.go import symmetry
from cnnlab.apps.go.board import BLACK, WHITE, Board, parse_vertex
from cnnlab.apps.go.features import LAST_MOVES, LEGAL_PLANE, NUM_PLANES, PLANES, planes
from cnnlab.errors import ConfigError


def plane(x, name):
    return x[PLANES.index(name)]


def test_planes_of_a_hand_made_position(make_board):
    b = make_board("""
        . . . . .
        . X O . .
        X O . O .
        . X O . .
        . . . . .""", to_play=BLACK)
    b.history = [(WHITE, parse_vertex("D3", 5))]
    x = planes(b)
    assert x.shape == (NUM_PLANES, 5, 5) and x.dtype == np.uint8
    at = lambda name, vtx: int(plane(x, name)[divmod(parse_vertex(vtx, 5), 5)])  # noqa: E731
    assert at("own", "B4") == 1 and at("opponent", "B3") == 1 and at("empty", "C3") == 1
    assert at("opp_lib1", "B3") == 1  # the white stone in the ko shape is in atari
    assert at("own_lib2", "A3") == 1 and at("own_lib2", "B4") == 1 and at("own_lib3+", "B4") == 0
    assert at("opp_lib3+", "C2") == 1 and at("opp_lib2", "C2") == 0 and at("opp_lib3+", "D3") == 1
    assert at("last_move_1", "D3") == 1 and plane(x, "last_move_1").sum() == 1
    assert plane(x, "black_to_play").all() and plane(x, "ones").all() and not plane(x, "ko").any()
    assert plane(x, "legal").sum() == int(np.asarray(b.legal_points()).sum())
    # after black takes the ko, white to move sees the ko point
    b.play(parse_vertex("C3", 5))
    x = planes(b)
    assert at("ko", "B3") == 1 and plane(x, "ko").sum() == 1 and at("legal", "B3") == 0
    assert not plane(x, "black_to_play").any()
    assert at("own", "C2") == 1  # planes are from the side to move (white now)
    b.play(None)
    x = planes(b)
    assert plane(x, "opponent_passed").all() and at("last_move_2", "C3") == 1
    assert x[PLANES.index("last_move_1")].sum() == 0  # a pass leaves no stone mark
    assert LEGAL_PLANE == NUM_PLANES - 1 and LAST_MOVES == 4


def test_symmetries_are_the_dihedral_group():
    a = np.arange(9 * 9).reshape(9, 9)
    images = {symmetry.transform_grid(a, k).tobytes() for k in range(8)}
    assert len(images) == 8  # eight distinct images of an asymmetric board
    for k in range(8):
        back = symmetry.transform_grid(symmetry.transform_grid(a, k), symmetry.inverse(k))
        np.testing.assert_array_equal(back, a)
    np.testing.assert_array_equal(symmetry.transform_grid(a, 1), np.rot90(a))
    np.testing.assert_array_equal(symmetry.transform_grid(a, 4), a.T)
    with pytest.raises(ConfigError, match="symmetry must be an integer 0..7; got 8"):
        symmetry.transform_grid(a, 8)


def test_symmetry_commutes_with_features_and_moves():
    """Planes of the transformed position == transformed planes; moves remap with them; pass stays."""
    import random

    rng = random.Random(1)
    b = Board(9)
    for _ in range(40):
        legal = [p for p in range(81) if b.is_legal(p)]
        b.play(rng.choice(legal))
    x = planes(b)
    for k in range(8):
        t = Board(9)
        t.cells = [b.cells[int(i)] for i in symmetry.gather_index(9, k)]
        t.to_play, t.history = b.to_play, [(c, symmetry.transform_move(m, k, 9)) for c, m in b.history]
        t.ko = None if b.ko is None else (symmetry.transform_move(b.ko[0], k, 9), b.ko[1])
        np.testing.assert_array_equal(planes(t), symmetry.transform_grid(x, k))
        for p in range(81):
            q = symmetry.transform_move(p, k, 9)
            assert t.cells[q] == b.cells[p]
        assert symmetry.transform_move(None, k, 9) is None and symmetry.move_index(9, k)[81] == 81
