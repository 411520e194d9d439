"""``fit``: the training loop (Keras-like convenience at hand-written-PyTorch speed), for any task.

The hot loop does no per-sample Python work: each epoch draws one permutation of the in-memory training
tensors from a dedicated generator and slices index tensors out of it. A :class:`~cnnlab.train.tasks.Task`
supplies the loss, the metrics and the monitor; early stopping, best weights, checkpoints and the run
folder are built-in callbacks. Everything needed to continue a run exactly is saved in the checkpoint
(model, optimiser, schedule, epoch, step, RNG states including the data-order generator's), so a run
killed mid-epoch or between epochs and resumed ends with the weights of an uninterrupted run in
deterministic mode.
"""

from __future__ import annotations

import math
import os
import time
from pathlib import Path

import torch
import torch.nn as nn

from cnnlab.errors import CheckpointError, ConfigError, TrainingError
from cnnlab.train import distributed, runs
from cnnlab.train import tasks as tasks_mod
from cnnlab.train.callbacks import BestWeights, Callback, Checkpointer, EarlyStopping, RunWriter
from cnnlab.train.checkpoint import apply_state, load_checkpoint
from cnnlab.train.config import FitConfig
from cnnlab.train.evaluation import evaluate_split
from cnnlab.train.history import History
from cnnlab.train.optim import current_lr, make_optimizer, make_scheduler
from cnnlab.train.perf import _import_optimizer_machinery, autocast, memory_format, resolve, tune_cpu_allocator
from cnnlab.train.progress import Progress
from cnnlab.train.rewrite import for_training
from cnnlab.train.state import TrainState

__all__ = ["Callback", "TrainState", "fit"]


def _describe(model: nn.Module) -> dict | None:
    try:
        from cnnlab import spec
    except ImportError:
        return None
    try:
        return spec.describe(model)
    except Exception:  # a model cnnlab cannot describe trains fine; its run just has no model.json
        return None


def _augment_fields(value):
    """An augmenter as ``config.json`` stores it (a dataclass's fields; bools/None as they are)."""
    import dataclasses

    from cnnlab.spec import _plain

    return _plain(dataclasses.asdict(value) if dataclasses.is_dataclass(value) and not isinstance(value, type)
                  else value)


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
        elif key == "augment" and _augment_fields(value) == _augment_fields(stored.get("augment")):
            merged[key] = value  # the same augmenter (stored as its fields): the object itself is used
        elif key in stored and stored[key] != value and key not in ("device", "eval_batch_size"):
            raise ConfigError(f"`{key}`={value!r} differs from the run being resumed (`{path}` has {stored[key]!r}); "
                              "a resume continues the stored run, so leave it out")
        else:
            merged[key] = value
    return merged


def _task_for(task, cfg_options: dict):
    """The Task of a fit call; classification takes ``label_smoothing``/``topk`` from the fit options."""
    if task is None or (isinstance(task, str) and task.lower() == "classification"):
        return tasks_mod.Classification(label_smoothing=cfg_options.get("label_smoothing", 0.0),
                                        topk=cfg_options.get("topk", 5))
    return tasks_mod.get(task)


def fit(model: nn.Module, data, *, task=None, out: str | Path | None = None, resume: str | Path | None = None,
        callbacks=(), progress: bool = True, desc: dict | None = None, extra: dict | None = None,
        **options) -> History:
    """Train ``model`` on ``data`` and return its :class:`History`.

    Args:
        model: any ``nn.Module``.
        data: a :class:`cnnlab.data.Dataset` (inputs of any rank/dtype) or a dataset name for
            :func:`cnnlab.data.load`.
        task: ``"classification"`` (default), ``"regression"``/``"image-to-image"``, ``"embedding"`` or a
            :class:`cnnlab.train.tasks.Task` (loss, metrics, default monitor).
        out: run folder to write (model.json, weights, config, history, checkpoints); ``None`` writes nothing.
        resume: a run folder whose ``checkpoint.pt`` to continue (its stored options and task are used; the
            run's folder is also the output folder).
        callbacks: :class:`Callback` objects.
        progress: show the tqdm bar and the epoch summaries (rank 0 only).
        desc: the model description for ``model.json`` (default: ``cnnlab.spec.describe(model)``).
        extra: JSON-able facts an application records in ``config.json`` (``{"app": "text", "vocab": ...}``;
            ``app`` names the package whose report module draws the run). Kept from the first run on resume.
        **options: :class:`FitConfig` fields: epochs, batch_size, optimizer (sgd|adam|adamw|adadelta), lr,
            momentum, nesterov, weight_decay, schedule (none|step|cosine|onecycle), augment, precision
            (fp32|bf16|auto), layout (nchw|channels_last|auto), compile, seed, deterministic, device
            (auto|cpu|cuda), patience, monitor (any metric the task reports, e.g. val_accuracy, val_psnr),
            min_delta, restore_best_weights, checkpoint_every, topk, label_smoothing, ...

    Returns:
        History with one record per epoch (``loss``, the task's metrics, ``val_*``, ``lr``, ``time``),
        ``best_epoch``, ``stopped_epoch``.

    Raises:
        ConfigError: bad option, or a resume whose model/options/task do not match. CheckpointError: corrupt
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
        stored_task = tasks_mod.from_dict(ckpt.get("task"))
        if task is not None and _task_for(task, cfg.to_dict()).to_dict() != stored_task.to_dict():
            raise ConfigError(f"`task` {_task_for(task, cfg.to_dict()).to_dict()} differs from the run being resumed "
                              f"(`{resume}` has {stored_task.to_dict()}); leave it out")
        task = stored_task
    else:
        cfg = FitConfig.from_options(options)
        task = _task_for(task, cfg.to_dict())
        if out is not None and (Path(out) / runs.CHECKPOINT_FILE).exists():
            raise ConfigError(f"run folder `{out}` already holds a run; resume it with --resume {out} or pick another --out")

    if isinstance(data, str):
        from cnnlab import data as data_mod

        data = data_mod.load(data)  # the fixed split (seed 0); cfg.seed drives training randomness only
    task.check_data(data)
    cfg.monitor = cfg.monitor or task.monitor
    if cfg.monitor not in task.monitors():
        raise ConfigError(f"`monitor` {cfg.monitor!r} is not a metric of the {task.name} task; "
                          f"known: {', '.join(task.monitors())}")
    ctx = distributed.setup(cfg.device)
    prev_deterministic = torch.are_deterministic_algorithms_enabled()
    try:
        if cfg.deterministic:
            os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
            torch.use_deterministic_algorithms(True)
        trainer = Trainer(model, data, cfg, task, ckpt, desc, Path(out) if out is not None else None, ctx,
                          list(callbacks), progress)
        if ckpt is not None and out is not None and extra is None:
            extra = runs.read_config(out).get("extra")
        trainer.extra = dict(extra or {})
        return trainer.run()
    finally:
        torch.use_deterministic_algorithms(prev_deterministic)
        distributed.teardown(ctx)


def _short(desc) -> str:
    text = str(desc)
    return text if len(text) < 80 else text[:77] + "..."


class Trainer:
    """fit's parts: :meth:`setup`, :meth:`train_epoch`, :meth:`validate`, driven by :meth:`run`."""

    def __init__(self, model, ds, cfg: FitConfig, task, ckpt, desc, out: Path | None, ctx, callbacks, progress):
        self.model, self.ds, self.cfg, self.task, self.ckpt, self.desc = model, ds, cfg, task, ckpt, desc
        self.out, self.ctx, self.user_callbacks, self.progress = out, ctx, callbacks, progress
        self.monitor = cfg.monitor if len(ds.y_val) else cfg.monitor.removeprefix("val_")
        self.history = History()

    # ---------------------------------------------------------------------------------------------- set-up
    def setup(self) -> None:
        cfg, ds, ctx, model = self.cfg, self.ds, self.ctx, self.model
        device = self.device = ctx.device
        self.writes = self.out is not None and ctx.is_main
        self.stream = bool(getattr(ds, "stream", False))  # memory-mapped: gather each batch from disk
        self.x_train, self.y_train = (ds.x_train, ds.y_train) if self.stream else (ds.x_train.to(device),
                                                                                  ds.y_train.to(device))
        n_train = self.n_train = len(self.y_train)
        if n_train == 0:
            raise ConfigError(f"dataset {ds.name!r} has no training examples")
        if ctx.distributed and cfg.batch_size < ctx.world_size:
            raise ConfigError(f"`batch_size` ({cfg.batch_size}) must be ≥ the number of processes ({ctx.world_size})")
        # The global batch is split over ranks; DDP's gradient average then equals the single-process one.
        drop_last = ctx.distributed and n_train % cfg.batch_size != 0 and n_train > cfg.batch_size
        self.steps_per_epoch = n_train // cfg.batch_size if drop_last else math.ceil(n_train / cfg.batch_size)

        self.state = TrainState(cfg.seed, model)
        if self.ckpt is None:
            torch.manual_seed(cfg.seed)
        model.to(device)
        allocator = tune_cpu_allocator() if device.type == "cpu" else "unchanged (not a CPU run)"
        _import_optimizer_machinery()  # every torch.optim step imports torch._dynamo; not the probe's time
        timings, probe_start = {}, time.perf_counter()
        if self.ckpt is not None:
            precision, layout = self.ckpt["resolved"]["precision"], self.ckpt["resolved"]["layout"]
        else:
            precision, layout, timings = self._resolve_speed()
        probe_seconds = time.perf_counter() - probe_start  # ~0 when nothing was "auto" or the cache knew it
        self.precision, self.layout = precision, layout
        self.fmt = memory_format(layout) if ds.is_image else torch.contiguous_format
        model.to(memory_format=self.fmt)

        self.optimizer = make_optimizer([p for p in model.parameters() if p.requires_grad], cfg)
        self.scheduler = make_scheduler(self.optimizer, cfg, self.steps_per_epoch)
        if self.ckpt is not None:
            self._restore()
        # the same layers, activation after max-pool where that is exact (see cnnlab.train.rewrite)
        self.train_model, rewrites = for_training(model)
        if ctx.distributed:
            from torch.nn.parallel import DistributedDataParallel as DDP

            self.train_model = DDP(self.train_model, device_ids=[device.index] if device.type == "cuda" else None)
        if cfg.compile:
            self.train_model = torch.compile(self.train_model)

        from cnnlab.data import make_augment

        self.augment = make_augment(cfg.augment)
        if self.augment is not None and getattr(self.augment, "images_only", False) and not ds.is_image:
            raise ConfigError(f"`augment` applies to images (N, C, H, W floats); dataset {ds.name!r} has "
                              f"{ds.input_dtype} inputs of shape {ds.input_shape}")
        self.preprocess = self._preprocess().to(device)
        if self.augment is None and not self.stream:  # normalise once instead of every step
            self.x_train = self.preprocess(self.x_train)
        self.meter = self.task.train_meter(device)
        self.resolved = {"precision": precision, "layout": layout, "timings": timings, "device": str(device),
                         "world_size": ctx.world_size, "steps_per_epoch": self.steps_per_epoch,
                         "rewrites": rewrites, "probe_seconds": round(probe_seconds, 3),
                         "allocator": allocator}
        self.config_doc = _config_doc(cfg, ds, self.resolved, self.desc, self.task, self.preprocess)
        if getattr(self, "extra", None):
            self.config_doc["extra"] = self.extra
        self.bar = Progress(self.progress and ctx.is_main, cfg.epochs, self.steps_per_epoch)
        self.best = BestWeights(self.monitor, self.task.mode(self.monitor), cfg.min_delta, cfg.restore_best_weights,
                                self.out if self.writes else None)
        self.best.memory_format = self.fmt
        self.callbacks = [self.best, EarlyStopping(cfg.patience, cfg.epochs)]
        self.writers = []
        if self.writes:
            self.writers = [RunWriter(self.out, self), Checkpointer(self.out, cfg.checkpoint_every,
                                                                    self.steps_per_epoch, self)]

    def _resolve_speed(self):
        cfg, ds = self.cfg, self.ds
        if ds.is_image and isinstance(self.task, tasks_mod.Classification):  # random images and labels suffice
            found = resolve(cfg.precision, cfg.layout, self.model, ds.input_shape, ds.num_classes, self.device,
                            cfg.batch_size, cfg.deterministic)
        else:  # token ids, target images, identities: time real training batches with the task's loss
            n = min(cfg.batch_size, len(ds.y_train))
            found = resolve(cfg.precision, cfg.layout, self.model, ds.input_shape, max(1, ds.num_classes), self.device,
                            cfg.batch_size, cfg.deterministic, sample=(self.x_train[:n], self.y_train[:n]),
                            loss_fn=self.task.loss)
        return distributed.broadcast(found, self.ctx)

    def _preprocess(self) -> nn.Module:
        from cnnlab import preprocess

        if self.task.normalize_inputs and self.ds.is_image:
            return preprocess.for_stats(self.ds.mean, self.ds.std)
        return preprocess.Identity()

    def _restore(self) -> None:
        ckpt, path = self.ckpt, self.out / runs.CHECKPOINT_FILE
        apply_state(self.model, ckpt["model"], path)
        self.model.to(memory_format=self.fmt)
        try:
            self.optimizer.load_state_dict(ckpt["optimizer"])
            if self.scheduler is not None and ckpt.get("scheduler") is not None:
                self.scheduler.load_state_dict(ckpt["scheduler"])
        except (ValueError, KeyError, RuntimeError) as exc:
            raise CheckpointError(f"optimiser state in `{path}` does not fit ({exc})") from None
        self.state.load_dict(ckpt["state"])
        self.history = History(ckpt["history"])

    # ------------------------------------------------------------------------------------------- one epoch
    def train_epoch(self) -> dict:
        """Run the rest of the current epoch; return its training numbers (summed over ranks)."""
        cfg, state, ctx, task, meter = self.cfg, self.state, self.ctx, self.task, self.meter
        epoch = state.epoch
        if state.step == 0:
            state.epoch_gen_state = state.data_gen.get_state()
            meter.reset()
        else:  # resumed mid-epoch: redraw the same permutation, continue the sums
            state.data_gen.set_state(state.epoch_gen_state)
            meter.load(state.sums)
        perm = torch.randperm(self.n_train, generator=state.data_gen).to(self.device)
        self.bar.start_epoch(epoch, state.step)
        self.train_model.train()
        checked = state.step > 0
        for step in range(state.step, self.steps_per_epoch):
            idx = perm[step * cfg.batch_size:(step + 1) * cfg.batch_size]
            rand = self.augment.sample(len(idx), state.aug_gen) if self.augment is not None else None
            if ctx.distributed:
                idx = idx[ctx.rank::ctx.world_size]
                rand = rand[ctx.rank::ctx.world_size] if rand is not None else None
            if self.stream:  # sorted gather reads the memory map in file order; the batch order is kept
                order, pos = idx.cpu().sort()
                xb = self.x_train[order][pos.argsort()].to(self.device)
                yb = self.y_train[order][pos.argsort()].to(self.device)
                if self.augment is None:
                    xb = self.preprocess(xb)
            else:
                xb, yb = self.x_train[idx], self.y_train[idx]
            if self.augment is not None:
                xb = self.preprocess(self.augment.apply(xb, rand))
            if self.fmt is not torch.contiguous_format:
                xb = xb.contiguous(memory_format=self.fmt)
            with autocast(self.precision, self.device):
                output = self.train_model(xb)
            output = output.float()
            if not checked:
                task.check_output(output, yb)
                checked = True
            loss = task.loss(output, yb)
            loss_value = loss.item()
            if not math.isfinite(loss_value):
                kept = f"the last good checkpoint `{self.out / runs.CHECKPOINT_FILE}` is kept" if self.writes else \
                    "no weights were written"
                raise TrainingError(f"loss became {loss_value} at epoch {epoch + 1}, step {step + 1} "
                                    f"(global step {state.global_step + 1}); training stopped and {kept}")
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
            if self.scheduler is not None:
                self.scheduler.step()
            task.update(meter, output.detach(), yb, loss_value)
            state.step = step + 1
            state.global_step += 1
            self.bar.step(step + 1, lambda: task.postfix(meter))
            for cb in self.user_callbacks + self.writers:
                cb.on_step_end(state)
        return {"epoch": epoch + 1, **task.train_logs(meter, ctx)}

    def validate(self) -> dict:
        """The task's metrics on the validation split (``val_`` prefixed; empty without one)."""
        if not len(self.ds.y_val):
            return {}
        val = evaluate_split(self.model, self.ds.x_val, self.ds.y_val, self.task, self.preprocess,
                             batch_size=self.cfg.eval_batch_size, precision=self.precision, layout=self.layout,
                             ctx=self.ctx, fmt=self.fmt)
        return {f"val_{key}": v for key, v in val.items() if key != "n"}

    # ------------------------------------------------------------------------------------------------- run
    def run(self) -> History:
        self.setup()
        state, cfg = self.state, self.cfg
        for cb in self.callbacks + self.user_callbacks + self.writers:
            cb.on_train_begin(state)
        try:
            while state.epoch < cfg.epochs and state.stopped_epoch is None:
                start_time = time.perf_counter()
                for cb in self.user_callbacks:
                    cb.on_epoch_begin(state)
                logs = self.train_epoch()
                logs.update(self.validate())
                logs["lr"] = current_lr(self.optimizer)
                logs["time"] = time.perf_counter() - start_time
                self.history.append(logs)
                state.epoch, state.step = logs["epoch"], 0
                for cb in self.callbacks:
                    cb.on_epoch_end(state, logs)
                self.bar.end_epoch(logs)
                for cb in self.user_callbacks:
                    cb.on_epoch_end(state, logs)
                if state.stop_training and state.stopped_epoch is None and state.epoch < cfg.epochs:
                    state.stopped_epoch, state.stop_reason = state.epoch, "callback"
                for cb in self.writers:
                    cb.on_epoch_end(state, logs)
        finally:
            self.bar.close()
        history = self.history
        history.best_epoch, history.stopped_epoch = state.best_epoch, state.stopped_epoch
        history.stop_reason = state.stop_reason if state.stopped_epoch else "completed"
        for cb in self.callbacks + self.writers + self.user_callbacks:
            cb.on_train_end(state, history)
        self.model.to(memory_format=torch.contiguous_format)
        self.model.eval()
        return history


def _config_doc(cfg: FitConfig, ds, resolved: dict, desc, task, preprocess) -> dict:
    import cnnlab

    model_name = desc.get("zoo") if isinstance(desc, dict) else None
    return {"cnnlab_version": cnnlab.__version__, "model": model_name,
            "data": {"name": ds.name, "classes": list(ds.classes), "input_shape": list(ds.input_shape),
                     "input_dtype": ds.input_dtype, "mean": list(ds.mean), "std": list(ds.std),
                     "n_train": len(ds.y_train), "n_val": len(ds.y_val), "n_test": len(ds.y_test),
                     "split_seed": 0},
            "task": task.to_dict(), "preprocess": preprocess.to_config(),
            "fit": cfg.to_dict(), "resolved": resolved}
