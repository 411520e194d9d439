"""Evaluation of a model on in-memory tensors (used by ``fit`` for validation and by ``cnnlab evaluate``),
and prediction on image files (``cnnlab predict``)."""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn as nn

from cnnlab.errors import ConfigError, DataError
from cnnlab.train import distributed
from cnnlab.train.perf import autocast, memory_format


@torch.no_grad()
def evaluate_split(model: nn.Module, x: torch.Tensor, y: torch.Tensor, task, preprocess: nn.Module, *,
                   batch_size: int = 1000, precision: str = "fp32", layout: str = "nchw", ctx=None, fmt=None,
                   confusion: bool = False) -> dict:
    """``task``'s metrics of ``model`` on raw ``(x, y)``; the model's training mode is restored afterwards."""
    ctx = ctx or distributed.Context(device=next(iter(model.parameters()), torch.empty(0)).device)
    fmt = fmt if fmt is not None else (memory_format(layout) if x.ndim == 4 else torch.contiguous_format)
    preprocess = preprocess.to(ctx.device)

    def forward(xb):
        xb = preprocess(xb.to(ctx.device, non_blocking=True))
        if fmt is not torch.contiguous_format:
            xb = xb.contiguous(memory_format=fmt)
        with autocast(precision, ctx.device):
            return model(xb)

    was_training = model.training
    model.eval()
    try:
        return task.evaluate(model, x, y, forward=forward, batch_size=batch_size, ctx=ctx, confusion=confusion)
    finally:
        model.train(was_training)


def evaluate_tensors(model: nn.Module, x: torch.Tensor, y: torch.Tensor, *, mean=(), std=(), batch_size: int = 1000,
                     precision: str = "fp32", layout: str = "nchw", topk: int = 5, num_classes: int | None = None,
                     ctx: distributed.Context | None = None, confusion: bool = False, task=None) -> dict:
    """The task's metrics (default: classification loss, accuracy, top-k accuracy and optionally the
    confusion matrix) of ``model`` on raw ``(x, y)``, images normalised with ``mean``/``std``.

    Under torchrun each rank evaluates its shard and the sums are all-reduced, so every rank gets the
    numbers of the whole set. The model's training mode is restored afterwards.

    Shape:
        x: (N, C, H, W) in [0, 1] (or any input the model takes); y: (N,) class indices (or the task's targets).
    """
    from cnnlab.preprocess import Identity, for_stats
    from cnnlab.train.tasks import Classification

    task = task or Classification(topk=topk, num_classes=num_classes)
    image = x.ndim == 4 and x.is_floating_point() and task.normalize_inputs
    pre = for_stats(mean, std) if image else Identity()
    return evaluate_split(model, x, y, task, pre, batch_size=batch_size, precision=precision, layout=layout,
                          ctx=ctx, confusion=confusion)


def evaluate_run(run, data: str | None = None, *, split: str = "test", batch_size: int = 1000,
                 precision: str = "fp32", device: str = "auto") -> dict:
    """Evaluate a loaded run on a split of its dataset (or of ``data``).

    Returns:
        The run's task metrics plus ``"n", "classes", "dataset", "split", "task"``; for classification
        ``{"accuracy", "loss", "top5_accuracy", "per_class_accuracy", "confusion_matrix", ...}``.
    """
    from cnnlab import data as data_mod

    name = data or run.dataset
    if not name:
        raise ConfigError(f"run `{run.path}` does not record its dataset; pass --data")
    ds = data_mod.load(name, size=run.input_shape[1:] if len(run.input_shape) == 3 else None,
                       channels=run.input_shape[0] if len(run.input_shape) == 3 else None,
                       seed=int(run.config.get("data", {}).get("split_seed", 0)))
    if tuple(ds.input_shape) != tuple(run.input_shape):
        raise DataError(f"dataset {name!r} has images of shape {ds.input_shape}; the run's model takes {run.input_shape}")
    x, y = ds.split(split)
    if len(y) == 0:
        raise DataError(f"dataset {name!r} has no {split!r} split examples")
    if run.task.name == "classification" and int(y.max()) >= len(run.classes):
        raise DataError(f"dataset {name!r} has labels up to {int(y.max())}; the run knows {len(run.classes)} classes")
    dev = distributed.resolve_device(device)
    model = run.model.to(dev)

    res = evaluate_split(model, x, y, run.task, run.preprocess, batch_size=batch_size, precision=precision,
                         ctx=distributed.Context(device=dev), confusion=run.task.name == "classification")
    out = {k: v for k, v in res.items()}
    out.update({"classes": list(run.classes), "dataset": name, "split": split, "task": run.task.name})
    return out


@torch.no_grad()
def predict_files(run, files: list[str | Path], *, top_k: int = 5, device: str = "auto") -> list[dict]:
    """Top-k classes of each image file, converted to the run's input size and channels.

    Returns:
        ``[{"file", "top": [{"class", "label", "probability"}, ...]}, ...]``.
    """
    from cnnlab.data import load_image

    if not files:
        raise ConfigError("`IMAGE` needs at least one image file")
    if top_k < 1:
        raise ConfigError(f"`top_k` must be ≥ 1; got {top_k}")
    c, h, w = run.input_shape
    x = torch.stack([load_image(f, (h, w), c) for f in files])  # (N, C, H, W)
    dev = distributed.resolve_device(device)
    model = run.model.to(dev).eval()
    logits = model(run.preprocess(x).to(dev)).float()
    probs = torch.softmax(logits, dim=1).cpu()
    k = min(top_k, probs.shape[1])
    values, indices = probs.topk(k, dim=1)
    out = []
    for f, vals, idxs in zip(files, values.tolist(), indices.tolist()):
        top = [{"class": i, "label": run.classes[i] if i < len(run.classes) else str(i), "probability": v}
               for v, i in zip(vals, idxs)]
        out.append({"file": str(f), "top": top})
    return out
