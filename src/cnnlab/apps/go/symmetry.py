"""The 8 symmetries of the square board (the dihedral group D4), on planes and on moves.

Symmetry ``k`` (0..7) rotates by ``k % 4`` quarter turns (``np.rot90``), then transposes when ``k >= 4``;
0 is the identity. Planes are permuted with one index table per (size, k), so the same table serves NumPy
arrays, torch tensors and moves (a pass maps to a pass).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from cnnlab.errors import ConfigError

COUNT = 8


def _check(k: int) -> None:
    if not isinstance(k, (int, np.integer)) or not 0 <= k < COUNT:
        raise ConfigError(f"symmetry must be an integer 0..7; got {k!r}")


def transform_grid(a: np.ndarray, k: int) -> np.ndarray:
    """Apply symmetry ``k`` to the last two axes (rows, cols) of ``a``."""
    _check(k)
    out = np.rot90(a, k % 4, axes=(-2, -1))
    if k >= 4:
        out = np.swapaxes(out, -2, -1)
    return np.ascontiguousarray(out)


@lru_cache(maxsize=None)
def gather_index(size: int, k: int) -> np.ndarray:
    """``new.flat[j] = old.flat[gather_index[j]]``: the source point of every target point."""
    return transform_grid(np.arange(size * size).reshape(size, size), k).ravel()


@lru_cache(maxsize=None)
def move_index(size: int, k: int) -> np.ndarray:
    """``move_index[p]``: where point ``p`` goes under symmetry ``k``; entry ``size²`` (pass) stays."""
    src = gather_index(size, k)
    dst = np.empty(size * size + 1, dtype=np.int64)
    dst[src] = np.arange(size * size)
    dst[size * size] = size * size
    return dst


def inverse(k: int) -> int:
    """The symmetry that undoes ``k`` (quarter turns invert; the transposed ones are their own inverse)."""
    _check(k)
    return (4 - k) % 4 if k < 4 else k


def transform_move(move: int | None, k: int, size: int) -> int | None:
    if move is None:
        return None
    return int(move_index(size, k)[move])
