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


def prepare(model_ref, data_name, *, seed: int, resume: Path | None):
    """``(model, desc, dataset)`` for a training job, checked to fit each other."""
    from cnnlab import bundle
    from cnnlab import data as data_mod

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
        raise ConfigError("`--data` is required: mnist, fashion-mnist, digits, idx:DIR or folder:DIR")
    torch.manual_seed(seed)  # the model's initial weights follow --seed
    b = bundle.resolve(model_ref, pretrained=False)
    model, desc, input_shape = b.model, b.desc, b.input_shape
    if Path(str(model_ref)).is_dir() and resume is None:
        model.train()  # fine-tuning from a run folder starts from its weights
    channels, height, width = (tuple(input_shape) + (None, None, None))[:3] if len(input_shape) == 3 else (None,) * 3
    ds = data_mod.load(data_name, seed=0, size=(height, width) if height else None, channels=channels)
    if len(input_shape) == 3 and tuple(ds.input_shape) != tuple(input_shape):
        c, h, w = ds.input_shape
        raise DataError(f"dataset {data_name!r} has {c}×{h}×{w} images but the model takes "
                        f"{'×'.join(map(str, input_shape))}")
    if resume is None:
        torch.manual_seed(seed)
        model, desc = _adapt_classes(model, desc, ds.num_classes)
    outputs = _outputs(model)
    if outputs is not None and outputs != ds.num_classes:
        raise DataError(f"the model outputs {outputs} classes but dataset {data_name!r} has {ds.num_classes}")
    return model, desc, ds


def train_job(model_ref, data_name, options: dict, *, out=None, resume=None, progress: bool = True) -> dict:
    """Train as ``cnnlab train`` does; returns a summary dict (``rank`` tells whether this process prints)."""
    from cnnlab.train import fit
    from cnnlab.train.evaluation import evaluate_tensors

    from cnnlab.train.config import FitConfig

    resume = Path(resume) if resume is not None else None
    if resume is None:
        FitConfig.from_options(options)  # bad options fail before any data is loaded
    seed = int(options.get("seed", 0))
    if resume is not None:
        seed = int(runs.read_config(resume).get("fit", {}).get("seed", seed))
    model, desc, ds = prepare(model_ref, data_name, seed=seed, resume=resume)
    if out is None and resume is None:
        name = desc.get("zoo") if isinstance(desc, dict) and "zoo" in desc else Path(str(model_ref)).stem
        out = runs.default_run_dir(name, ds.name)
    start = time.perf_counter()
    history = fit(model, ds, out=out, resume=resume, desc=desc, progress=progress, **options)
    wall = time.perf_counter() - start
    rank = int(os.environ.get("RANK", "0"))
    result = {"rank": rank, "run": str(resume or out), "epochs": len(history), "best_epoch": history.best_epoch,
              "stop_reason": history.stop_reason, "wall_s": wall, "last": history.last()}
    if rank == 0 and len(ds.y_test):
        test = evaluate_tensors(model, ds.x_test, ds.y_test, mean=ds.mean, std=ds.std, num_classes=ds.num_classes)
        result["test_accuracy"], result["test_loss"] = test["accuracy"], test["loss"]
    return result


def format_result(result: dict) -> str:
    lines = [f"run saved to {result['run']} ({result['epochs']} epochs, {result['wall_s']:.1f}s, "
             f"best epoch {result['best_epoch']}, {result['stop_reason'].replace('_', ' ')})"]
    last = result.get("last", {})
    if "val_accuracy" in last:
        lines.append(f"last epoch: val accuracy {100 * last['val_accuracy']:.2f}%, val loss {last['val_loss']:.4f}")
    if "test_accuracy" in result:
        lines.append(f"test accuracy {100 * result['test_accuracy']:.2f}% (loss {result['test_loss']:.4f}) "
                     "with the restored weights")
    return "\n".join(lines)
