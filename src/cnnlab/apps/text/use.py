"""Using a trained text run: predict labels of sentences, explain one decision.

A text run folder is what :func:`cnnlab.apps.text.train.train` writes (a fit run plus ``text.json``); the
model comes from :func:`cnnlab.train.load_run`, the vocabulary and padding from ``text.json``. Sentences
go through Kim's ``clean_str``; words the vocabulary lacks become ``<unk>``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import List, Sequence

import torch

from cnnlab.apps.text.explain import TextExplanation, explain_ids
from cnnlab.apps.text.tokenize import clean_str
from cnnlab.apps.text.train import CV_FILE, TEXT_FILE
from cnnlab.apps.text.vocab import Vocab, pad
from cnnlab.errors import DataError

__all__ = ["TextModel", "load_text_run"]


@dataclass
class TextModel:
    """A trained TextCNN with its vocabulary and padding."""

    model: torch.nn.Module
    vocab: Vocab
    classes: List[str]
    edge: int
    meta: dict
    path: Path

    def encode(self, sentences: Sequence[str]) -> torch.Tensor:
        """Padded ids (N, L) of raw sentences (L ≥ the widest window).

        Raises:
            DataError: an empty sentence, or one with no token left after ``clean_str``.
        """
        tokens = []
        for s in sentences:
            t = clean_str(s).split() if isinstance(s, str) else []
            if not t:
                raise DataError(f"cannot classify {s!r}: the sentence is empty (no token after Kim's clean_str); "
                                "pass some words")
            tokens.append(t)
        width = max(self.model.windows)
        length = max(max(len(t) for t in tokens), width)
        return pad([self.vocab.encode(t) for t in tokens], length=length, edge=self.edge)

    @torch.no_grad()
    def predict(self, sentences: Sequence[str]) -> List[dict]:
        """One ``{"text", "tokens", "unknown", "label", "probabilities": {class: p}}`` per sentence."""
        ids = self.encode(sentences)
        probs = torch.softmax(self.model(ids).float(), dim=1)
        out = []
        for s, row, p in zip(sentences, ids.tolist(), probs):
            toks = self.vocab.decode(row)
            out.append({"text": s, "tokens": toks, "unknown": [t for t in clean_str(s).split() if t not in self.vocab],
                        "label": self.classes[int(p.argmax())],
                        "probabilities": {c: float(v) for c, v in zip(self.classes, p.tolist())}})
        return out

    def explain(self, sentence: str, *, top: int = 3) -> TextExplanation:
        """:func:`~cnnlab.apps.text.explain.explain_ids` on one sentence."""
        ids = self.encode([sentence])[0].tolist()
        return explain_ids(self.model, ids, self.vocab.itos, top=top)


def load_text_run(path: str | Path) -> TextModel:
    """Load a text run folder (``text.json`` + a fit run).

    Raises:
        DataError: not a text run, or a cross-validation folder (the message names a fold to pass instead).
    """
    from cnnlab.train import load_run

    path = Path(path)
    if (path / CV_FILE).is_file() and not (path / TEXT_FILE).is_file():
        folds = sorted(p.name for p in path.glob("fold*") if (p / TEXT_FILE).is_file())
        hint = f"e.g. {path / folds[0]}" if folds else "train one first"
        raise DataError(f"`{path}` is a cross-validation folder; pass one of its fold runs ({hint})")
    meta_path = path / TEXT_FILE
    if not meta_path.is_file():
        raise DataError(f"`{path}` is not a text run (no {TEXT_FILE}); train one with: cnnlab text train --out {path}")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        vocab = Vocab.from_json(meta["vocab"])
    except (json.JSONDecodeError, KeyError, UnicodeDecodeError) as exc:
        raise DataError(f"`{meta_path}` is corrupt ({exc})") from None
    run = load_run(path)
    model = run.model.eval()
    return TextModel(model, vocab, list(meta.get("classes") or run.classes), int(meta.get("edge", 4)), meta, path)
