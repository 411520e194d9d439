"""Classification metrics computed on tensors: accuracy, top-k accuracy, confusion matrix."""

from __future__ import annotations

import torch


def correct_topk(logits: torch.Tensor, y: torch.Tensor, k: int) -> torch.Tensor:
    """Number of rows whose true class is among the ``k`` highest logits (a 0-d tensor, no sync)."""
    k = min(k, logits.shape[1])
    if k == 1:
        return (logits.argmax(1) == y).sum()
    top = logits.topk(k, dim=1).indices  # (N, k)
    return (top == y.unsqueeze(1)).any(dim=1).sum()


def class_rank(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """How many classes score strictly higher than the true one, per row: top-k correct ⇔ rank < k.

    One pass gives top-1 and top-k (cheaper in the training loop than ``argmax`` plus ``topk``).
    """
    return (logits > logits.gather(1, y.unsqueeze(1))).sum(dim=1)


def confusion_matrix(pred: torch.Tensor, y: torch.Tensor, num_classes: int) -> torch.Tensor:
    """(num_classes, num_classes) counts; row = true class, column = predicted class."""
    flat = y.long() * num_classes + pred.long()
    return torch.bincount(flat, minlength=num_classes * num_classes).reshape(num_classes, num_classes)


def per_class_accuracy(cm: torch.Tensor) -> list[float | None]:
    """Recall of each class from a confusion matrix; ``None`` for a class with no examples."""
    totals = cm.sum(dim=1)
    return [float(cm[i, i]) / float(t) if t > 0 else None for i, t in enumerate(totals.tolist())]
