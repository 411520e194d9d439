"""Training through fit on SGF files (split by game), eval, show, report, match against GNU Go."""

from __future__ import annotations

import json
import random
import re

import numpy as np
import pytest
import torch

from cnnlab.apps.go import positions as positions_mod
from cnnlab.apps.go import sgf
from cnnlab.apps.go.board import Board
from cnnlab.apps.go.match import wilson
from cnnlab.cli import app as cli_app
from cnnlab.errors import DataError


def _random_games(folder, n, seed=0, moves=30):
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for g in range(n):
        b = Board(9)
        for _ in range(moves):
            b.play(rng.choice([p for p in range(81) if b.is_legal(p)] + [None]))
        sgf.write(folder / f"g{g:03d}.sgf", b.history, size=9, komi=7.5, result=b.result())
    return folder


def _cli(capsys, *argv):
    code = cli_app.main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("go")
    games = _random_games(root / "games", 12)
    run = root / "runs" / "policy"
    code = cli_app.main(["go", "train", str(games), "--out", str(run), "--epochs", "1", "--filters", "8", "--layers", "2",
                         "--val", "0.25", "--test", "0.25", "--quiet", "--format", "json"])
    assert code == 0
    return root, games, run


def test_split_is_by_game_and_repeats_are_dropped(tmp_path):
    games = _random_games(tmp_path / "g", 6, seed=1, moves=10)
    (tmp_path / "g" / "z-copy.sgf").write_bytes((games / "g000.sgf").read_bytes())
    pos = positions_mod.build([games])
    assert len(pos.files) == 6 and pos.skipped == [(str(games / "z-copy.sgf"), "repeats an earlier game")]
    assert len(pos) == 60 and pos.move_number.max() == 10
    tr, va, te = positions_mod.split_games(len(pos.files), val=0.2, test=0.2, seed=0)
    assert sorted(tr + va + te) == list(range(6)) and not set(tr) & set(te) and len(te) == 1
    assert set(pos.subset(te).game) == set(te)
    # the target of each position is the move then played
    first = sgf.read(games / "g000.sgf").plays
    assert [int(v) for v in pos.y[pos.game == 0]] == [81 if m is None else m for _, m in first]
    with pytest.raises(DataError, match="too few to hold out"):
        positions_mod.split_games(2, val=0.05, test=0.1)


def test_train_writes_a_core_run_with_held_out_games(trained, capsys):
    from cnnlab.train.runs import load_run

    root, games, run = trained
    r = load_run(run)
    assert r.extra["app"] == "go" and r.extra["games_test"] == 3 and r.task.name == "classification"
    assert len(r.classes) == 82 and r.classes[-1] == "pass" and r.classes[0] == "A1"
    te = positions_mod.load(run / "go_test.safetensors")
    assert len(te) == 3 * 30
    code, out, _ = _cli(capsys, "go", "eval", run, "--format", "json")
    ev = json.loads(out)
    with torch.no_grad():
        logits = r.model(torch.from_numpy(te.x)).numpy()
    top1 = float(np.mean(logits.argmax(1) == te.y))
    top5 = float(np.mean([y in np.argsort(-l)[:5] for l, y in zip(logits, te.y)]))
    assert code == 0 and ev["n"] == 90 and abs(ev["top1"] - top1) < 1e-6 and abs(ev["top5"] - top5) < 1e-6
    assert sum(p["positions"] for p in ev["phases"]) == 90


def test_show_draws_a_png_with_the_policy(trained, capsys, tmp_path):
    root, games, run = trained
    png = tmp_path / "b.png"
    code, out, _ = _cli(capsys, "go", "show", games / "g001.sgf", "--move", "12", "--model", run, "-o", png)
    assert code == 0 and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and "before move 12" in out
    code, _, err = _cli(capsys, "go", "show", games / "g001.sgf", "--move", "99", "-o", png)
    assert code == 2 and "`--move` must be in 1..31" in err


def test_report_sections(trained):
    from cnnlab.apps.go.report import report_sections
    from cnnlab.train.runs import load_run

    root, games, run = trained
    subtitle, secs = report_sections(load_run(run))
    assert [s.id for s in secs] == ["go-accuracy", "go-phases", "go-heatmaps", "go-pooling"]
    assert "policy" in secs[-1].blocks[1]


def test_wilson_interval_reference_values():
    lo, hi = wilson(8, 10)  # the textbook example: 8/10 -> [0.490, 0.943]
    assert abs(lo - 0.4902) < 1e-4 and abs(hi - 0.9433) < 1e-4
    assert wilson(0, 4) == (0.0, pytest.approx(0.4899, abs=1e-4))
    assert wilson(0, 0) == (0.0, 1.0)


def test_match_summary_counts_repeated_games_once_in_the_distinct_count():
    from cnnlab.apps.go.match import GameRecord, MatchResult

    def rec(i, colour, winner, moves):
        return GameRecord(i, colour, winner, 1.0 if winner == "net" else -1.0, "", 3, sgf=f"(;SZ[9]{moves})")

    games = [rec(0, "black", "net", ";B[aa];W[bb]"), rec(1, "white", "gnugo", ";B[cc];W[dd]"),
             rec(2, "black", "net", ";B[aa];W[bb]"), rec(3, "white", "gnugo", ";B[ee];W[dd]"),
             rec(4, "black", "net", ";B[aa];W[bb]")]
    s = MatchResult(games).summary()
    assert (s["wins"], s["games"], s["distinct_games"], s["distinct_wins"]) == (3, 5, 3, 1)
    assert s["wilson95"] == list(wilson(3, 5))


def test_match_against_gnugo_checks_every_move(trained, gnugo_binary, capsys, tmp_path):
    root, games, run = trained
    out = tmp_path / "match.json"
    code, text, _ = _cli(capsys, "go", "match", run, "--games", "2", "--level", "0", "--out", out, "--quiet",
                         "--sgf-dir", tmp_path / "sgf")
    assert code == 0 and re.search(r"vs GNU Go level 0, komi 7.5: [012]/2 wins", text)
    doc = json.loads(out.read_text())
    s = doc["summary"]
    assert s["games"] == 2 and s["by_colour"]["black"]["games"] == 1 and s["illegal_moves"] == {"net": 0, "gnugo": 0}
    for g in doc["games"]:
        record = sgf.read(tmp_path / "sgf" / f"match-{g['index']:04d}.sgf")
        board = sgf.start_board(record)
        for colour, move in record.plays:
            board.play(move, colour)  # every move legal on an independent replay
        assert board.result() == record.result and abs(board.score() - g["score"]) < 1e-9
