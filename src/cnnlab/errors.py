"""The small exception hierarchy of cnnlab.

User errors subclass ``ValueError``/``TypeError`` so callers that catch the builtins keep working; the
CLI's error boundary prints them as one line. Messages name the argument, what was expected and what
was received, e.g. "`kernel_size` must be ≤ the input size (3×3); got 5×5 at layer 2 (Conv2D)".
"""

from __future__ import annotations


class CnnlabError(Exception):
    """Base class of every error cnnlab raises on purpose."""


class ShapeError(CnnlabError, ValueError):
    """A tensor or layer shape does not fit (wrong rank, kernel larger than the map, ...)."""


class ConfigError(CnnlabError, ValueError):
    """An option, name or model description is invalid (unknown model, bad padding string, ...)."""


class UnknownNameError(ConfigError, KeyError):
    """A name (model, dataset, layer, method) is not known; the message lists the known ones."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class DataError(CnnlabError, ValueError):
    """A dataset, image or file is missing, empty or corrupt."""


class CheckpointError(DataError):
    """A checkpoint or weights file is corrupt, truncated or does not match the model."""


class TrainingError(CnnlabError, RuntimeError):
    """Training cannot go on (NaN loss, diverged); the last good checkpoint is kept."""


class MissingDependencyError(CnnlabError, ImportError):
    """An optional package or offline asset is not installed; the message gives the install command."""


def require(module: str, install: str):
    """Import an optional module lazily, or raise a one-line error with the install command.

    Args:
        module: importable name, e.g. ``"matplotlib.pyplot"``.
        install: what to run, e.g. ``"pip install matplotlib"``.
    """
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingDependencyError(
            f"optional package `{module}` is not installed ({exc}); install it with: {install}"
        ) from None
