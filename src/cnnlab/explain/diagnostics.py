"""Diagnostics of a classifier on a labelled set: predictions, confusion matrix, per-class accuracy,
most-confident mistakes. Plain tensors in, plain records out."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from cnnlab.errors import ShapeError
from cnnlab.explain._core import explaining


def predict_proba(model: nn.Module, x: torch.Tensor, batch_size: int = 512) -> torch.Tensor:
    """Softmax probabilities (N, K) in eval mode, batched, no gradients."""
    outs = []
    with explaining(model), torch.no_grad():
        for i in range(0, x.shape[0], batch_size):
            outs.append(model(x[i : i + batch_size]).reshape(min(batch_size, x.shape[0] - i), -1).softmax(1))
    return torch.cat(outs) if outs else torch.empty(0, 0)


def confusion_matrix(y_true: torch.Tensor, y_pred: torch.Tensor, n_classes: int) -> torch.Tensor:
    """Counts (K, K): row = true class, column = predicted class."""
    y_true, y_pred = torch.as_tensor(y_true).long().reshape(-1), torch.as_tensor(y_pred).long().reshape(-1)
    if y_true.shape != y_pred.shape:
        raise ShapeError(f"`y_true` and `y_pred` must have the same length; got {y_true.numel()} and {y_pred.numel()}")
    return torch.bincount(y_true * n_classes + y_pred, minlength=n_classes * n_classes).reshape(n_classes, n_classes)


def per_class_accuracy(cm: torch.Tensor) -> torch.Tensor:
    """Recall of each class from a confusion matrix (NaN for a class with no samples)."""
    totals = cm.sum(1).double()
    return torch.where(totals > 0, cm.diag().double() / totals.clamp(min=1), torch.full_like(totals, float("nan")))


@dataclass
class Mistake:
    index: int
    true: int
    predicted: int
    confidence: float


def confident_mistakes(probs: torch.Tensor, y_true: torch.Tensor, k: int = 12) -> list[Mistake]:
    """The ``k`` misclassified samples with the highest predicted-class probability."""
    conf, pred = probs.max(1)
    y_true = torch.as_tensor(y_true).long().reshape(-1)
    wrong = (pred != y_true).nonzero().flatten()
    order = wrong[conf[wrong].argsort(descending=True)][:k]
    return [Mistake(int(i), int(y_true[i]), int(pred[i]), float(conf[i])) for i in order]
