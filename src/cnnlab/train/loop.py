"""``fit``: the training loop (Keras-like convenience at hand-written-PyTorch speed).

The hot loop does no per-sample Python work: each epoch draws one permutation of the in-memory training
tensors from a dedicated generator and slices index tensors out of it. Everything needed to continue a
run exactly is saved in the checkpoint (model, optimiser, schedule, epoch, step, RNG states including the
data-order generator's state at the start of the epoch), so a run killed mid-epoch and resumed ends with
the weights of an uninterrupted run in deterministic mode.
"""

from __future__ import annotations

import math
import os
import time
from pathlib import Path

import torch
import torch.nn as nn

from cnnlab.errors import CheckpointError, ConfigError, TrainingError
from cnnlab.train import distributed
from cnnlab.train.checkpoint import CHECKPOINT_VERSION, apply_state, load_checkpoint, save_checkpoint, save_weights
from cnnlab.train.config import FitConfig
from cnnlab.train.evaluation import evaluate_tensors, normalizer
from cnnlab.train.history import History
from cnnlab.train.metrics import class_rank
from cnnlab.train.optim import current_lr, make_optimizer, make_scheduler
from cnnlab.train.perf import autocast, memory_format, resolve
from cnnlab.train.progress import Progress
from cnnlab.train import runs


class Callback:
    """Hooks called by :func:`fit` (all no-ops by default); ``state`` is the live :class:`TrainState`.

    A callback ends training after the current epoch by setting ``state.stop_training = True`` (Keras'
    ``model.stop_training``).
    """

    def on_step_end(self, state: "TrainState") -> None:
        """After every optimiser step."""

    def on_epoch_end(self, state: "TrainState", logs: dict) -> None:
        """After validation and checkpointing of an epoch."""


class TrainState:
    """Counters and RNG generators of a run; what a checkpoint stores besides the state dicts."""

    def __init__(self, seed: int):
        self.epoch = 0  # 0-based epoch in progress
        self.step = 0  # optimiser steps done within this epoch
        self.global_step = 0
        self.data_gen = torch.Generator().manual_seed(seed)  # data order
        self.aug_gen = torch.Generator().manual_seed(seed + 1)  # augmentation parameters
        self.epoch_gen_state = self.data_gen.get_state()  # data_gen before this epoch's permutation
        self.sums = {"loss": 0.0, "correct": 0, "correct_k": 0, "seen": 0}
        self.best_value: float | None = None
        self.best_epoch: int | None = None
        self.best_state: dict | None = None
        self.wait = 0
        self.stopped_epoch: int | None = None
        self.stop_training = False  # set by a callback: stop after this epoch

    def to_dict(self) -> dict:
        return {"epoch": self.epoch, "step": self.step, "global_step": self.global_step,
                "epoch_gen_state": self.epoch_gen_state, "aug_gen_state": self.aug_gen.get_state(),
                "torch_rng_state": torch.get_rng_state(),
                "cuda_rng_states": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
                "sums": dict(self.sums), "best_value": self.best_value, "best_epoch": self.best_epoch,
                "best_state": self.best_state, "wait": self.wait, "stopped_epoch": self.stopped_epoch}

    def load_dict(self, d: dict) -> None:
        self.epoch, self.step, self.global_step = int(d["epoch"]), int(d["step"]), int(d["global_step"])
        self.epoch_gen_state = d["epoch_gen_state"]
        self.data_gen.set_state(self.epoch_gen_state)
        self.aug_gen.set_state(d["aug_gen_state"])
        torch.set_rng_state(d["torch_rng_state"])
        if d.get("cuda_rng_states") and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(d["cuda_rng_states"])
        self.sums = dict(d["sums"])
        self.best_value, self.best_epoch = d["best_value"], d["best_epoch"]
        self.best_state, self.wait = d["best_state"], int(d["wait"])
        self.stopped_epoch = d.get("stopped_epoch")


def _describe(model: nn.Module) -> dict | None:
    try:
        from cnnlab import spec
    except ImportError:
        return None
    try:
        return spec.describe(model)
    except Exception:  # a model cnnlab cannot describe trains fine; its run just has no model.json
        return None


def _resume_options(stored: dict, options: dict, path: Path) -> dict:
    """The stored options, with ``epochs`` allowed to grow for constant/step schedules."""
    merged = dict(stored)
    for key, value in options.items():
        if key == "epochs":
            if value < stored["epochs"] or (value != stored["epochs"] and stored["schedule"] in ("cosine", "onecycle")):
                raise ConfigError(f"`epochs` {value} cannot change the {stored['schedule']} schedule of `{path}` "
                                  f"(stored {stored['epochs']}); only runs with schedule none/step can be extended")
            merged["epochs"] = value
        elif key in ("precision", "layout") and value == "auto":
            continue
        elif key in stored and stored[key] != value and key not in ("device", "eval_batch_size"):
            raise ConfigError(f"`{key}`={value!r} differs from the run being resumed (`{path}` has {stored[key]!r}); "
                              "a resume continues the stored run, so leave it out")
        else:
            merged[key] = value
    return merged


def fit(model: nn.Module, data, *, out: str | Path | None = None, resume: str | Path | None = None,
        callbacks=(), progress: bool = True, desc: dict | None = None, **options) -> History:
    """Train ``model`` on ``data`` and return its :class:`History`.

    Args:
        model: any classification ``nn.Module`` taking normalised (N, C, H, W) inputs.
        data: a :class:`cnnlab.data.Dataset` or a dataset name for :func:`cnnlab.data.load`.
        out: run folder to write (model.json, weights, config, history, checkpoints); ``None`` writes nothing.
        resume: a run folder whose ``checkpoint.pt`` to continue (its stored options are used; the run's
            folder is also the output folder).
        callbacks: :class:`Callback` objects.
        progress: show the tqdm bar and the epoch summaries (rank 0 only).
        desc: the model description for ``model.json`` (default: ``cnnlab.spec.describe(model)``).
        **options: :class:`FitConfig` fields: epochs, batch_size, optimizer (sgd|adam|adamw), lr, momentum,
            nesterov, weight_decay, schedule (none|step|cosine|onecycle), augment, precision (fp32|bf16|auto),
            layout (nchw|channels_last|auto), compile, seed, deterministic, device (auto|cpu|cuda),
            patience, monitor, min_delta, restore_best_weights, checkpoint_every, topk, label_smoothing, ...

    Returns:
        History with one record per epoch (``loss``, ``accuracy``, ``topK_accuracy``, ``val_*``, ``lr``,
        ``time``), ``best_epoch``, ``stopped_epoch``.

    Raises:
        ConfigError: bad option, or a resume whose model/options do not match. CheckpointError: corrupt
        checkpoint (nothing is overwritten). TrainingError: the loss became NaN/inf (the last good
        checkpoint is kept).

    Example:
        >>> history = fit(model, "digits", epochs=3, progress=False)  # doctest: +SKIP
        >>> history["val_accuracy"][-1]  # doctest: +SKIP
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"`model` must be a torch.nn.Module; got {type(model).__name__}")
    ckpt = None
    desc = desc if desc is not None else _describe(model)
    if resume is not None:
        resume = Path(resume)
        if out is not None and Path(out).resolve() != resume.resolve():
            raise ConfigError(f"`out` ({out}) and `resume` ({resume}) must be the same run folder")
        out = resume
        ckpt = load_checkpoint(resume / runs.CHECKPOINT_FILE)  # before anything is written
        stored_desc = ckpt.get("desc")
        if stored_desc is not None and desc is not None and stored_desc != desc:
            raise ConfigError(f"the model does not match the run being resumed (`{resume}` has "
                              f"{_short(stored_desc)}; got {_short(desc)})")
        cfg = FitConfig.from_options(_resume_options(ckpt["config"], options, resume))
    else:
        cfg = FitConfig.from_options(options)
        if out is not None and (Path(out) / runs.CHECKPOINT_FILE).exists():
            raise ConfigError(f"run folder `{out}` already holds a run; resume it with --resume {out} or pick another --out")

    if isinstance(data, str):
        from cnnlab import data as data_mod

        data = data_mod.load(data)  # the fixed split (seed 0); cfg.seed drives training randomness only
    ctx = distributed.setup(cfg.device)
    prev_deterministic = torch.are_deterministic_algorithms_enabled()
    try:
        if cfg.deterministic:
            os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
            torch.use_deterministic_algorithms(True)
        return _fit(model, data, cfg, ckpt, desc, Path(out) if out is not None else None, ctx, callbacks, progress)
    finally:
        torch.use_deterministic_algorithms(prev_deterministic)
        distributed.teardown(ctx)


def _short(desc) -> str:
    text = str(desc)
    return text if len(text) < 80 else text[:77] + "..."


def _fit(model, ds, cfg: FitConfig, ckpt, desc, out: Path | None, ctx, callbacks, progress) -> History:
    device = ctx.device
    writes = out is not None and ctx.is_main
    x_train, y_train = ds.x_train.to(device), ds.y_train.to(device)
    n_train, n_val = len(y_train), len(ds.y_val)
    if n_train == 0:
        raise ConfigError(f"dataset {ds.name!r} has no training examples")
    if int(ds.y_train.max()) >= ds.num_classes:
        raise ConfigError(f"labels go up to {int(ds.y_train.max())} but the dataset names {ds.num_classes} classes")
    if ctx.distributed and cfg.batch_size < ctx.world_size:
        raise ConfigError(f"`batch_size` ({cfg.batch_size}) must be ≥ the number of processes ({ctx.world_size})")
    # The global batch is split over ranks; DDP's gradient average then equals the single-process one.
    drop_last = ctx.distributed and n_train % cfg.batch_size != 0 and n_train > cfg.batch_size
    steps_per_epoch = n_train // cfg.batch_size if drop_last else math.ceil(n_train / cfg.batch_size)

    state = TrainState(cfg.seed)
    if ckpt is None:
        torch.manual_seed(cfg.seed)
    model.to(device)

    timings = {}
    if ckpt is not None:
        precision, layout = ckpt["resolved"]["precision"], ckpt["resolved"]["layout"]
    else:
        precision, layout, timings = resolve(cfg.precision, cfg.layout, model, ds.input_shape, ds.num_classes, device,
                                             cfg.batch_size, cfg.deterministic)
        precision, layout, timings = distributed.broadcast((precision, layout, timings), ctx)
    fmt = memory_format(layout)
    model.to(memory_format=fmt)

    optimizer = make_optimizer(model.parameters(), cfg)
    scheduler = make_scheduler(optimizer, cfg, steps_per_epoch)
    history = History()
    if ckpt is not None:
        apply_state(model, ckpt["model"], out / runs.CHECKPOINT_FILE)
        model.to(memory_format=fmt)
        try:
            optimizer.load_state_dict(ckpt["optimizer"])
            if scheduler is not None and ckpt.get("scheduler") is not None:
                scheduler.load_state_dict(ckpt["scheduler"])
        except (ValueError, KeyError, RuntimeError) as exc:
            raise CheckpointError(f"optimiser state in `{out / runs.CHECKPOINT_FILE}` does not fit ({exc})") from None
        state.load_dict(ckpt["state"])
        history = History(ckpt["history"])

    train_model = model
    if ctx.distributed:
        from torch.nn.parallel import DistributedDataParallel as DDP

        train_model = DDP(model, device_ids=[device.index] if device.type == "cuda" else None)
    if cfg.compile:
        train_model = torch.compile(train_model)

    from cnnlab.data import make_augment

    augment = make_augment(cfg.augment)
    mean_t, inv_std = normalizer(ds.mean, ds.std, ds.input_shape[0], device)
    if augment is None:  # normalise once instead of every step (augmentation needs the raw [0, 1] images)
        x_train = (x_train - mean_t) * inv_std
    loss_fn = nn.CrossEntropyLoss(label_smoothing=cfg.label_smoothing)
    k = min(cfg.topk, ds.num_classes)
    resolved = {"precision": precision, "layout": layout, "timings": timings, "device": str(device),
                "world_size": ctx.world_size, "steps_per_epoch": steps_per_epoch}
    config_doc = _config_doc(cfg, ds, resolved, desc)
    if writes:
        if desc is not None:
            from cnnlab.io import write_json

            write_json(out / runs.MODEL_FILE, desc)
        from cnnlab.io import write_json

        write_json(out / runs.CONFIG_FILE, config_doc)

    def checkpoint():
        if not writes:
            return
        save_checkpoint(out / runs.CHECKPOINT_FILE, {
            "version": CHECKPOINT_VERSION, "model": {k_: v.detach().cpu() for k_, v in model.state_dict().items()},
            "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict() if scheduler else None,
            "state": state.to_dict(), "history": history.records, "config": cfg.to_dict(), "resolved": resolved,
            "desc": desc})

    bar = Progress(progress and ctx.is_main, cfg.epochs, steps_per_epoch)
    monitor = cfg.monitor if n_val else cfg.monitor[4:]
    maximize = monitor.endswith("accuracy")
    stop_reason = "early_stopping"
    try:
        while state.epoch < cfg.epochs and state.stopped_epoch is None:
            epoch = state.epoch
            if state.step == 0:
                state.epoch_gen_state = state.data_gen.get_state()
                state.sums = {"loss": 0.0, "correct": 0, "correct_k": 0, "seen": 0}
            else:  # resumed mid-epoch: redraw the same permutation
                state.data_gen.set_state(state.epoch_gen_state)
            perm = torch.randperm(n_train, generator=state.data_gen).to(device)
            start_time = time.perf_counter()
            bar.start_epoch(epoch, state.step)
            train_model.train()
            loss_sum = state.sums["loss"]
            correct = torch.tensor(state.sums["correct"], device=device)
            correct_k = torch.tensor(state.sums["correct_k"], device=device)
            seen = state.sums["seen"]
            for step in range(state.step, steps_per_epoch):
                idx = perm[step * cfg.batch_size:(step + 1) * cfg.batch_size]
                rand = augment.sample(len(idx), state.aug_gen) if augment is not None else None
                if ctx.distributed:
                    idx = idx[ctx.rank::ctx.world_size]
                    rand = rand[ctx.rank::ctx.world_size] if rand is not None else None
                xb, yb = x_train[idx], y_train[idx]
                if augment is not None:
                    xb = (augment.apply(xb, rand) - mean_t) * inv_std
                xb = xb.contiguous(memory_format=fmt)
                with autocast(precision, device):
                    logits = train_model(xb)
                loss = loss_fn(logits.float(), yb)
                loss_value = loss.item()
                if not math.isfinite(loss_value):
                    kept = f"the last good checkpoint `{out / runs.CHECKPOINT_FILE}` is kept" if writes else \
                        "no weights were written"
                    raise TrainingError(f"loss became {loss_value} at epoch {epoch + 1}, step {step + 1} "
                                        f"(global step {state.global_step + 1}); training stopped and {kept}")
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                if scheduler is not None:
                    scheduler.step()
                n = len(yb)
                loss_sum += loss_value * n
                seen += n
                rank = class_rank(logits.detach(), yb)
                correct += (rank == 0).sum()
                correct_k += (rank < k).sum()
                state.step = step + 1
                state.global_step += 1
                bar.step(step + 1, loss_sum / seen, correct, seen)
                for cb in callbacks:
                    cb.on_step_end(state)
                if cfg.checkpoint_every and state.global_step % cfg.checkpoint_every == 0 and state.step < steps_per_epoch:
                    state.sums = {"loss": loss_sum, "correct": int(correct), "correct_k": int(correct_k), "seen": seen}
                    checkpoint()
            # epoch end: whole-set numbers on every rank
            loss_sum, n_correct, n_correct_k, seen = distributed.all_reduce_sum(
                [loss_sum, float(correct), float(correct_k), float(seen)], ctx)
            logs = {"epoch": epoch + 1, "loss": loss_sum / max(1, seen), "accuracy": n_correct / max(1, seen),
                    f"top{k}_accuracy": n_correct_k / max(1, seen)}
            if n_val:
                val = evaluate_tensors(model, ds.x_val, ds.y_val, mean=ds.mean, std=ds.std,
                                       batch_size=cfg.eval_batch_size, precision=precision, layout=layout, topk=k,
                                       num_classes=ds.num_classes, ctx=ctx)
                logs.update({f"val_{key}": v for key, v in val.items() if key != "n"})
            logs["lr"] = current_lr(optimizer)
            logs["time"] = time.perf_counter() - start_time
            history.append(logs)
            value = logs[monitor]
            improved = state.best_value is None or (
                value > state.best_value + cfg.min_delta if maximize else value < state.best_value - cfg.min_delta)
            if improved:
                state.best_value, state.best_epoch, state.wait = value, epoch + 1, 0
                state.best_state = {k_: v.detach().cpu().clone() for k_, v in model.state_dict().items()}
                if writes:
                    save_weights(out / runs.BEST_FILE, state.best_state)
            else:
                state.wait += 1
            state.epoch, state.step = epoch + 1, 0
            if cfg.patience and state.wait >= cfg.patience and state.epoch < cfg.epochs:
                state.stopped_epoch = epoch + 1
            if writes:
                history.save(out)
                checkpoint()
            bar.end_epoch(logs)
            for cb in callbacks:
                cb.on_epoch_end(state, logs)
            if state.stop_training and state.stopped_epoch is None and state.epoch < cfg.epochs:
                state.stopped_epoch = epoch + 1
                stop_reason = "callback"
    finally:
        bar.close()

    history.best_epoch = state.best_epoch
    history.stopped_epoch = state.stopped_epoch
    history.stop_reason = stop_reason if state.stopped_epoch else "completed"
    if cfg.restore_best_weights and state.best_state is not None:
        apply_state(model, state.best_state, "the best epoch")
        model.to(memory_format=fmt)
    if writes:
        save_weights(out / runs.WEIGHTS_FILE, model.state_dict())
        config_doc["results"] = {"epochs_run": len(history), "best_epoch": history.best_epoch,
                                 "stopped_epoch": history.stopped_epoch, "stop_reason": history.stop_reason,
                                 "best_" + monitor: state.best_value, "final": history.last()}
        from cnnlab.io import write_json

        write_json(out / runs.CONFIG_FILE, config_doc)
    model.to(memory_format=torch.contiguous_format)
    model.eval()
    return history


def _config_doc(cfg: FitConfig, ds, resolved: dict, desc) -> dict:
    import cnnlab

    model_name = desc.get("zoo") if isinstance(desc, dict) else None
    return {"cnnlab_version": cnnlab.__version__, "model": model_name,
            "data": {"name": ds.name, "classes": list(ds.classes), "input_shape": list(ds.input_shape),
                     "mean": list(ds.mean), "std": list(ds.std), "n_train": len(ds.y_train),
                     "n_val": len(ds.y_val), "n_test": len(ds.y_test),
                     "split_seed": 0},
            "fit": cfg.to_dict(), "resolved": resolved}
