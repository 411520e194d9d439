"""The GTP engine: a scripted session with malformed commands and illegal moves; it never dies."""

from __future__ import annotations

import io

import pytest

from cnnlab import zoo
from cnnlab.apps.go.board import Board, parse_vertex
from cnnlab.apps.go.engine import COMMANDS, Engine, PolicyPlayer, serve


class FirstLegal:
    """A stand-in player: the lowest legal point, or pass when none (predictable replies to check)."""

    size = 9

    def choose(self, board: Board):
        legal = board.legal_points()
        return legal.index(True) if True in legal else None


def _session(engine, lines):
    out = io.StringIO()
    serve(engine, io.StringIO("".join(f"{l}\n" for l in lines)), out)
    return [r for r in out.getvalue().split("\n\n") if r]


def test_scripted_session():
    engine = Engine(FirstLegal(), size=9, komi=6.5)
    replies = _session(engine, [
        "1 protocol_version", "name", "version", "known_command genmove", "known_command fly", "list_commands",
        "boardsize 19", "boardsize x", "boardsize 9", "komi 7.5", "komi nan?", "play b D4", "play w D4",
        "play w Z9", "play purple E5", "play b", "genmove w", "genmove w", "undo", "showboard", "",
        "# a comment line", "fly me to the moon", "7 final_score", "7", "quit", "name"])
    assert replies[0] == "=1 2"
    assert replies[1] == "= cnnlab-go"
    assert replies[3] == "= true" and replies[4] == "= false"
    assert replies[5].splitlines()[0] == "= protocol_version" and replies[5].count("\n") == len(COMMANDS) - 1
    assert replies[6].startswith("? unacceptable size")
    assert replies[7].startswith("? syntax error")
    assert replies[8] == "=" and replies[9] == "="
    assert replies[10].startswith("? syntax error: komi must be a number")
    assert replies[11] == "="
    assert replies[12] == "? illegal move: white D4: the point is occupied"
    assert replies[13].startswith("? illegal move: vertex must be")
    assert replies[14].startswith("? illegal move: colour must be")
    assert replies[15] == "? syntax error: expected play COLOUR VERTEX"
    assert replies[16] == "= A1" and replies[17] == "= B1"  # white twice in a row is allowed by GTP
    assert replies[18] == "="
    assert "X" in replies[19] and "o" in replies[19]  # last move (white A1 after the undo) in lower case
    assert replies[20] == "? unknown command 'fly'"
    # komi 7.5 on the board: black D4 and white A1; the rest of the board is reached by both colours -> only stones
    assert replies[21] == "=7 W+7.5"
    assert replies[22] == "?7 syntax error: a command id without a command"
    assert replies[23] == "="
    assert len(replies) == 24  # nothing after quit


def test_internal_errors_are_answered_not_raised():
    class Broken(FirstLegal):
        def choose(self, board):
            raise RuntimeError("boom")

    engine = Engine(Broken())
    assert engine.handle("genmove b") == "? internal error: RuntimeError: boom\n\n"
    assert engine.handle("name") == "= cnnlab-go\n\n"


def test_policy_player_never_plays_illegal_even_if_the_model_does_not_mask():
    """A model that puts all its mass on an occupied point: the player still picks a legal move."""
    import torch

    class Stubborn(torch.nn.Module):
        def forward(self, x):
            logits = torch.full((x.shape[0], 82), -5.0)
            logits[:, 40] = 10.0  # E5, occupied below
            logits[:, 41] = 5.0
            return logits

    player = PolicyPlayer(Stubborn(), 9)
    b = Board(9)
    b.play(parse_vertex("E5", 9))
    assert player.choose(b) == 41
    real = PolicyPlayer(zoo.create("go_policy", filters=8, layers=2), 9)
    for _ in range(30):
        move = real.choose(b)
        assert move is None or b.is_legal(move)
        b.play(move)
