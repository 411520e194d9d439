"""Train a spoken-digit model through :func:`cnnlab.fit`, and predict WAV files with a trained run.

Training computes the log-mel features of every clip once with the model's own front end
(``model.features``) and trains the rest of the model on them (a :class:`~.models.SpeechNet` takes either
waveforms or those features). ``predict`` feeds waveforms, so the same front end runs inside the model:
training and inference cannot compute different features.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import torch

from cnnlab.errors import ConfigError, DataError, UnknownNameError

from cnnlab.apps.speech import audio
from cnnlab.apps.speech.data import DIGITS, list_fsdd, load_waveforms, split_clips
from cnnlab.apps.speech.models import MODELS

__all__ = ["TOP_DB", "ALLISON_DIR", "SpeechResult", "create_model", "features_dataset", "train", "predict_files",
           "allison_files", "RESULTS_FILE"]

TOP_DB = 40.0  # silence threshold of the clip loader (dB below the loudest frame)
ALLISON_DIR = Path("/usr/share/asterisk/sounds/en_US_f_Allison/digits")
RESULTS_FILE = "speech.json"


@dataclass
class SpeechResult:
    """What one training run measured."""

    model: str
    split: str
    params: int
    test_accuracy: float
    per_speaker: dict[str, float]
    epochs: int
    train_seconds: float
    cpu_seconds: float
    out: Path | None = None
    allison: dict | None = None
    history: object = field(default=None, repr=False)


def create_model(name: str, **kwargs):
    """``freq`` | ``cnn2d`` | ``dnn`` (or the zoo names ``speech_*``) -> a fresh :class:`~.models.SpeechNet`.

    ``kwargs`` go to the zoo builder (``utterance_norm``, ``channels``, ``hidden``, ...)."""
    from cnnlab import zoo

    zoo_name = MODELS.get(name, name)
    if zoo_name not in MODELS.values():
        raise UnknownNameError(f"`--model` must be one of {', '.join(MODELS)}; got {name!r}")
    try:
        return zoo.create(zoo_name, **kwargs)
    except TypeError as exc:
        raise ConfigError(f"bad option for `{zoo_name}`: {exc}") from None


@torch.no_grad()
def _features(model, x: torch.Tensor, batch: int = 500) -> torch.Tensor:
    model.eval()
    return torch.cat([model.features(x[i:i + batch]) for i in range(0, len(x), batch)]) if len(x) else \
        x.new_zeros((0, *model.feature_shape))


def features_dataset(model, split: str = "official", *, root=None, extra_train=(), top_db: float = TOP_DB,
                     exclude=(), waveforms: bool = False):
    """The FSDD split as log-mel features computed with ``model``'s front end (or as waveforms).

    ``extra_train`` names folders (e.g. of ``cnnlab speech synth``) whose every clip joins the training split
    only; validation and test stay the recordings of ``root``. ``exclude`` names speakers left out of every
    split (for choosing options on a validation speaker with the test speaker out of sight).
    ``waveforms=True`` keeps the (N, length) waveforms (what on-the-fly augmentation starts from; the model
    computes their features itself).

    Returns:
        ``(dataset, clips)``: a :class:`cnnlab.data.Dataset` with x (N, n_mels, T) float32 (or (N, length))
        and digit labels, and the ``{"train", "val", "test"}`` clip lists (for per-speaker scores).

    Raises:
        ConfigError: an excluded speaker that is not in the data, or excluding the test speaker.
    """
    from cnnlab.data import Dataset

    clips = list_fsdd(root)
    exclude = list(exclude)
    unknown = sorted(set(exclude) - {c.speaker for c in clips})
    if unknown:
        raise ConfigError(f"`exclude` must name speakers of the data; got {', '.join(unknown)}")
    if split.startswith("speaker:") and split.split(":", 1)[1] in exclude:
        raise ConfigError(f"the test speaker of `{split}` cannot also be excluded")
    clips = split_clips([c for c in clips if c.speaker not in exclude], split)
    for folder in extra_train:
        clips["train"] = clips["train"] + list_fsdd(folder)
    tensors = {}
    for part, items in clips.items():
        x, y = load_waveforms(items, sample_rate=model.sample_rate, length=model.length, top_db=top_db)
        tensors[part] = (x if waveforms else _features(model, x), y)
    ds = Dataset(f"fsdd-{split}", *tensors["train"], *tensors["val"], *tensors["test"], classes=list(DIGITS))
    return ds, clips


def _per_speaker(model, x: torch.Tensor, y: torch.Tensor, clips) -> dict[str, float]:
    with torch.no_grad():
        pred = torch.cat([model(x[i:i + 500]).argmax(1) for i in range(0, len(x), 500)])
    out = {}
    for name in sorted({c.speaker for c in clips}):
        idx = torch.tensor([i for i, c in enumerate(clips) if c.speaker == name])
        out[name] = float((pred[idx] == y[idx]).float().mean())
    return out


def train(model: str = "freq", *, split: str = "official", out: str | Path | None = None, epochs: int = 20,
          batch_size: int = 64, lr: float = 3e-3, seed: int = 0, root=None, extra_train=(), progress: bool = True,
          allison: bool = True, augment=None, utterance_norm: str = "max", model_options: dict | None = None,
          exclude=(), resume: bool = False) -> SpeechResult:
    """Train ``model`` on the FSDD ``split`` through :func:`cnnlab.fit` and score its test set.

    Args:
        model: ``freq`` | ``cnn2d`` | ``dnn``.
        split: ``official`` or ``speaker:NAME``.
        out: run folder (``None``: nothing written); ``speech.json`` there records the scores below.
        epochs, batch_size, lr, seed: fit options (Adam, cosine schedule, best validation weights kept).
        root: the recordings folder (default ``$CNNLAB_DATA/fsdd/recordings``).
        extra_train: folders of more training clips (synthesised speech), never validated or tested on.
        allison: also score the ten Allison digits when the Debian package is installed.
        augment: a :class:`~.augment.SpeechAugment` (``True``: its defaults; ``None``/``False``: none), drawn
            afresh for every training batch inside ``fit`` (validation and test clips are never augmented).
        utterance_norm: the front end's per-utterance normalisation, ``max`` | ``mvn`` | ``cmvn``.
        model_options: more zoo-builder options (``channels``, ``hidden``).
        exclude: speakers left out of every split (choose options on a validation speaker, test speaker away).
        resume: continue the interrupted run in ``out`` (same options).

    Raises:
        DataError: FSDD missing. ConfigError: a bad split/option. UnknownNameError: a bad model name.
    """
    from cnnlab.train import evaluate, fit

    from cnnlab.apps.speech.augment import SpeechAugment

    if augment is True:
        augment = SpeechAugment()
    augment = augment or None
    if augment is not None and not isinstance(augment, SpeechAugment):
        raise ConfigError(f"`augment` must be a SpeechAugment, True or None; got {type(augment).__name__}")
    if resume and out is None:
        raise ConfigError("`resume` needs the run folder `out`")
    torch.manual_seed(seed)  # the initial weights depend on the seed only
    net = create_model(model, utterance_norm=utterance_norm, **(model_options or {}))
    ds, clips = features_dataset(net, split, root=root, extra_train=extra_train, exclude=exclude,
                                 waveforms=augment is not None)
    t0, c0 = time.perf_counter(), time.process_time()
    options = dict(epochs=epochs, batch_size=batch_size, lr=lr, optimizer="adam", schedule="cosine", seed=seed,
                   precision="fp32", device="cpu")
    if augment is not None:
        options["augment"] = augment.bind(net.frontend)
    history = fit(net, ds, task="classification", out=None if resume else out, resume=out if resume else None,
                  progress=progress, **options,
                  extra={"app": "speech", "split": split, "top_db": TOP_DB, "exclude": list(exclude),
                         "extra_train": [str(f) for f in extra_train], "augment": augment.describe() if augment else None,
                         "sample_rate": net.sample_rate, "length": net.length})
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    net.eval()
    test = evaluate(net, ds, split="test", confusion=False)
    result = SpeechResult(MODELS.get(model, model), split, sum(p.numel() for p in net.parameters()),
                          float(test["accuracy"]), _per_speaker(net, ds.x_test, ds.y_test, clips["test"]),
                          len(history), wall, cpu, Path(out) if out is not None else None, history=history)
    files = allison_files() if allison else None
    if files:
        preds = predict_files(net, files)
        result.allison = {"correct": sum(p["digit"] == str(i) for i, p in enumerate(preds)), "total": len(preds),
                          "predicted": [p["digit"] for p in preds]}
    if out is not None:
        from cnnlab.io import write_json

        write_json(Path(out) / RESULTS_FILE, {"model": result.model, "split": split, "params": result.params,
                                              "test_accuracy": result.test_accuracy,
                                              "per_speaker": result.per_speaker, "epochs": result.epochs,
                                              "train_seconds": wall, "cpu_seconds": cpu, "allison": result.allison,
                                              "augment": augment.describe() if augment else None,
                                              "utterance_norm": utterance_norm, "exclude": list(exclude)})
    return result


def allison_files() -> list[Path] | None:
    """The Allison digits ``0.wav``..``9.wav`` (Debian ``asterisk-core-sounds-en-wav``), or ``None``."""
    files = [ALLISON_DIR / f"{d}.wav" for d in range(10)]
    return files if all(f.is_file() for f in files) else None


def predict_files(run, files, *, top_k: int = 3) -> list[dict]:
    """Digits spoken in WAV files, through the model's own front end.

    Args:
        run: a run folder of ``cnnlab speech train`` (or a loaded :class:`~.models.SpeechNet`).
        files: audio files (any sample rate and channel count: converted as :mod:`.audio` documents).
        top_k: classes listed per file.

    Returns:
        ``[{"file", "digit", "probability", "top": [{"digit", "probability"}, ...]}, ...]``.

    Raises:
        DataError: an unreadable/empty/silent file, or a run folder that is not a speech run.
    """
    model, top_db, classes = _model_of(run)
    if not files:
        raise ConfigError("give at least one WAV file")
    x = torch.stack([torch.from_numpy(audio.load_clip(f, sample_rate=model.sample_rate, length=model.length,
                                                     top_db=top_db)) for f in files])  # (N, length)
    with torch.no_grad():
        probs = model.eval()(x).softmax(dim=1)
    k = min(top_k, probs.shape[1])
    out = []
    for f, p in zip(files, probs):
        vals, idx = p.topk(k)
        top = [{"digit": classes[int(i)], "probability": float(v)} for v, i in zip(vals, idx)]
        out.append({"file": str(f), "digit": top[0]["digit"], "probability": top[0]["probability"], "top": top})
    return out


def _model_of(run):
    if isinstance(run, torch.nn.Module):
        return run, TOP_DB, list(DIGITS)
    from cnnlab.train import load_run

    loaded = load_run(run)
    if loaded.extra.get("app") != "speech" or not hasattr(loaded.model, "features"):
        raise DataError(f"`{run}` is not a run of `cnnlab speech train`")
    return loaded.model, float(loaded.extra.get("top_db", TOP_DB)), list(loaded.classes or DIGITS)
