"""Using a trained text run: predict labels of sentences, explain one decision.

A text run folder is what :func:`cnnlab.apps.text.train.train` writes: a fit run whose ``config.json``
``extra`` holds ``"app": "text"`` with the vocabulary and padding; the model comes from
:func:`cnnlab.train.load_run`. Sentences
go through Kim's ``clean_str``; words the vocabulary lacks become ``<unk>``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import List, Sequence

import torch

from cnnlab.apps.text.explain import TextExplanation, explain_ids
from cnnlab.apps.text.tokenize import clean_str
from cnnlab.apps.text.train import CV_FILE
from cnnlab.apps.text.vocab import Vocab, pad
from cnnlab.errors import DataError

__all__ = ["TextModel", "from_run", "load_text_run"]


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


def _text_meta(path: Path):
    """The text facts of a run folder (``config.json`` ``extra`` with ``app`` = ``text``), or ``None``."""
    from cnnlab.runfolder import is_run_folder, read_config

    if not is_run_folder(path):
        return None
    extra = read_config(path).get("extra") or {}
    return extra if extra.get("app") == "text" else None


def from_run(run) -> TextModel:
    """A :class:`TextModel` from a loaded text run (:func:`cnnlab.train.load_run`).

    Raises:
        DataError: the run is not a text run or its vocabulary is corrupt.
    """
    meta = run.extra if isinstance(run.extra, dict) and run.extra.get("app") == "text" else None
    if meta is None:
        raise DataError(f"`{run.path}` is not a text run; train one with: cnnlab text train --out {run.path}")
    try:
        vocab = Vocab.from_json(meta["vocab"])
    except (KeyError, TypeError) as exc:
        raise DataError(f"the vocabulary of text run `{run.path}` is corrupt ({exc})") from None
    model = run.model.eval()
    return TextModel(model, vocab, list(meta.get("classes") or run.classes), int(meta.get("edge", 4)), meta,
                     Path(run.path))


def load_text_run(path: str | Path) -> TextModel:
    """Load a text run folder (a fit run whose ``config.json`` ``extra`` says ``"app": "text"``).

    Raises:
        DataError: not a text run, or a cross-validation folder (the message names a fold to pass instead).
    """
    from cnnlab.train import load_run

    path = Path(path)
    if (path / CV_FILE).is_file() and _text_meta(path) is None:
        folds = sorted(p.name for p in path.glob("fold*") if _text_meta(p) is not None)
        hint = f"e.g. {path / folds[0]}" if folds else "none has finished yet"
        raise DataError(f"`{path}` is a cross-validation folder; pass one of its fold runs ({hint})")
    if _text_meta(path) is None:
        raise DataError(f"`{path}` is not a text run; train one with: cnnlab text train --out {path}")
    return from_run(load_run(path))
