"""Find offline data files inside installed packages (without importing them) and check their hashes."""

from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path

from cnnlab.errors import DataError, MissingDependencyError


def package_file(package: str, relpath: str, install: str) -> Path:
    """Path of ``relpath`` inside the installed package ``package``, found without importing it.

    Raises:
        MissingDependencyError: the package or the file is missing (the message gives ``install``).
    """
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        spec = None
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    for root in locations:
        path = Path(root) / relpath
        if path.is_file():
            return path
    where = f"package `{package}` is not installed" if not locations else f"`{relpath}` is missing in `{package}`"
    raise MissingDependencyError(f"offline data not found: {where}; install it with: {install}")


def sha256(path: str | Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(chunk), b""):
            digest.update(block)
    return digest.hexdigest()


def check_sha256(path: str | Path, expected: str) -> None:
    """Raise :class:`DataError` unless the file's sha256 is ``expected`` (pinned asset integrity)."""
    got = sha256(path)
    if got != expected:
        raise DataError(f"`{path}` has sha256 {got[:16]}..., expected {expected[:16]}...; the file is corrupt or "
                        "not the pinned version (reinstall its package)")
