"""Training SR models through the core: patch pairs -> :class:`cnnlab.data.Dataset` -> ``cnnlab.fit`` (regression).

The model's input is the LR patch (FSRCNN, ESPCN) or its bicubic upscale (SRCNN), the target the HR patch; the
regression task feeds inputs unnormalised, so the trained weights work on [0, 1] images as they are. The loss is MSE
and the task reports PSNR on the validation patches (random crops of the same training images, another seed).
The run folder is the core's (resume, report); ``config.json``'s ``extra`` records ``app: superres`` with the model,
scale, channels, data and patch set-up, so ``cnnlab report RUN`` draws this application's sections.
"""

from __future__ import annotations

from pathlib import Path

from cnnlab.apps.superres.data import CHANNELS, load_images, make_pairs
from cnnlab.errors import ConfigError
from cnnlab.train import Callback

#: fit options of ``cnnlab sr train`` unless given (Adam, cosine decay, channels_last: the measured fast layout)
DEFAULTS = {"epochs": 20, "batch_size": 16, "optimizer": "adam", "lr": 1e-3, "schedule": "cosine",
            "layout": "channels_last"}

__all__ = ["DEFAULTS", "MODELS", "build_model", "sr_dataset", "train", "Set5Curve", "CURVE_FILE"]

#: per-epoch Set5 PSNR written by :class:`Set5Curve` into the run folder
CURVE_FILE = "set5_psnr.csv"

#: model names `cnnlab sr train --model` accepts -> zoo name
MODELS = {"fsrcnn": "fsrcnn", "espcn": "espcn", "espcn_residual": "espcn", "srcnn": "srcnn", "srcnn_915": "srcnn_915",
          "srcnn915": "srcnn_915"}


def build_model(name: str, scale: int, channels: str = "y"):
    """A fresh zoo SR model for ``scale`` and ``channels`` (SRCNN is scale-free: it runs on the bicubic image)."""
    from cnnlab import zoo

    if name not in MODELS:
        raise ConfigError(f"`--model` must be one of {', '.join(MODELS)}; got {name!r}")
    if channels not in CHANNELS:
        raise ConfigError(f"`channels` must be one of {', '.join(CHANNELS)}; got {channels!r}")
    kw = {"in_channels": 1 if channels == "y" else 3}
    if MODELS[name] in ("fsrcnn", "espcn"):
        kw["scale"] = scale
    if name.endswith("_residual"):
        kw["residual"] = True
    return zoo.create(MODELS[name], **kw)


def sr_dataset(data: str, scale: int, *, upsampled: bool, channels: str = "y", patch: int = 24,
               n_train: int = 8000, n_val: int = 500, seed: int = 0):
    """Training and validation pairs of ``data`` (``t91`` or a folder) as a core :class:`cnnlab.data.Dataset`.

    The test split repeats the validation pairs: the real test is ``cnnlab sr eval`` on Set5's full images.
    """
    from cnnlab.data import Dataset

    images = load_images(data)
    tr = make_pairs(images, scale, patch=patch, n=n_train, upsampled=upsampled, channels=channels, seed=seed)
    va = make_pairs(images, scale, patch=patch, n=n_val, upsampled=upsampled, channels=channels, seed=seed + 10_000)
    return Dataset(f"{Path(str(data)).name.lower()}-x{scale}-{channels}", tr.x, tr.y, va.x, va.y, va.x, va.y,
                   classes=[])


def train(model: str = "fsrcnn", scale: int = 3, data: str = "t91", out: str | Path | None = None, *,
          channels: str = "y", patch: int = 24, n_train: int = 8000, n_val: int = 500, set5_curve: bool = False,
          max_minutes: float | None = None, resume: str | Path | None = None, progress: bool = True, callbacks=(), **options):
    """Train an SR model with ``cnnlab.fit`` and the regression task (MSE, PSNR); returns the core's History.

    Args:
        model: fsrcnn | espcn | espcn_residual | srcnn | srcnn_915.
        scale: upscaling factor.
        data: ``t91`` or an image folder.
        out: the run folder (``config.json`` ``extra`` records model, scale, data, channels and the patch set-up).
        channels: ``y`` (papers) or ``rgb``.
        patch, n_train, n_val: LR patch side and pair counts.
        set5_curve: record Set5 PSNR after each epoch in ``RUN/set5_psnr.csv`` (needs ``out`` and Set5 at ``scale``).
        max_minutes: stop after the epoch that would otherwise run past this wall-clock budget (this call only).
        resume: continue this run folder (its recorded settings win; ``epochs`` may grow for constant schedules).
        callbacks: more :class:`cnnlab.train.Callback` objects.
        **options: fit options (epochs, batch_size, optimizer, lr, schedule, seed, layout, ...).

    Raises:
        ConfigError: bad model/channels, or a folder that is not an SR run on resume.
    """
    from cnnlab import fit
    from cnnlab.apps.superres.weights import run_extra
    from cnnlab.train import tasks

    task = None
    if resume is not None:
        run = Path(resume)
        meta = run_extra(run)
    else:
        run = Path(out) if out is not None else None
        meta = {"app": "superres", "model": model, "scale": scale, "data": str(data), "channels": channels,
                "patch": patch, "n_train": n_train, "n_val": n_val, "data_seed": int(options.get("seed", 0)),
                "set5_curve": bool(set5_curve)}
        task = tasks.Regression(loss="mse", psnr=True)
    net = build_model(meta["model"], meta["scale"], meta["channels"])
    ds = sr_dataset(meta["data"], meta["scale"], upsampled=net.upscale == 1, channels=meta["channels"],
                    patch=meta["patch"], n_train=meta["n_train"], n_val=meta["n_val"], seed=meta["data_seed"])
    callbacks = list(callbacks)
    if run is not None and meta["set5_curve"]:
        callbacks.append(Set5Curve(run, meta["scale"]))
    if max_minutes is not None:
        from cnnlab.train.callbacks import TimeBudget

        callbacks.append(TimeBudget(60.0 * max_minutes))
    return fit(net, ds, task=task, out=out, resume=resume, progress=progress, callbacks=callbacks,
               extra=meta if resume is None else None, **options)


class Set5Curve(Callback):
    """After each epoch, the mean Set5 PSNR (Y, shaved) of the model being trained -> ``RUN/set5_psnr.csv``.

    A record for the PSNR curves only: nothing is selected on it (best weights and early stopping, if any, watch
    the validation patches). The file is rewritten atomically; on resume, rows from the resumed epoch on are
    replaced.
    """

    def __init__(self, run: str | Path, scale: int):
        from cnnlab.apps.superres.data import set5

        self.path, self.scale, self.images = Path(run) / CURVE_FILE, scale, set5(scale)

    def on_epoch_end(self, state, logs: dict) -> None:
        from cnnlab.apps.superres.protocol import evaluate
        from cnnlab.io import write_text

        model = state.model
        was_training = model.training
        model.eval()
        try:
            ev = evaluate(model, self.scale, self.images, with_ssim=False)
        finally:
            model.train(was_training)
        epoch = int(state.epoch)  # epochs completed (the core sets it before the callbacks run)
        rows = []
        if self.path.is_file():
            rows = [r for r in self.path.read_text().splitlines()[1:] if r and int(r.split(",")[0]) < epoch]
        rows.append(f"{epoch},{ev.mean('psnr'):.4f},{ev.mean('bicubic_psnr'):.4f}")
        write_text(self.path, "epoch,set5_psnr,bicubic_psnr\n" + "\n".join(rows) + "\n")
