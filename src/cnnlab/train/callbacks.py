"""Callbacks: hooks into :func:`cnnlab.train.fit`, and the built-in ones that make ``fit`` what it is.

Early stopping, keeping the best weights, checkpointing and writing the run folder are callbacks like a
user's (Keras' ``EarlyStopping``/``ModelCheckpoint``), added by ``fit`` from its options. Order within an
epoch end: :class:`BestWeights`, :class:`EarlyStopping`, the progress line, the user's callbacks (which may
set ``state.stop_training``), then :class:`RunWriter` and :class:`Checkpointer`, so the checkpoint written at
an epoch's end already knows whether training stops there.
"""

from __future__ import annotations

import time
from pathlib import Path

import torch

from cnnlab.errors import ConfigError
from cnnlab.train import runs
from cnnlab.train.checkpoint import CHECKPOINT_VERSION, apply_state, save_checkpoint, save_weights


class Callback:
    """Hooks called by :func:`fit` (all no-ops by default); ``state`` is the live :class:`TrainState`
    (``state.model`` is the model being trained).

    A callback ends training after the current epoch by setting ``state.stop_training = True`` (Keras'
    ``model.stop_training``).
    """

    def on_train_begin(self, state) -> None:
        """Before the first epoch (also when resuming): e.g. refresh self-play data, log the set-up."""

    def on_epoch_begin(self, state) -> None:
        """Before each epoch's first step (``state.epoch`` is 0-based; ``state.step`` > 0 when resumed mid-epoch)."""

    def on_step_end(self, state) -> None:
        """After every optimiser step (e.g. a max-norm weight constraint)."""

    def on_epoch_end(self, state, logs: dict) -> None:
        """After validation of an epoch; ``logs`` holds its numbers."""

    def on_train_end(self, state, history) -> None:
        """After the last epoch, once the best weights are restored."""


class BestWeights(Callback):
    """Track the best value of ``monitor``; keep those weights (``best.safetensors``) and restore them at the end."""

    def __init__(self, monitor: str, mode: str, min_delta: float, restore: bool, out: Path | None):
        self.monitor, self.mode, self.min_delta, self.restore, self.out = monitor, mode, min_delta, restore, out
        self.memory_format = torch.contiguous_format

    def improved(self, state, value: float) -> bool:
        if state.best_value is None:
            return True
        if self.mode == "max":
            return value > state.best_value + self.min_delta
        return value < state.best_value - self.min_delta

    def on_epoch_end(self, state, logs):
        value = logs[self.monitor]
        if self.improved(state, value):
            state.best_value, state.best_epoch, state.wait = value, logs["epoch"], 0
            state.best_state = {k: v.detach().cpu().clone() for k, v in state.model.state_dict().items()}
            if self.out is not None:
                save_weights(self.out / runs.BEST_FILE, state.best_state)
        else:
            state.wait += 1

    def on_train_end(self, state, history):
        if self.restore and state.best_state is not None:
            apply_state(state.model, state.best_state, "the best epoch")
            state.model.to(memory_format=self.memory_format)


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved for ``patience`` epochs (counted by :class:`BestWeights`)."""

    def __init__(self, patience: int, epochs: int):
        self.patience, self.epochs = patience, epochs

    def on_epoch_end(self, state, logs):
        if self.patience and state.wait >= self.patience and state.epoch < self.epochs:
            state.stopped_epoch = state.epoch
            state.stop_reason = "early_stopping"


class Checkpointer(Callback):
    """Write the full training state to ``checkpoint.pt`` at every epoch end and every ``every`` steps."""

    def __init__(self, out: Path, every: int, steps_per_epoch: int, trainer):
        self.out, self.every, self.steps_per_epoch, self.trainer = out, every, steps_per_epoch, trainer

    def save(self, state) -> None:
        t = self.trainer
        save_checkpoint(self.out / runs.CHECKPOINT_FILE, {
            "version": CHECKPOINT_VERSION,
            "model": {k: v.detach().cpu() for k, v in state.model.state_dict().items()},
            "optimizer": t.optimizer.state_dict(), "scheduler": t.scheduler.state_dict() if t.scheduler else None,
            "state": state.to_dict(), "history": t.history.records, "config": t.cfg.to_dict(),
            "resolved": t.resolved, "desc": t.desc, "task": t.task.to_dict()})

    def on_step_end(self, state):
        if self.every and state.global_step % self.every == 0 and state.step < self.steps_per_epoch:
            state.sums = self.trainer.meter.state()
            self.save(state)

    def on_epoch_end(self, state, logs):
        self.save(state)


class RunWriter(Callback):
    """Write the run folder: ``model.json`` and ``config.json`` at the start, the history every epoch, the final
    weights and the results at the end."""

    def __init__(self, out: Path, trainer):
        self.out, self.trainer = out, trainer

    def on_train_begin(self, state):
        from cnnlab.io import write_json

        if self.trainer.desc is not None:
            write_json(self.out / runs.MODEL_FILE, self.trainer.desc)
        write_json(self.out / runs.CONFIG_FILE, self.trainer.config_doc)

    def on_epoch_end(self, state, logs):
        self.trainer.history.save(self.out)

    def on_train_end(self, state, history):
        from cnnlab.io import write_json

        save_weights(self.out / runs.WEIGHTS_FILE, state.model.state_dict())
        doc = self.trainer.config_doc
        doc["results"] = {"epochs_run": len(history), "best_epoch": history.best_epoch,
                          "stopped_epoch": history.stopped_epoch, "stop_reason": history.stop_reason,
                          "best_" + self.trainer.monitor: state.best_value, "final": history.last()}
        write_json(self.out / runs.CONFIG_FILE, doc)


class TimeBudget(Callback):
    """Stop training at the end of the epoch after which one more epoch would exceed ``seconds`` of wall time.

    The estimate of the next epoch is the longest epoch so far (everything between two epoch ends: validation,
    other callbacks, checkpoints). Used by ``cnnlab sr train --max-minutes`` and ``cnnlab go train --max-minutes``.
    """

    def __init__(self, seconds: float):
        if not seconds > 0:
            raise ConfigError(f"the time budget must be > 0 seconds; got {seconds}")
        self.seconds = float(seconds)

    def on_train_begin(self, state) -> None:
        self.start = self.last = time.perf_counter()
        self.longest = 0.0

    def on_epoch_end(self, state, logs: dict) -> None:
        now = time.perf_counter()
        self.longest = max(self.longest, now - self.last)
        self.last = now
        if now - self.start + self.longest > self.seconds:
            state.stop_training = True
