"""The ``cnnlab`` command: a typer app whose commands live one per module in this package.

Every module in ``cnnlab.cli`` whose name does not start with ``_`` (and is not ``app``) registers its
command(s) on :data:`app` when imported. ``main`` is the one error boundary: user errors become a
one-line message on stderr and exit status 2; ``CNNLAB_DEBUG=1`` shows the traceback.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import sys

import typer

app = typer.Typer(
    name="cnnlab",
    help="Convolutional neural networks on PyTorch: build, analyse, train, explain, verify.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root() -> None:
    """Convolutional neural networks on PyTorch: build, analyse, train, explain, verify."""


@app.command("version")
def version() -> None:
    """Print the versions of cnnlab, torch and numpy."""
    import numpy
    import torch

    import cnnlab

    print(f"cnnlab {cnnlab.__version__}  torch {torch.__version__}  numpy {numpy.__version__}  "
          f"threads {torch.get_num_threads()}")


def _register_commands() -> None:
    import cnnlab.cli as pkg

    for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda m: m.name):
        if info.name.startswith("_") or info.name == "app":
            continue
        importlib.import_module(f"cnnlab.cli.{info.name}")


def _user_error_types():
    from cnnlab.errors import CnnlabError

    return (CnnlabError, ValueError, TypeError, FileNotFoundError, KeyError, ImportError)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit status (used by the console script and the tests)."""
    _register_commands()
    try:
        code = app(args=argv, standalone_mode=False)
        if isinstance(code, int):  # typer.Exit(n) is returned, not raised, outside standalone mode
            return code
    except SystemExit as exc:  # typer/click exits for --help and usage errors
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    except Exception as exc:  # the error boundary
        if isinstance(exc, typer.Exit):
            return exc.exit_code
        if isinstance(exc, typer.TyperException):  # usage errors: typer prints them itself
            show = getattr(exc, "show", None)
            if show is not None:
                show()
            else:
                print(f"error: {exc.format_message()}", file=sys.stderr)
            return exc.exit_code
        if isinstance(exc, typer.Abort):
            print("aborted", file=sys.stderr)
            return 130
        if os.environ.get("CNNLAB_DEBUG") or not isinstance(exc, _user_error_types()):
            raise
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(f"error: {message}", file=sys.stderr)
        return 2
    return 0


def run() -> None:  # pragma: no cover - console entry point
    sys.exit(main())


if __name__ == "__main__":  # pragma: no cover
    run()
