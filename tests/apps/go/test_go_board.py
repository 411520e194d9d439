"""Rules: captures (single, group, snapback), suicide, simple ko, passes, area scoring, undo, GTP vertices."""

from __future__ import annotations

import pytest

from cnnlab.apps.go.board import BLACK, EMPTY, WHITE, Board, IllegalMove, format_vertex, parse_vertex


def v(board, text):
    return parse_vertex(text, board.size)


def test_single_stone_capture(make_board):
    b = make_board("""
        . . . . .
        . . X . .
        . X O . .
        . . X . .
        . . . . .""")
    captured = b.play(v(b, "D3"), BLACK)
    assert captured == [v(b, "C3")]
    assert b.cells[v(b, "C3")] == EMPTY and b.captures[BLACK] == 1
    assert b.to_play == WHITE


def test_group_capture(make_board):
    b = make_board("""
        . . . . .
        X X X . .
        . O O X .
        X X X . .
        . . . . .""")
    assert not b.play(v(b, "E1"), BLACK)  # the white pair keeps its liberty A3: nothing captured
    captured = b.play(v(b, "A3"), BLACK)
    assert sorted(captured) == sorted([v(b, "B3"), v(b, "C3")])
    assert b.cells[v(b, "B3")] == EMPTY and b.cells[v(b, "C3")] == EMPTY and b.captures[BLACK] == 2


def test_corner_group_capture_gives_the_board():
    P = lambda s: parse_vertex(s, 5)  # noqa: E731
    b = Board(5)
    for col, pt in [(WHITE, "A1"), (WHITE, "B1"), (WHITE, "A2"), (BLACK, "C1"), (BLACK, "A3")]:
        b.cells[P(pt)] = col
    captured = b.play(P("B2"), BLACK)
    assert sorted(captured) == sorted(P(p) for p in ("A1", "B1", "A2"))
    assert b.area() == (25, 0)  # no white stone left: every empty region touches black only


def test_snapback_proper():
    """Black throws a stone into White's false eye; White captures it; Black plays back and takes the group."""
    b = Board(5)
    layout = {WHITE: ["A2", "B2", "C2", "C1"], BLACK: ["A3", "B3", "C3", "D3", "D2", "D1"]}
    for col, pts in layout.items():
        for p in pts:
            b.cells[parse_vertex(p, 5)] = col
    P = lambda s: parse_vertex(s, 5)  # noqa: E731
    # white's group A2 B2 C2 C1 has liberties A1, B1: black throws in at B1 (atari on nothing; B1 has lib A1)
    assert b.play(P("B1"), BLACK) == []
    captured = b.play(P("A1"), WHITE)  # white captures the thrown-in stone
    assert captured == [P("B1")]
    # black plays back at B1: the white group (now A1 A2 B2 C2 C1) has only B1 as liberty -> all five captured
    captured = b.play(P("B1"), BLACK)
    assert sorted(captured) == sorted(P(s) for s in ("A1", "A2", "B2", "C2", "C1"))
    assert b.ko is None  # a multi-stone capture is no ko


def test_suicide_rejected_single_and_group(make_board):
    b = make_board("""
        . O . . .
        O . . . .
        . . . . .
        . . . . .
        . . . . .""")
    with pytest.raises(IllegalMove, match="suicide"):
        b.play(v(b, "A5"), BLACK)
    assert b.cells[v(b, "A5")] == EMPTY and b.to_play == BLACK and not b.history
    b = make_board("""
        X O . . .
        . O . . .
        O . . . .
        . . . . .
        . . . . .""")
    with pytest.raises(IllegalMove, match="suicide"):  # joins A5 into a group with no liberty
        b.play(v(b, "A4"), BLACK)


def test_capture_beats_suicide(make_board):
    b = make_board("""
        . O X . .
        O X . . .
        . . . . .
        . . . . .
        . . . . .""")
    captured = b.play(v(b, "A5"), BLACK)  # no liberty of its own, but it takes B5's last one
    assert captured == [v(b, "B5")]
    assert b.cells[v(b, "A5")] == BLACK and b.group(v(b, "A5"))[1] == {v(b, "B5")}
    assert b.ko == (v(b, "B5"), WHITE)  # one stone took one stone and sits in atari: a ko


def test_simple_ko(make_board):
    b = make_board("""
        . . . . .
        . X O . .
        X O . O .
        . X O . .
        . . . . .""")
    captured = b.play(v(b, "C3"), BLACK)  # black takes the ko
    assert captured == [v(b, "B3")]
    assert b.ko == (v(b, "B3"), WHITE)
    with pytest.raises(IllegalMove, match="ko"):
        b.play(v(b, "B3"), WHITE)
    assert not b.is_legal(v(b, "B3"), WHITE)
    b.play(v(b, "E5"), WHITE)  # a ko threat elsewhere
    b.play(v(b, "E1"), BLACK)
    assert b.play(v(b, "B3"), WHITE) == [v(b, "C3")]  # now White may retake
    assert b.ko == (v(b, "C3"), BLACK)


def test_pass_clears_ko_and_two_passes_end(make_board):
    b = make_board("""
        . . . . .
        . X O . .
        X O . O .
        . X O . .
        . . . . .""")
    b.play(v(b, "C3"), BLACK)
    b.play(None, WHITE)
    assert b.ko is None and b.passes == 1 and not b.game_over
    b.play(None, BLACK)
    assert b.game_over and b.passes == 2
    b.undo()
    assert b.passes == 1 and not b.game_over
    b.play(v(b, "A1"), BLACK)
    assert b.passes == 0


def test_area_scoring_with_komi_and_dame(make_board):
    b = make_board("""
        . X O . .
        . X O . .
        X X O O O
        . X O . .
        . X O . .""", komi=0.5)
    # black: 6 stones + the 4 empty points of column A; white: 7 stones + the two 2×2 regions on the right
    assert b.area() == (6 + 4, 7 + 8)
    assert b.score() == 10 - 15 - 0.5 and b.result() == "W+5.5"
    dame = make_board("""
        X . O
        X . O
        X . O""")
    assert dame.area() == (3, 3) and dame.result() == "0"  # the middle column touches both: nobody's


def test_undo_restores_everything(make_board):
    b = make_board("""
        . . . . .
        . X O . .
        X O . O .
        . X O . .
        . . . . .""")
    before = (list(b.cells), b.to_play, b.ko)
    b.play(v(b, "C3"), BLACK)
    b.undo()
    assert (list(b.cells), b.to_play, b.ko) == before and b.captures == {BLACK: 0, WHITE: 0}
    with pytest.raises(IllegalMove, match="no move to undo"):
        b.undo()


def test_occupied_and_off_board():
    b = Board(9)
    b.play(40)
    with pytest.raises(IllegalMove, match="occupied"):
        b.play(40)
    with pytest.raises(IllegalMove, match="off the 9×9 board"):
        b.play(81)
    with pytest.raises(IllegalMove, match="board size must be an integer in 2..19; got 20"):
        Board(20)


def test_gtp_vertices():
    assert parse_vertex("A1", 9) == 0 and parse_vertex("j9", 9) == 80 and parse_vertex("PASS", 9) is None
    assert format_vertex(parse_vertex("H8", 9), 9) == "H8"
    assert parse_vertex("T19", 19) == 360
    for bad in ("I5", "Z1", "A10", "A0", "5A", ""):
        with pytest.raises(IllegalMove):
            parse_vertex(bad, 9)


def test_legal_points_match_trial_play():
    """The fast legality rule (labels + liberty counts) against playing every point on a copy."""
    import random

    rng = random.Random(3)
    for trial in range(30):
        b = Board(7)
        for _ in range(rng.randrange(5, 60)):
            legal = [p for p in range(b.n) if b.is_legal(p)] + [None]
            b.play(rng.choice(legal))
        fast = b.legal_points()
        for p in range(b.n):
            trial_board = b.copy()
            try:
                trial_board.play(p)
                ok = True
            except IllegalMove:
                ok = False
            assert fast[p] == ok, (trial, p)
