"""The CLI's error boundary: one line on stderr, non-zero exit, no traceback."""

import subprocess
import sys

import typer

from cnnlab.cli import app as cli_app


def test_help_lists_commands(capsys):
    assert cli_app.main(["--help"]) == 0
    assert "Usage" in capsys.readouterr().out


def test_user_error_is_one_line(capsys, monkeypatch):
    @cli_app.app.command("_boom_test", hidden=True)
    def boom():
        raise ValueError("`kernel_size` must be ≤ the input size (3×3); got 5×5\nsecond line")

    try:
        assert cli_app.main(["_boom_test"]) == 2
        err = capsys.readouterr().err
        assert err == "error: `kernel_size` must be ≤ the input size (3×3); got 5×5\n"
    finally:
        cli_app.app.registered_commands[:] = [
            c for c in cli_app.app.registered_commands if c.name != "_boom_test"
        ]


def test_unknown_command_exits_nonzero():
    proc = subprocess.run([sys.executable, "-m", "cnnlab", "no-such-command"], capture_output=True, text=True)
    assert proc.returncode != 0
    assert "No such command" in proc.stderr


def test_version(capsys):
    import torch

    assert cli_app.main(["version"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("cnnlab 0.1.0") and torch.__version__ in out


def test_typer_exit_code_is_kept():
    @cli_app.app.command("_exit_test", hidden=True)
    def exit_three():
        raise typer.Exit(3)

    try:
        assert cli_app.main(["_exit_test"]) == 3
    finally:
        cli_app.app.registered_commands[:] = [
            c for c in cli_app.app.registered_commands if c.name != "_exit_test"
        ]
