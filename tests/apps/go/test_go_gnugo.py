"""GNU Go self-play: scoring agrees with GNU Go's final_score, distinct seeds, resumable, missing-binary error."""

from __future__ import annotations

import pytest

from cnnlab.apps.go import gnugo as gnugo_mod
from cnnlab.apps.go import selfplay as sp
from cnnlab.apps.go import sgf
from cnnlab.apps.go.board import BLACK, WHITE
from cnnlab.cli import app as cli_app
from cnnlab.errors import ConfigError, MissingDependencyError


@pytest.fixture(scope="module")
def games_dir(tmp_path_factory):
    if gnugo_mod.gnugo_path() is None:
        pytest.skip("GNU Go is not installed (apt-get install -y gnugo)")
    out = tmp_path_factory.mktemp("selfplay")
    r = sp.selfplay(out, 20, level=0, workers=2, seed=500)
    assert r.written == 20 and r.skipped == 0
    return out


def test_area_score_agrees_with_gnugo_final_score(games_dir):
    files = sorted(games_dir.glob("*.sgf"))
    assert len(files) == 20
    for path in files:
        game = sgf.read(path)
        board = sgf.start_board(game)
        for colour, move in game.plays:  # raises on any illegal GNU Go move
            board.play(move, colour)
        assert board.game_over, path  # two passes ended it
        assert game.result and board.result() == game.result, (path, board.result(), game.result)


def test_seeds_give_different_games_and_rerun_resumes(games_dir):
    records = [tuple(sgf.read(p).plays) for p in sorted(games_dir.glob("*.sgf"))]
    # one seed per game; at level 0 GNU Go's randomness is small, so now and then two seeds give the same game
    assert len(set(records)) >= 15
    r = sp.selfplay(games_dir, 21, level=0, workers=1, seed=500)
    assert r.skipped == 20 and r.written == 1
    assert sgf.read(sp.game_path(games_dir, 20)).plays  # the new game is complete


def test_selfplay_without_gnugo_is_one_line(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(gnugo_mod, "gnugo_path", lambda: None)
    with pytest.raises(MissingDependencyError, match="install it with: apt-get install -y gnugo"):
        sp.selfplay(tmp_path, 1)
    code = cli_app.main(["go", "selfplay", "--games", "2", "--out", str(tmp_path)])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and "apt-get install -y gnugo" in err
    assert not list(tmp_path.glob("*.sgf"))


def test_random_opening_stones_are_isolated_off_the_edge_and_reproducible():
    counts = set()
    for seed in range(200):
        stones = sp.random_opening(seed, 9, 5)
        assert stones == sp.random_opening(seed, 9, 5)  # drawn from the game's seed only
        counts.add(len(stones))
        assert [c for c, _ in stones] == ["b", "w", "b", "w", "b"][:len(stones)]
        pts = [p for _, p in stones]
        assert all(1 <= r <= 7 and 1 <= c <= 7 for r, c in pts)
        for i, (r, c) in enumerate(pts):  # no two stones touch, diagonals included
            assert all(max(abs(r - r2), abs(c - c2)) >= 2 for r2, c2 in pts[i + 1:])
    assert counts == {0, 1, 2, 3, 4, 5}
    assert sp.random_opening(3, 9, 0) == []


def test_opening_games_start_from_setup_stones_and_score_like_gnugo(tmp_path):
    if gnugo_mod.gnugo_path() is None:
        pytest.skip("GNU Go is not installed (apt-get install -y gnugo)")
    r = sp.selfplay(tmp_path, 6, level=0, workers=1, seed=7, opening=4)
    assert r.written == 6
    setups = 0
    for i, path in enumerate(sorted(tmp_path.glob("*.sgf"))):
        game = sgf.read(path)
        stones = sp.random_opening(7 + i, 9, 4)
        assert sorted(game.setup_black) == sorted(p[0] * 9 + p[1] for c, p in stones if c == "b")
        assert sorted(game.setup_white) == sorted(p[0] * 9 + p[1] for c, p in stones if c == "w")
        first = BLACK if len(stones) % 2 == 0 else WHITE
        assert game.first == first and game.plays[0][0] == first  # GNU Go's first move is the next colour's
        setups += bool(stones)
        board = sgf.start_board(game)
        for colour, move in game.plays:
            board.play(move, colour)
        assert board.game_over and board.result() == game.result, (path, board.result(), game.result)
    assert setups >= 3
    with pytest.raises(ConfigError, match="--opening"):
        sp.selfplay(tmp_path, 1, opening=99)
