"""Training Kim's TextCNN through :func:`cnnlab.fit`: one run, or K-fold cross-validation.

Kim's recipe: batch 50, Adadelta (rho 0.95, eps 1e-6, lr 1), dropout 0.5, max-norm 3 on the output weights
after every step, up to 25 epochs; the test score is taken at the epoch with the best validation accuracy on
10% of the training data (``restore_best_weights`` on ``val_accuracy``; the validation part is carved from
each training fold, never from the test fold). Early stopping (``patience``) only shortens the run.

As in Kim's ``process_data.py`` the vocabulary covers every sentence of the corpus (labels are not used):
words that occur only in a test fold keep their initial vector (pretrained or random), and sentences are
padded Kim's way (``max(windows) − 1`` pads in front, padded to the longest sentence).

A text run folder is a fit run folder whose ``config.json`` ``extra`` holds ``"app": "text"`` and the text facts
(vocabulary, padding, variant, vectors, classes, test sentence indices).
A cross-validation folder holds ``fold01/`` … ``foldKK/`` (each a text run folder) and ``cv.json`` (every
fold's accuracy, mean ± std); running the same command again skips finished folds and resumes a fold that
was interrupted.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List, Optional

import torch

from cnnlab.apps.text.corpora import Corpus, load_corpus
from cnnlab.apps.text.model import VARIANTS, max_norm_
from cnnlab.apps.text.vectors import embedding_matrix
from cnnlab.apps.text.vocab import Vocab, pad
from cnnlab.errors import ConfigError, DataError
from cnnlab.train.callbacks import Callback

__all__ = ["MaxNorm", "TextData", "prepare", "fold_indices", "train", "train_one", "fit_defaults", "fold_data", "KIM_OPTIONS", "VARIANT_MODEL", "CV_FILE",
           "default_precision", "VARIANT_PATIENCE"]

CV_FILE = "cv.json"
WINDOWS = (3, 4, 5)
#: Kim's optimisation recipe (fit options); ``patience`` shortens the 25 epochs when validation stalls.
KIM_OPTIONS = dict(epochs=25, batch_size=50, optimizer="adadelta", lr=1.0, monitor="val_accuracy",
                   restore_best_weights=True, patience=5, layout="nchw")
#: Variants whose default early stopping differs from ``KIM_OPTIONS``: random vectors learn slowly (on the
#: validation part of MR fold 1 CNN-rand still improved at epoch 15, after a dip at epochs 5-6), so CNN-rand
#: runs all 25 epochs and keeps the best validation epoch, exactly as Kim.
VARIANT_PATIENCE = {"rand": 0}
#: TextCNN keywords where a variant's default leaves Kim's, chosen on validation data only
#: (``benchmarks/text_pilots.py``; docs/text.md has the runs). With 50-d GloVe the fine-tuned variants overfit
#: within 4-10 epochs: dropout 0.5 on the embedded vectors plus 10% of words read as ``<unk>`` raised
#: CNN-non-static's best validation accuracy by 1.28 points on average over the training parts of folds 1-8;
#: embedding dropout 0.5 raised CNN-multichannel's by 1.46 on folds 1-4. It did not help CNN-rand or -static.
VARIANT_MODEL = {"nonstatic": {"embed_dropout": 0.5, "word_dropout": 0.1}, "multichannel": {"embed_dropout": 0.5}}


def default_precision() -> str:
    """``bf16`` where the hardware runs it natively (a CPU with AVX-512-BF16/AMX, a bf16 GPU), else ``fp32``.

    A fixed rule rather than fit's timed ``auto`` probe, so the same machine always trains the same way. On the
    Xeon of docs/text.md bf16 autocast makes a training step about 1.4× faster (the convolutions run in bf16;
    weights, embeddings, Adadelta state and the loss stay fp32).
    """
    from cnnlab.train.perf import bf16_native

    if torch.cuda.is_available():
        return "bf16" if bf16_native(torch.device("cuda")) else "fp32"
    return "bf16" if bf16_native(torch.device("cpu")) else "fp32"


class MaxNorm(Callback):
    """Kim's constraint as a :func:`cnnlab.fit` callback: :func:`max_norm_` after every optimiser step."""

    def __init__(self, limit: float = 3.0):
        self.limit = float(limit)

    def on_step_end(self, state) -> None:
        model = state.model
        max_norm_(getattr(model, "module", model), self.limit)  # DDP wraps the model


@dataclass
class TextData:
    """A tokenised, encoded corpus: the vocabulary and the padded id matrix."""

    corpus: Corpus
    vocab: Vocab
    x: torch.Tensor  # (N, max_len + 2 * edge) int64
    y: torch.Tensor  # (N,) int64
    edge: int
    max_len: int
    columns: tuple = ("text", "label")

    @property
    def classes(self) -> List[str]:
        return self.corpus.classes


def prepare(data: str, *, text_column: str = "text", label_column: str = "label", min_count: int = 1,
            windows=WINDOWS) -> TextData:
    """Load ``data`` (``mr``, ``rt`` or a CSV/TSV path), build the vocabulary and pad Kim's way."""
    corpus = load_corpus(data, text_column, label_column)
    kept = [i for i, t in enumerate(corpus.tokens) if t]
    if len(kept) < len(corpus.tokens):  # sentences with no token left after clean_str carry nothing
        corpus = Corpus(corpus.name, [corpus.tokens[i] for i in kept], [corpus.labels[i] for i in kept],
                        corpus.classes)
    if len(corpus) < 10:
        raise DataError(f"`{data}` has {len(corpus)} non-empty sentences; need at least 10 to train")
    vocab = Vocab.build(corpus.tokens, min_count=min_count)
    edge = max(windows) - 1
    max_len = max(len(t) for t in corpus.tokens)
    x = pad([vocab.encode(t) for t in corpus.tokens], length=max_len, edge=edge)
    return TextData(corpus, vocab, x, torch.tensor(corpus.labels, dtype=torch.long), edge, max_len,
                    (text_column, label_column))


def fold_indices(n: int, k: int, seed: int = 0) -> List[torch.Tensor]:
    """A seeded permutation of ``range(n)`` cut into ``k`` folds of near-equal size (sorted index tensors)."""
    if not 2 <= int(k) <= n:
        raise ConfigError(f"`folds` must be between 2 and the number of sentences ({n}); got {k}")
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    return [torch.sort(part).values for part in torch.tensor_split(perm, int(k))]


def _split(td: TextData, train_idx: torch.Tensor, test_idx: torch.Tensor, val_fraction: float, seed: int, name: str):
    from cnnlab.data import from_tensors

    gen = torch.Generator().manual_seed(seed)
    perm = train_idx[torch.randperm(len(train_idx), generator=gen)]
    n_val = max(1, int(round(len(perm) * val_fraction)))
    val_idx, fit_idx = perm[:n_val], perm[n_val:]
    return from_tensors(td.x[fit_idx], td.y[fit_idx], td.x[val_idx], td.y[val_idx], td.x[test_idx], td.y[test_idx],
                        classes=td.classes, name=name)


def fit_defaults(variant: str) -> dict:
    """The fit options a ``variant`` trains with unless told otherwise: Kim's, its patience, the precision."""
    return {**KIM_OPTIONS, "patience": VARIANT_PATIENCE.get(variant, KIM_OPTIONS["patience"]),
            "precision": default_precision()}


def fold_data(td: TextData, parts: List[torch.Tensor], f: int, val_fraction: float, seed: int, test: bool = True):
    """Fold ``f`` (1-based) of ``parts``: training on the other parts, the validation part carved from them with
    seed ``seed + f``, and part ``f`` as the test split (empty with ``test=False``: validation-only pilots)."""
    train_idx = torch.cat([p for j, p in enumerate(parts, start=1) if j != f])
    test_idx = parts[f - 1] if test else parts[f - 1][:0]
    return _split(td, train_idx, test_idx, val_fraction, seed + f, f"{td.corpus.name}-fold{f}")


def _meta(td: TextData, data: str, variant: str, vectors: Optional[str], embed_dim: int, found: int,
          test_indices: List[int], seed: int) -> dict:
    if data not in ("mr", "rt"):
        data = str(Path(data).resolve())
    return {"data": data, "text_column": td.columns[0], "label_column": td.columns[1], "variant": variant,
            "vectors": vectors, "embed_dim": embed_dim, "edge": td.edge, "max_len": td.max_len,
            "windows": list(WINDOWS), "classes": td.classes, "clean": "kim",
            "pretrained_words": found, "seed": seed, "test_indices": test_indices, "vocab": td.vocab.to_json()}


def build_model(td: TextData, variant: str, vectors, embed_dim: int, seed: int, rescale: bool = True,
                model_options: Optional[dict] = None):
    """A TextCNN for ``td`` with Kim's init, pretrained rows copied in; returns ``(model, found)``.

    ``model_options`` are :class:`~cnnlab.apps.text.model.TextCNN` keywords replacing Kim's (``maps``, ``dropout``,
    ``embed_dropout``, ``word_dropout``); :data:`VARIANT_MODEL` is applied by :func:`train`, not here.
    """
    from cnnlab import zoo

    if variant not in VARIANTS:
        raise ConfigError(f"`variant` must be one of {', '.join(VARIANTS)}; got {variant!r}")
    if variant != "rand" and vectors is None:
        raise ConfigError(f"CNN-{variant} needs pretrained vectors: pass --vectors glove50 or a vectors file")
    torch.manual_seed(seed)
    model = zoo.create("textcnn", vocab_size=len(td.vocab), embed_dim=embed_dim, num_classes=len(td.classes),
                       variant=variant, windows=WINDOWS, input_shape=(td.x.shape[1],), **(model_options or {}))
    weight, found = embedding_matrix(td.vocab, vectors if variant != "rand" else None, embed_dim, seed=seed,
                                     rescale=rescale)
    model.load_vectors(weight)
    return model, found


def train_one(td: TextData, ds, *, data: str, variant: str, vectors, vectors_name: Optional[str], embed_dim: int,
              out: Path, seed: int, options: dict, progress: bool, resume: bool = False,
              test_indices: Optional[List[int]] = None, rescale: bool = True,
              model_options: Optional[dict] = None) -> dict:
    """Train one run into ``out`` (continue it from its checkpoint when ``resume``) and test it on ``ds``."""
    from cnnlab import fit
    from cnnlab.train import evaluate, load_run

    out = Path(out)
    model, found = build_model(td, variant, vectors, embed_dim, seed, rescale, model_options)
    start, cpu = time.perf_counter(), time.process_time()
    resume = out if resume and (out / "checkpoint.pt").is_file() else None
    opts = {**fit_defaults(variant), **options, "seed": seed} if resume is None else {}  # a resume uses the stored options
    meta = _meta(td, data, variant, vectors_name, embed_dim, found, list(test_indices or []), seed)
    history = fit(model, ds, out=None if resume else out, resume=resume, callbacks=[MaxNorm(model.max_norm)],
                  progress=progress, extra={"app": "text", **meta}, **opts)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    run = load_run(out)
    metrics = evaluate(run.model, ds, split="test") if len(ds.y_test) else {}
    val = [r.get("val_accuracy") for r in history.records if r.get("val_accuracy") is not None]
    return {"accuracy": metrics.get("accuracy"), "val_accuracy": max(val) if val else None,
            "epochs": len(history.records), "best_epoch": history.best_epoch, "seconds": round(seconds, 1),
            "cpu_seconds": round(cpu, 1), "pretrained_words": found, "vocab_size": len(td.vocab) - 2, "out": str(out)}


def _load_vectors(td: TextData, variant: str, vectors: Optional[str]):
    if variant == "rand" or vectors is None:
        return None
    from cnnlab.apps.text.vectors import load_vectors

    return load_vectors(vectors, td.vocab.itos[2:])


def train(data: str = "mr", *, variant: str = "rand", vectors: Optional[str] = "glove50", out: str | Path,
          folds: Optional[int] = None, embed_dim: Optional[int] = None, seed: int = 0, val_fraction: float = 0.1,
          test_fraction: float = 0.1, text_column: str = "text", label_column: str = "label", progress: bool = True,
          resume: bool = False, rescale: bool = True, log: Optional[Callable[[str], None]] = None,
          model_options: Optional[dict] = None, **options) -> dict:
    """Train a TextCNN on ``data``: one run (seeded train/val/test split) or ``folds``-fold cross-validation.

    Args:
        data: ``mr``, ``rt`` or a CSV/TSV path.
        variant: ``rand`` | ``static`` | ``nonstatic`` | ``multichannel``.
        vectors: ``glove50`` or a word2vec/GloVe file (ignored by ``rand``).
        out: the run folder (a CV folder with ``fold01/``... when ``folds`` is given).
        folds: K for cross-validation; ``None`` for one run.
        embed_dim: D (default: the vectors' size, 50 for ``rand``).
        seed: seeds the split, the initialisation and the data order (fold f uses ``seed + f``).
        val_fraction: validation part carved from each training set; test_fraction: test part of a single run.
        rescale: scale pretrained vectors to the spread of Kim's uniform init (see :func:`embedding_matrix`).
        resume: continue an interrupted single run from its checkpoint (cross-validation always skips finished
            folds and continues an interrupted one).
        log: called with one line per finished fold.
        model_options: TextCNN keywords replacing the variant's defaults (Kim's, and :data:`VARIANT_MODEL`):
            ``maps``, ``dropout``, ``embed_dropout``, ``word_dropout``; recorded in the run's ``model.json``.
        **options: fit options replacing Kim's (epochs, patience, batch_size, ...).

    Returns:
        Single run: ``{"accuracy", "val_accuracy", "epochs", ...}``. CV: ``{"folds": [...], "mean", "std", ...}``
        (std over folds with ddof 1), also written to ``out/cv.json``.

    Raises:
        ConfigError: bad variant/folds/fractions, or non-rand without vectors. DataError / MissingDependencyError:
        data or vectors missing (one line saying what to do).
    """
    from cnnlab.io import write_json

    if variant not in VARIANTS:
        raise ConfigError(f"`variant` must be one of {', '.join(VARIANTS)}; got {variant!r}")
    for name, value in (("val_fraction", val_fraction), ("test_fraction", test_fraction)):
        if not 0.0 < float(value) < 0.5:
            raise ConfigError(f"`{name}` must be in (0, 0.5); got {value}")
    td = prepare(data, text_column=text_column, label_column=label_column)
    model_options = {**VARIANT_MODEL.get(variant, {}), **(model_options or {})}
    vec = _load_vectors(td, variant, vectors)
    dim = int(embed_dim) if embed_dim else (vec.dim if vec is not None else 50)
    vectors_name = vectors if variant != "rand" else None
    out = Path(out)
    common = dict(data=data, variant=variant, vectors=vec, vectors_name=vectors_name, embed_dim=dim,
                  options=options, progress=progress, rescale=rescale, model_options=model_options)
    if folds is None:
        test_idx, train_idx = _single_split(len(td.y), test_fraction, seed)
        ds = _split(td, train_idx, test_idx, val_fraction, seed, f"{td.corpus.name}")
        result = train_one(td, ds, out=out, seed=seed, resume=resume, test_indices=test_idx.tolist(), **common)
        return {"data": data, "variant": variant, "vectors": vectors_name, **result}
    parts = fold_indices(len(td.y), folds, seed)
    cv_path = out / CV_FILE
    done: Dict[int, dict] = {}
    if cv_path.is_file():
        stored = json.loads(cv_path.read_text(encoding="utf-8"))
        if (stored.get("data"), stored.get("variant"), stored.get("k")) != (data, variant, int(folds)):
            raise ConfigError(f"`{out}` holds a {stored.get('k')}-fold run of {stored.get('variant')} on "
                              f"{stored.get('data')}; pick another --out")
        done = {int(f["fold"]): f for f in stored.get("folds", [])}
    start = time.perf_counter()
    for f, test_idx in enumerate(parts, start=1):
        if f in done:
            continue
        ds = fold_data(td, parts, f, val_fraction, seed)
        result = train_one(td, ds, out=out / f"fold{f:02d}", seed=seed + f, resume=True,
                           test_indices=test_idx.tolist(), **common)
        done[f] = {"fold": f, **result}
        summary = _cv_summary(data, variant, vectors_name, int(folds), dim, done)
        write_json(cv_path, summary)
        if log is not None:
            log(f"fold {f}/{folds}: test accuracy {100 * result['accuracy']:.2f}%  "
                f"(val {100 * result['val_accuracy']:.2f}%, "
                f"{result['epochs']} epochs, best {result['best_epoch']}, {result['seconds']:.0f} s)")
    summary = _cv_summary(data, variant, vectors_name, int(folds), dim, done)
    summary["seconds_this_call"] = round(time.perf_counter() - start, 1)
    write_json(cv_path, summary)
    return summary


def _single_split(n: int, test_fraction: float, seed: int):
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    n_test = max(1, int(round(n * test_fraction)))
    return torch.sort(perm[:n_test]).values, torch.sort(perm[n_test:]).values


def _cv_summary(data, variant, vectors, k, dim, done: Dict[int, dict]) -> dict:
    folds = [done[f] for f in sorted(done)]
    accs = [f["accuracy"] for f in folds]
    mean = sum(accs) / len(accs)
    std = math.sqrt(sum((a - mean) ** 2 for a in accs) / (len(accs) - 1)) if len(accs) > 1 else 0.0
    return {"data": data, "variant": variant, "vectors": vectors, "embed_dim": dim, "k": k, "completed": len(folds),
            "mean": mean, "std": std, "seconds": round(sum(f["seconds"] for f in folds), 1),
            "cpu_seconds": round(sum(f.get("cpu_seconds", 0.0) for f in folds), 1), "folds": folds}
