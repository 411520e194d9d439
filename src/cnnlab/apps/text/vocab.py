"""Vocabulary (word <-> id) and padding of token-id sequences, as Kim's ``process_data.py`` builds them.

Ids: ``<pad>`` = 0 (its embedding row stays zero), ``<unk>`` = 1, then the words by decreasing count (ties in
alphabetical order, so the ids never depend on set or dict order). Counts are document frequencies, like
Kim's (a word counts once per sentence); ``min_count`` drops rarer words, which then read as ``<unk>``.

Padding follows Kim's ``get_idx_from_sent``: ``edge`` pad ids before the sentence (``edge`` = widest window
- 1, so every window can start on the first word), then pads up to ``length + 2 * edge``.

Example:
    >>> v = Vocab.build([["a", "good", "film"], ["a", "bad", "film"]])
    >>> v.encode(["a", "great", "film"])
    [2, 1, 3]
    >>> pad([[2, 1, 3]], length=4, edge=1).tolist()
    [[0, 2, 1, 3, 0, 0]]
"""

from __future__ import annotations

from collections import Counter
from typing import Dict, Iterable, List, Optional, Sequence

import torch

from cnnlab.errors import ConfigError, DataError

__all__ = ["PAD", "UNK", "Vocab", "pad"]

PAD, UNK = "<pad>", "<unk>"


class Vocab:
    """Word <-> id table with ``<pad>`` = 0 and ``<unk>`` = 1.

    Args:
        words: the words after the two special tokens, in id order.
        counts: document frequency of each word (optional, kept for reports).
    """

    def __init__(self, words: Sequence[str], counts: Optional[Dict[str, int]] = None):
        self.itos: List[str] = [PAD, UNK] + [w for w in words]
        self.stoi: Dict[str, int] = {w: i for i, w in enumerate(self.itos)}
        if len(self.stoi) != len(self.itos):
            raise ConfigError(f"vocabulary words must be unique and not {PAD}/{UNK}; got {len(self.itos)} entries "
                              f"with {len(self.stoi)} distinct")
        self.counts = dict(counts or {})

    @classmethod
    def build(cls, sentences: Iterable[Sequence[str]], min_count: int = 1) -> "Vocab":
        """Vocabulary of the tokenised ``sentences`` keeping words in at least ``min_count`` sentences."""
        if int(min_count) < 1:
            raise ConfigError(f"`min_count` must be ≥ 1; got {min_count}")
        df: Counter = Counter()
        for tokens in sentences:
            df.update(set(tokens))
        df.pop(PAD, None)
        df.pop(UNK, None)
        words = sorted((w for w, c in df.items() if c >= min_count), key=lambda w: (-df[w], w))
        return cls(words, {w: df[w] for w in words})

    def __len__(self) -> int:
        return len(self.itos)

    def __contains__(self, word: str) -> bool:
        return word in self.stoi

    def encode(self, tokens: Sequence[str]) -> List[int]:
        """Ids of ``tokens``; unknown words give ``<unk>`` (1)."""
        return [self.stoi.get(t, 1) for t in tokens]

    def decode(self, ids: Iterable[int], *, skip_pad: bool = True) -> List[str]:
        """Words of ``ids`` (``<pad>`` dropped unless ``skip_pad=False``)."""
        out = []
        for i in ids:
            i = int(i)
            if not 0 <= i < len(self.itos):
                raise DataError(f"token id {i} is outside the vocabulary (0..{len(self.itos) - 1})")
            if i or not skip_pad:
                out.append(self.itos[i])
        return out

    def to_json(self) -> Dict[str, object]:
        """``{"words": [...], "counts": [...]}`` without the special tokens."""
        words = self.itos[2:]
        return {"words": words, "counts": [self.counts.get(w, 0) for w in words]}

    @classmethod
    def from_json(cls, obj: Dict[str, object]) -> "Vocab":
        """Inverse of :meth:`to_json`."""
        if not isinstance(obj, dict) or not isinstance(obj.get("words"), list):
            raise DataError("a vocabulary file must hold {\"words\": [...]}; got "
                            f"{type(obj).__name__ if not isinstance(obj, dict) else sorted(obj)}")
        words = [str(w) for w in obj["words"]]
        counts = obj.get("counts") or []
        return cls(words, dict(zip(words, (int(c) for c in counts))))


def pad(sequences: Sequence[Sequence[int]], length: Optional[int] = None, edge: int = 0) -> torch.Tensor:
    """Stack id sequences into an int64 matrix, Kim-style: ``edge`` pads, the ids, pads to ``length + 2*edge``.

    Args:
        sequences: lists of ids.
        length: the longest sentence kept (default: the longest given); longer ones are cut at ``length``.
        edge: pad ids before each sentence and the minimum after it.

    Returns:
        ``(N, length + 2 * edge)`` int64 tensor.

    Raises:
        ConfigError: ``length`` < 1 or ``edge`` < 0.
    """
    if length is None:
        length = max((len(s) for s in sequences), default=1)
    if int(length) < 1 or int(edge) < 0:
        raise ConfigError(f"`length` must be ≥ 1 and `edge` ≥ 0; got length={length}, edge={edge}")
    out = torch.zeros(len(sequences), int(length) + 2 * int(edge), dtype=torch.long)
    for i, seq in enumerate(sequences):
        seq = list(seq)[:length]
        if seq:
            out[i, edge:edge + len(seq)] = torch.as_tensor(seq, dtype=torch.long)
    return out
