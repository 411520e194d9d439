"""A small GTP client that drives GNU Go (``gnugo --mode gtp``) as a subprocess.

GTP (Go Text Protocol 2): one command per line; the reply is ``= result`` or ``? error`` followed by an
empty line. GNU Go's binary is looked up on ``PATH`` and at ``/usr/games/gnugo`` (Debian's place).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from cnnlab.errors import CnnlabError, ConfigError, MissingDependencyError

INSTALL = "apt-get install -y gnugo"


class GtpError(CnnlabError, RuntimeError):
    """A GTP engine answered ``? message`` or died."""


def gnugo_path() -> str | None:
    """The gnugo binary, or None when it is not installed."""
    found = shutil.which("gnugo")
    if found:
        return found
    debian = Path("/usr/games/gnugo")
    return str(debian) if debian.is_file() else None


def require_gnugo() -> str:
    """The gnugo binary, or a one-line error with the install command."""
    path = gnugo_path()
    if path is None:
        raise MissingDependencyError(f"GNU Go is not installed (`gnugo` not on PATH nor at /usr/games/gnugo); "
                                     f"install it with: {INSTALL}")
    return path


class GtpProcess:
    """A GTP engine in a subprocess: ``send(command) -> str`` returns the reply without ``= ``.

    Args:
        argv: the engine's command line.
    Raises:
        GtpError: when the engine answers ``?`` or exits.
    """

    def __init__(self, argv: list[str]):
        self.argv = list(argv)
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True, bufsize=1)

    def send(self, command: str) -> str:
        if self.proc.poll() is not None:
            raise GtpError(f"GTP engine {self.argv[0]} exited (code {self.proc.returncode}) before {command!r}")
        self.proc.stdin.write(command.strip() + "\n")
        self.proc.stdin.flush()
        lines = []
        while True:
            line = self.proc.stdout.readline()
            if line == "":
                raise GtpError(f"GTP engine {self.argv[0]} closed its output after {command!r}")
            line = line.rstrip("\r\n")
            if line == "" and lines:
                break
            if line == "" and not lines:
                continue
            lines.append(line)
        reply = "\n".join(lines)
        if reply.startswith("?"):
            raise GtpError(f"GTP engine {self.argv[0]} refused {command!r}: {reply[1:].strip()}")
        if not reply.startswith("="):
            raise GtpError(f"GTP engine {self.argv[0]} gave a malformed reply to {command!r}: {reply!r}")
        return reply[1:].strip()

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write("quit\n")
                self.proc.stdin.flush()
                self.proc.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()

    def __enter__(self) -> "GtpProcess":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def gnugo(level: int = 0, seed: int = 0, *, komi: float = 7.5, size: int = 9) -> GtpProcess:
    """Start GNU Go in GTP mode with Chinese (area) rules, never resigning, playing on until all dead
    stones are captured, so that the final position scores the same under plain area counting."""
    binary = require_gnugo()
    proc = GtpProcess([binary, "--mode", "gtp", "--level", str(int(level)), "--seed", str(int(seed)),
                       "--chinese-rules", "--capture-all-dead", "--never-resign", "--komi", str(komi)])
    proc.send(f"boardsize {size}")
    proc.send("clear_board")
    proc.send(f"komi {komi}")
    return proc


def check_gnugo_job(games: int, level: int, workers: int) -> str:
    """The shared checks of a GNU Go job (self-play, match): GNU Go installed, ``games`` ≥ 1, ``level`` in 0..10,
    ``workers`` ≥ 1; returns GNU Go's path.

    Raises:
        MissingDependencyError: GNU Go is not installed. ConfigError: a bad count or level.
    """
    path = require_gnugo()
    if games < 1:
        raise ConfigError(f"`--games` must be ≥ 1; got {games}")
    if not 0 <= level <= 10:
        raise ConfigError(f"`--level` must be in 0..10 (GNU Go's levels); got {level}")
    if workers < 1:
        raise ConfigError(f"`--workers` must be ≥ 1; got {workers}")
    return path
