"""SGF reading (main line through variations, setup stones, PL, pass), writing, and bad files."""

from __future__ import annotations

import pytest

from cnnlab.apps.go import sgf
from cnnlab.apps.go.board import BLACK, EMPTY, WHITE, parse_vertex
from cnnlab.errors import DataError

# A 9×9 record with two handicap stones (AB), a White setup stone, a branching tree (the first variation is the
# main line), a comment, a pass and a result.
TEXT = b"""(;GM[1]FF[4]SZ[9]KM[0.5]RE[W+3.5]PB[Alice]PW[Bob]AB[cc][gg]AW[ee]PL[W]
;W[cg]C[first move]
  (;B[gc];W[dd]
     (;B[tt];W[ff])
     (;B[aa]))
  (;B[ba];W[ab]))"""


def test_main_line_with_setup_and_variations():
    g = sgf.parse(TEXT, "handicap.sgf")
    assert g.size == 9 and g.komi == 0.5 and g.winner == WHITE and g.result == "W+3.5"
    P = lambda s: parse_vertex(s, 9)  # noqa: E731
    assert g.setup_black == sorted([P("C7"), P("G3")]) and g.setup_white == [P("E5")]
    assert g.first == WHITE
    # sgf "cg": column c, row g from the top = C3; main line = first child at each branch
    assert g.plays == [(WHITE, P("C3")), (BLACK, P("G7")), (WHITE, P("D6")), (BLACK, None), (WHITE, P("F4"))]
    positions = list((b.copy(), c, m) for b, c, m in sgf.replay(g))
    first = positions[0][0]
    assert first.cells[P("C7")] == BLACK and first.cells[P("E5")] == WHITE and first.to_play == WHITE
    assert sum(v != EMPTY for v in first.cells) == 3
    assert [c for _, c, _ in positions] == [WHITE, BLACK, WHITE, BLACK, WHITE]


def test_write_and_read_back(tmp_path):
    moves = [(BLACK, 40), (WHITE, 30), (BLACK, None), (WHITE, 2)]
    path = sgf.write(tmp_path / "g.sgf", moves, size=9, komi=7.5, result="B+1.5", setup_black=[0])
    g = sgf.read(path)
    assert g.plays == moves and g.komi == 7.5 and g.result == "B+1.5" and g.setup_black == [0]
    assert not list(tmp_path.glob(".*tmp"))


def test_illegal_move_in_a_record_names_file_and_move():
    g = sgf.parse(b"(;SZ[9];B[ee];W[ee])", "bad.sgf")
    with pytest.raises(DataError, match=r"`bad.sgf` move 2: white E5: the point is occupied"):
        list(sgf.replay(g))


def test_unreadable_inputs(tmp_path):
    with pytest.raises(DataError, match="is not a readable SGF file"):
        sgf.parse(b"not sgf at all", "x.sgf")
    with pytest.raises(DataError, match="cannot read SGF file"):
        sgf.read(tmp_path / "missing.sgf")
    with pytest.raises(DataError, match="no .sgf files found"):
        sgf.collect([tmp_path])
