"""What ``cnnlab train`` does between parsing and printing: resolve MODEL and the dataset, check they fit
each other, pick the run folder, seed, call :func:`fit`, evaluate on the test split."""

from __future__ import annotations

import os
import time
from pathlib import Path

import torch

from cnnlab.errors import ConfigError, DataError
from cnnlab.train import runs


def _adapt_classes(model, desc, num_classes: int):
    """Rebuild a zoo model with ``num_classes`` outputs when it has another count and its factory takes
    ``num_classes`` (every classifier in the zoo does)."""
    if not isinstance(desc, dict) or "zoo" not in desc or _outputs(model) in (None, num_classes):
        return model, desc
    from cnnlab import spec

    new_desc = {"zoo": desc["zoo"], "kwargs": dict(desc.get("kwargs") or {}, num_classes=num_classes)}
    try:
        return spec.build(new_desc), new_desc
    except ConfigError:  # the factory has no num_classes: the caller reports the mismatch
        return model, desc


def _outputs(model) -> int | None:
    """Output width of the model's last Linear layer (cheap; no forward pass), if it has one."""
    last = None
    for module in model.modules():
        if isinstance(module, torch.nn.Linear):
            last = module
    return last.out_features if last is not None else None


def load_data_for(input_shape, data_name: str, *, check: bool = True):
    """Dataset ``data_name`` loaded at the size and channels of a model's ``input_shape`` (C, H, W) (anything
    else: as stored); with ``check``, an image dataset that still does not fit is a one-line ``DataError``."""
    from cnnlab import data as data_mod

    input_shape = tuple(input_shape or ())
    channels, height, width = input_shape if len(input_shape) == 3 else (None,) * 3
    ds = data_mod.load(data_name, seed=0, size=(height, width) if height else None, channels=channels)
    if check and len(input_shape) == 3 and tuple(ds.input_shape) != input_shape:
        raise DataError(f"dataset {data_name!r} has {'×'.join(map(str, ds.input_shape))} images but the model "
                        f"takes {'×'.join(map(str, input_shape))}")
    return ds


def prepare(model_ref, data_name, *, seed: int, resume: Path | None, task: str = "classification"):
    """``(model, desc, dataset)`` for a training job, checked to fit each other (class counts and image sizes
    for classification; other tasks' outputs are checked against their targets by ``fit``)."""
    from cnnlab import bundle

    stored = None
    if resume is not None:
        stored = runs.read_config(resume)
        if data_name is not None and data_name != stored["data"]["name"]:
            raise ConfigError(f"`--data` {data_name!r} differs from the run being resumed "
                              f"({stored['data']['name']!r}); leave it out")
        data_name = stored["data"]["name"]
        if model_ref is None:
            desc = runs.read_desc(resume)
            if desc is None:
                raise ConfigError(f"run `{resume}` has no {runs.MODEL_FILE}; pass MODEL")
            model_ref = str(Path(resume) / runs.MODEL_FILE)
    if model_ref is None:
        raise ConfigError("`MODEL` is required (a zoo name, a JSON description or a run folder); "
                          "see `cnnlab zoo` for names")
    if data_name is None:
        raise ConfigError("`--data` is required: mnist, fashion-mnist, digits, idx:DIR, folder:DIR or tensors:FILE")
    torch.manual_seed(seed)  # the model's initial weights follow --seed
    b = bundle.resolve(model_ref, pretrained=False)
    model, desc, input_shape = b.model, b.desc, b.input_shape or ()
    if Path(str(model_ref)).is_dir() and resume is None:
        model.train()  # fine-tuning from a run folder starts from its weights
    ds = load_data_for(input_shape, data_name, check=task == "classification")
    if task != "classification":
        return model, desc, ds
    if resume is None:
        torch.manual_seed(seed)
        model, desc = _adapt_classes(model, desc, ds.num_classes)
    outputs = _outputs(model)
    if outputs is not None and outputs != ds.num_classes:
        raise DataError(f"the model outputs {outputs} classes but dataset {data_name!r} has {ds.num_classes}")
    return model, desc, ds


def train_job(model_ref, data_name, options: dict, *, task: str | None = None, out=None, resume=None,
              progress: bool = True) -> dict:
    """Train as ``cnnlab train`` does; returns a summary dict (``rank`` tells whether this process prints).

    ``task``: ``classification`` (default), ``regression``/``image-to-image`` or ``embedding``; a resumed run
    keeps its own.
    """
    from cnnlab.train import evaluate, fit, tasks
    from cnnlab.train.config import FitConfig

    resume = Path(resume) if resume is not None else None
    if resume is None:
        FitConfig.from_options(options)  # bad options fail before any data is loaded
        task_obj = tasks.get(task or "classification")
    seed = int(options.get("seed", 0))
    if resume is not None:
        stored = runs.read_config(resume)
        seed = int(stored.get("fit", {}).get("seed", seed))
        task_obj = tasks.from_dict(stored.get("task"))
        if task is not None and tasks.get(task).name != task_obj.name:
            raise ConfigError(f"`--task` {task!r} differs from the run being resumed ({task_obj.name!r}); leave it out")
    model, desc, ds = prepare(model_ref, data_name, seed=seed, resume=resume, task=task_obj.name)
    if out is None and resume is None:
        name = desc.get("zoo") if isinstance(desc, dict) and "zoo" in desc else Path(str(model_ref)).stem
        out = runs.default_run_dir(name, ds.name)
    start = time.perf_counter()
    fit_task = None if resume is not None else (task_obj if task_obj.name != "classification" else None)
    history = fit(model, ds, task=fit_task, out=out, resume=resume, desc=desc, progress=progress, **options)
    wall = time.perf_counter() - start
    rank = int(os.environ.get("RANK", "0"))
    result = {"rank": rank, "run": str(resume or out), "epochs": len(history), "best_epoch": history.best_epoch,
              "stop_reason": history.stop_reason, "wall_s": wall, "last": history.last()}
    if rank == 0 and len(ds.y_test):
        from cnnlab.train import load_run

        test = evaluate(model, ds, task=load_run(resume or out, model=model).task, confusion=False)
        result["task"] = task_obj.name
        result["test"] = {k: v for k, v in test.items() if k != "n"}
        if "accuracy" in test:
            result["test_accuracy"], result["test_loss"] = test["accuracy"], test["loss"]
    return result


def format_result(result: dict) -> str:
    lines = [f"run saved to {result['run']} ({result['epochs']} epochs, {result['wall_s']:.1f}s, "
             f"best epoch {result['best_epoch']}, {result['stop_reason'].replace('_', ' ')})"]
    last = result.get("last", {})
    if "val_accuracy" in last:
        lines.append(f"last epoch: val accuracy {100 * last['val_accuracy']:.2f}%, val loss {last['val_loss']:.4f}")
    elif "val_loss" in last:
        shown = ", ".join(f"{k[4:].replace('_', ' ')} {v:.4f}" for k, v in last.items() if k.startswith("val_"))
        lines.append(f"last epoch: val {shown}")
    if "test_accuracy" in result:
        lines.append(f"test accuracy {100 * result['test_accuracy']:.2f}% (loss {result['test_loss']:.4f}) "
                     "with the restored weights")
    elif "test" in result:
        shown = ", ".join(f"{k.replace('_', ' ')} {v:.4f}" for k, v in result["test"].items() if isinstance(v, float))
        lines.append(f"test {shown} with the restored weights")
    return "\n".join(lines)
