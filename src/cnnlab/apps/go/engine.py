"""A GTP (Go Text Protocol 2) engine whose moves are the policy network's most probable legal move (no search).

:class:`Engine` keeps its own :class:`~cnnlab.apps.go.board.Board`; ``handle(line)`` answers one command
line with ``= result`` or ``? message`` (GTP's reply format, with the optional command id echoed), so a
malformed command, an illegal move or an internal error never ends the session. :func:`serve` reads
commands from a stream until ``quit``. The engine plugs into GoGui, Sabaki or a twogtp-style referee.
"""

from __future__ import annotations

import sys
from typing import Callable, TextIO

import numpy as np
import torch

from cnnlab.apps.go.board import Board, IllegalMove, format_vertex, parse_colour, parse_vertex
from cnnlab.apps.go.features import planes

PROTOCOL_VERSION = "2"
COMMANDS = ("protocol_version", "name", "version", "known_command", "list_commands", "boardsize", "clear_board",
            "komi", "play", "genmove", "undo", "showboard", "final_score", "quit")


class GtpFailure(Exception):
    """A command that fails: answered ``? message``."""


class PolicyPlayer:
    """The policy network as a player: the most probable legal move of a position (no search).

    Args:
        model: any module mapping planes (N, C, S, S) to (N, S² + 1) move logits.
    """

    def __init__(self, model: torch.nn.Module, size: int, symmetries: int = 1):
        self.model = model.eval()
        self.size = size
        self.symmetries = symmetries  # 8: average the policy over the board symmetries (no search)

    @torch.no_grad()
    def probabilities(self, board: Board) -> np.ndarray:
        from cnnlab.apps.go.train import predict_logits

        logits = predict_logits(self.model, planes(board)[None], symmetries=self.symmetries)
        return torch.softmax(logits, dim=1)[0].numpy()

    def choose(self, board: Board) -> int | None:
        p = self.probabilities(board)
        legal = board.legal_points() + [True]  # the engine's own check, whatever the model masks
        for idx in np.argsort(-p, kind="stable"):
            if legal[idx]:
                return None if idx == board.n else int(idx)
        return None


def load_player(run, symmetries: int = 1) -> PolicyPlayer:
    """A :class:`PolicyPlayer` for a run folder / zoo name / module through the core's resolver."""
    from cnnlab.bundle import resolve

    bundle = resolve(run)
    size = getattr(bundle.model, "size", None) or (int(bundle.input_shape[-1]) if bundle.input_shape else 9)
    return PolicyPlayer(bundle.model, size, symmetries)


class Engine:
    """GTP state machine around a player (``choose(board) -> move``)."""

    def __init__(self, player, *, size: int = 9, komi: float = 7.5, name: str = "cnnlab-go", version: str = ""):
        from cnnlab import __version__

        self.player = player
        self.sizes = (size,)  # a CNN trained on one board size plays that size
        self.board = Board(size, komi)
        self.name = name
        self.version_text = version or __version__
        self.finished = False

    # GTP replies -------------------------------------------------------------------------------------
    def handle(self, line: str) -> str | None:
        """The reply to one command line (``None`` for an empty/comment line), ending with a blank line."""
        text = line.split("#", 1)[0].replace("\t", " ").strip()
        text = "".join(ch for ch in text if ch >= " " or ch == "\n")
        if not text:
            return None
        parts = text.split()
        ident = ""
        if parts[0].isdigit():
            ident, parts = parts[0], parts[1:]
            if not parts:
                return f"?{ident} syntax error: a command id without a command\n\n"
        command, args = parts[0].lower(), parts[1:]
        try:
            if command not in COMMANDS:
                raise GtpFailure(f"unknown command {parts[0]!r}")
            result = getattr(self, f"cmd_{command}")(args)
        except GtpFailure as exc:
            return f"?{ident} {exc}\n\n"
        except IllegalMove as exc:
            return f"?{ident} illegal move: {exc}\n\n"
        except Exception as exc:  # the engine never dies on a command
            return f"?{ident} internal error: {type(exc).__name__}: {exc}\n\n"
        return f"={ident} {result}\n\n" if result else f"={ident}\n\n"

    # commands ----------------------------------------------------------------------------------------
    @staticmethod
    def _nargs(args, n: int, usage: str) -> None:
        if len(args) != n:
            raise GtpFailure(f"syntax error: expected {usage}")

    def cmd_protocol_version(self, args):
        return PROTOCOL_VERSION

    def cmd_name(self, args):
        return self.name

    def cmd_version(self, args):
        return self.version_text

    def cmd_known_command(self, args):
        self._nargs(args, 1, "known_command COMMAND")
        return "true" if args[0].lower() in COMMANDS else "false"

    def cmd_list_commands(self, args):
        return "\n".join(COMMANDS)

    def cmd_boardsize(self, args):
        self._nargs(args, 1, "boardsize N")
        if not args[0].isdigit():
            raise GtpFailure(f"syntax error: board size must be an integer; got {args[0]!r}")
        size = int(args[0])
        if size not in self.sizes:
            raise GtpFailure(f"unacceptable size (this network plays {'/'.join(map(str, self.sizes))}; got {size})")
        self.board = Board(size, self.board.komi)
        return ""

    def cmd_clear_board(self, args):
        self.board = Board(self.board.size, self.board.komi)
        return ""

    def cmd_komi(self, args):
        self._nargs(args, 1, "komi FLOAT")
        try:
            komi = float(args[0])
        except ValueError:
            raise GtpFailure(f"syntax error: komi must be a number; got {args[0]!r}") from None
        if komi != komi or abs(komi) > 1000:
            raise GtpFailure(f"syntax error: komi must be a finite number; got {args[0]!r}")
        self.board.komi = komi
        return ""

    def cmd_play(self, args):
        self._nargs(args, 2, "play COLOUR VERTEX")
        colour = parse_colour(args[0])
        move = parse_vertex(args[1], self.board.size)
        self.board.play(move, colour)
        return ""

    def cmd_genmove(self, args):
        self._nargs(args, 1, "genmove COLOUR")
        colour = parse_colour(args[0])
        self.board.to_play = colour
        move = self.player.choose(self.board)
        self.board.play(move, colour)
        return format_vertex(move, self.board.size)

    def cmd_undo(self, args):
        try:
            self.board.undo()
        except IllegalMove:
            raise GtpFailure("cannot undo") from None
        return ""

    def cmd_showboard(self, args):
        return "\n" + str(self.board)

    def cmd_final_score(self, args):
        return self.board.result()

    def cmd_quit(self, args):
        self.finished = True
        return ""


def serve(engine: Engine, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout,
          log: Callable[[str], None] | None = None) -> None:
    """Answer GTP commands from ``stdin`` until ``quit`` or end of input."""
    for line in stdin:
        reply = engine.handle(line)
        if reply is None:
            continue
        stdout.write(reply)
        stdout.flush()
        if engine.finished:
            break
