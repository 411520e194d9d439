"""Fixtures of the Go tests: boards from ASCII diagrams, GNU Go presence."""

from __future__ import annotations

import pytest

from cnnlab.apps.go.board import BLACK, WHITE, Board
from cnnlab.apps.go.gnugo import gnugo_path


def diagram(text: str, to_play: int = BLACK, komi: float = 0.0) -> Board:
    """A board from rows written top (highest row) first: X black, O white, . empty."""
    rows = [r.split() for r in text.strip().splitlines()]
    size = len(rows)
    b = Board(size, komi)
    for i, row in enumerate(rows):
        r = size - 1 - i
        for c, mark in enumerate(row):
            if mark in "XO":
                b.cells[r * size + c] = BLACK if mark == "X" else WHITE
    b.to_play = to_play
    return b


@pytest.fixture
def make_board():
    return diagram


@pytest.fixture
def gnugo_binary():
    path = gnugo_path()
    if path is None:
        pytest.skip("GNU Go is not installed (apt-get install -y gnugo)")
    return path
