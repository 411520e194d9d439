"""Evaluation of a model on in-memory tensors (used by ``fit`` for validation and by ``cnnlab evaluate``),
and prediction on image files (``cnnlab predict``)."""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn as nn

from cnnlab.errors import ConfigError, DataError
from cnnlab.train import distributed
from cnnlab.train.metrics import confusion_matrix, correct_topk, per_class_accuracy
from cnnlab.train.perf import autocast, memory_format


def normalizer(mean, std, channels: int, device) -> tuple[torch.Tensor, torch.Tensor]:
    """(1, C, 1, 1) mean and 1/std tensors; single-value statistics broadcast to every channel."""
    mean = torch.as_tensor(mean, dtype=torch.float32).flatten()
    std = torch.as_tensor(std, dtype=torch.float32).flatten()
    if mean.numel() not in (1, channels) or std.numel() not in (1, channels):
        raise DataError(f"normalisation statistics have {mean.numel()} values for {channels}-channel images")
    return (mean.expand(channels).reshape(1, channels, 1, 1).to(device),
            (1.0 / std).expand(channels).reshape(1, channels, 1, 1).to(device))


@torch.no_grad()
def evaluate_tensors(model: nn.Module, x: torch.Tensor, y: torch.Tensor, *, mean, std, batch_size: int = 1000,
                     precision: str = "fp32", layout: str = "nchw", topk: int = 5, num_classes: int | None = None,
                     ctx: distributed.Context | None = None, confusion: bool = False) -> dict:
    """Loss, accuracy, top-k accuracy (and optionally the confusion matrix) of ``model`` on ``(x, y)``.

    Under torchrun each rank evaluates its shard and the sums are all-reduced, so every rank gets the
    numbers of the whole set. The model's training mode is restored afterwards.

    Shape:
        x: (N, C, H, W) in [0, 1]; y: (N,) class indices.
    """
    ctx = ctx or distributed.Context(device=next(iter(model.parameters()), torch.empty(0)).device)
    device = ctx.device
    n_total = len(y)
    if ctx.distributed:
        x, y = x[ctx.rank::ctx.world_size], y[ctx.rank::ctx.world_size]
    mean_t, inv_std = normalizer(mean, std, x.shape[1], device)
    fmt = memory_format(layout)
    was_training = model.training
    model.eval()
    loss_sum = torch.zeros((), dtype=torch.float64, device=device)
    correct = torch.zeros((), dtype=torch.int64, device=device)
    correct_k = torch.zeros((), dtype=torch.int64, device=device)
    preds = []
    k = topk
    try:
        for start in range(0, len(y), batch_size):
            xb = x[start:start + batch_size].to(device, non_blocking=True)
            yb = y[start:start + batch_size].to(device, non_blocking=True)
            xb = ((xb - mean_t) * inv_std).contiguous(memory_format=fmt)
            with autocast(precision, device):
                logits = model(xb)
            logits = logits.float()
            if num_classes is None:
                num_classes = logits.shape[1]
            loss_sum += nn.functional.cross_entropy(logits, yb, reduction="sum").double()
            correct += correct_topk(logits, yb, 1)
            correct_k += correct_topk(logits, yb, k)
            if confusion:
                preds.append(logits.argmax(1))
    finally:
        model.train(was_training)
    k = min(k, num_classes or k)
    sums = distributed.all_reduce_sum([float(loss_sum), float(correct), float(correct_k)], ctx)
    out = {"n": n_total, "loss": sums[0] / max(1, n_total), "accuracy": sums[1] / max(1, n_total),
           f"top{k}_accuracy": sums[2] / max(1, n_total)}
    if confusion:
        pred = torch.cat(preds) if preds else torch.zeros(0, dtype=torch.long)
        cm = confusion_matrix(pred.cpu(), y.cpu(), int(num_classes or 0))
        cm = distributed.all_reduce_tensor(cm.to(device), ctx).cpu()
        out["confusion_matrix"] = cm.tolist()
        out["per_class_accuracy"] = per_class_accuracy(cm)
    return out


def evaluate_run(run, data: str | None = None, *, split: str = "test", batch_size: int = 1000,
                 precision: str = "fp32", device: str = "auto") -> dict:
    """Evaluate a loaded run on a split of its dataset (or of ``data``).

    Returns:
        ``{"accuracy", "loss", "per_class_accuracy", "confusion_matrix", "n", "classes", "dataset", "split"}``.
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
    if int(y.max()) >= len(run.classes):
        raise DataError(f"dataset {name!r} has labels up to {int(y.max())}; the run knows {len(run.classes)} classes")
    dev = distributed.resolve_device(device)
    model = run.model.to(dev)
    res = evaluate_tensors(model, x, y, mean=run.mean, std=run.std, batch_size=batch_size, precision=precision,
                           num_classes=len(run.classes), ctx=distributed.Context(device=dev), confusion=True)
    return {"accuracy": res["accuracy"], "loss": res["loss"], "per_class_accuracy": res["per_class_accuracy"],
            "confusion_matrix": res["confusion_matrix"], "n": res["n"], "classes": list(run.classes),
            "dataset": name, "split": split}


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
    logits = model(run.normalize(x).to(dev)).float()
    probs = torch.softmax(logits, dim=1).cpu()
    k = min(top_k, probs.shape[1])
    values, indices = probs.topk(k, dim=1)
    out = []
    for f, vals, idxs in zip(files, values.tolist(), indices.tolist()):
        top = [{"class": i, "label": run.classes[i] if i < len(run.classes) else str(i), "probability": v}
               for v, i in zip(vals, idxs)]
        out.append({"file": str(f), "top": top})
    return out
