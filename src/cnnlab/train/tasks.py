"""Tasks: what a model is trained to do, and how its outputs are scored.

A task owns the loss, the metrics (on training batches and on a whole split), the default ``monitor``
(and whether higher is better) and how an output becomes a prediction. ``fit``, ``evaluate``, the run
folder and the report only talk to this interface, so text, speech, Go, super-resolution and faces reuse
one training loop.

- :class:`Classification` — cross-entropy; accuracy, top-k accuracy, confusion matrix (the behaviour
  ``fit`` always had, bit for bit).
- :class:`Regression` — image-to-image or any tensor target; MSE or L1 loss; PSNR and SSIM for images (on
  MATLAB's Y channel with a border shave as an option, as the super-resolution papers measure them).
- :class:`Embedding` — metric learning on identities; triplet loss (batch-hard mining, Hermans et al.
  2017) or contrastive loss (Hadsell et al. 2006) on L2-normalised embeddings; verification accuracy at
  the best threshold and ROC AUC over every pair of the split.

Example:
    >>> get("regression").monitor
    'val_psnr'
"""

from __future__ import annotations

import math
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

from cnnlab.errors import ConfigError, DataError, ShapeError, UnknownNameError
from cnnlab.train import distributed
from cnnlab.train.metrics import class_rank, confusion_matrix, correct_topk, per_class_accuracy

__all__ = ["Task", "Classification", "Regression", "Embedding", "get", "from_dict", "names"]


class Meter:
    """Sums over batches (and ranks) of a task's training numbers; checkpointable as a plain dict."""

    def __init__(self, keys, device):
        self.device = device
        self.keys = tuple(keys)
        self.reset()

    def reset(self) -> None:
        self.loss_sum, self.seen = 0.0, 0
        self.sums = {k: torch.zeros((), dtype=torch.float64, device=self.device) for k in self.keys}

    def state(self) -> dict:
        return {"loss": self.loss_sum, "seen": self.seen, **{k: float(v) for k, v in self.sums.items()}}

    def load(self, d: dict) -> None:
        self.loss_sum, self.seen = float(d.get("loss", 0.0)), int(d.get("seen", 0))
        self.sums = {k: torch.tensor(float(d.get(k, 0.0)), dtype=torch.float64, device=self.device) for k in self.keys}


class Task:
    """Base class: subclasses set ``name`` and ``metrics``, and implement :meth:`loss` and :meth:`evaluate`."""

    name: str = "task"
    metrics: tuple[str, ...] = ()
    higher_better: frozenset = frozenset()
    normalize_inputs: bool = True  # apply the dataset's mean/std to float images

    @property
    def monitor(self) -> str:
        """The default metric early stopping / best weights watch."""
        return "val_loss"

    def options(self) -> dict:
        return {}

    def to_dict(self) -> dict:
        return {"name": self.name, **self.options()}

    def monitors(self) -> list[str]:
        """Every name ``monitor`` may take."""
        names = ["loss", *self.metrics]
        return names + [f"val_{n}" for n in names]

    def mode(self, monitor: str) -> str:
        """``"max"`` when higher is better for ``monitor``, else ``"min"``."""
        base = monitor[4:] if monitor.startswith("val_") else monitor
        return "max" if base in self.higher_better else "min"

    def check_data(self, ds) -> None:
        """Raise a one-line DataError when ``ds`` cannot be used for this task."""

    def check_output(self, output: torch.Tensor, y: torch.Tensor) -> None:
        """Raise a one-line ShapeError when a model output does not fit the targets."""

    def loss(self, output: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def train_meter(self, device) -> Meter:
        return Meter((), device)

    def update(self, meter: Meter, output: torch.Tensor, y: torch.Tensor, loss_value: float) -> None:
        """Add one training batch (``output`` detached) to ``meter``; no host sync beyond ``loss_value``."""
        n = len(y)
        meter.loss_sum += loss_value * n
        meter.seen += n

    def train_logs(self, meter: Meter, ctx) -> dict:
        """Whole-epoch training numbers (summed over ranks)."""
        keys = list(meter.sums)
        sums = distributed.all_reduce_sum([meter.loss_sum, float(meter.seen), *[float(meter.sums[k]) for k in keys]],
                                          ctx)
        seen = max(1.0, sums[1])
        return {"loss": sums[0] / seen, **{k: v / seen for k, v in zip(keys, sums[2:])}}

    def postfix(self, meter: Meter) -> str:
        return f"loss {meter.loss_sum / max(1, meter.seen):.4f}"

    def predict(self, output: torch.Tensor) -> torch.Tensor:
        return output

    @torch.no_grad()
    def evaluate(self, model: nn.Module, x: torch.Tensor, y: torch.Tensor, *, forward: Callable,
                 batch_size: int = 1000, ctx=None, confusion: bool = False) -> dict:
        """The task's metrics of ``model`` on ``(x, y)``; ``forward(xb)`` maps a raw batch to the output."""
        raise NotImplementedError


# ---------------------------------------------------------------------------------------------------------
class Classification(Task):
    """Cross-entropy on class indices; accuracy and top-k accuracy (and a confusion matrix on request)."""

    name = "classification"
    higher_better = frozenset({"accuracy"})

    def __init__(self, label_smoothing: float = 0.0, topk: int = 5, num_classes: int | None = None):
        self.label_smoothing = float(label_smoothing)
        self.topk = int(topk)
        self.num_classes = num_classes
        self._loss = nn.CrossEntropyLoss(label_smoothing=self.label_smoothing)

    @property
    def k(self) -> int:
        return min(self.topk, self.num_classes) if self.num_classes else self.topk

    @property
    def metrics(self) -> tuple[str, ...]:  # type: ignore[override]
        return ("accuracy", f"top{self.k}_accuracy")

    def mode(self, monitor: str) -> str:
        return "max" if monitor.endswith("accuracy") else "min"

    def options(self) -> dict:
        return {"label_smoothing": self.label_smoothing, "topk": self.topk}

    def check_data(self, ds) -> None:
        self.num_classes = ds.num_classes
        y = ds.y_train
        if y.dtype.is_floating_point or y.dim() != 1:
            raise DataError(f"classification needs one integer class index per example; got y of dtype {y.dtype} "
                            f"and shape {tuple(y.shape)} (use task='regression' for tensor targets)")
        if len(y) and int(y.max()) >= ds.num_classes:
            raise ConfigError(f"labels go up to {int(y.max())} but the dataset names {ds.num_classes} classes")

    def check_output(self, output, y):
        if output.dim() != 2 or (self.num_classes and output.shape[1] != self.num_classes):
            raise ShapeError(f"a classifier must output (N, {self.num_classes or 'classes'}) scores; got "
                             f"{tuple(output.shape)}")

    def loss(self, output, y):
        return self._loss(output, y)

    def train_meter(self, device) -> Meter:
        return Meter(("correct", "correct_k"), device)

    def update(self, meter, output, y, loss_value):
        super().update(meter, output, y, loss_value)
        rank = class_rank(output, y)
        meter.sums["correct"] += (rank == 0).sum()
        meter.sums["correct_k"] += (rank < self.k).sum()

    def train_logs(self, meter, ctx):
        logs = super().train_logs(meter, ctx)
        return {"loss": logs["loss"], "accuracy": logs["correct"], f"top{self.k}_accuracy": logs["correct_k"]}

    def postfix(self, meter):
        acc = 100.0 * float(meter.sums["correct"]) / max(1, meter.seen)
        return f"{super().postfix(meter)} acc {acc:.2f}%"

    def predict(self, output):
        return output.float().softmax(dim=1)

    @torch.no_grad()
    def evaluate(self, model, x, y, *, forward, batch_size=1000, ctx=None, confusion=False):
        ctx = ctx or distributed.Context(device=_device_of(model))
        device = ctx.device
        n_total = len(y)
        if ctx.distributed:
            x, y = x[ctx.rank::ctx.world_size], y[ctx.rank::ctx.world_size]
        loss_sum = torch.zeros((), dtype=torch.float64, device=device)
        correct = torch.zeros((), dtype=torch.int64, device=device)
        correct_k = torch.zeros((), dtype=torch.int64, device=device)
        num_classes, preds = self.num_classes, []
        for start in range(0, len(y), batch_size):
            yb = y[start:start + batch_size].to(device, non_blocking=True)
            logits = forward(x[start:start + batch_size]).float()
            if num_classes is None:
                num_classes = logits.shape[1]
            loss_sum += F.cross_entropy(logits, yb, reduction="sum").double()
            correct += correct_topk(logits, yb, 1)
            correct_k += correct_topk(logits, yb, self.topk)
            if confusion:
                preds.append(logits.argmax(1))
        k = min(self.topk, num_classes or self.topk)
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


# ---------------------------------------------------------------------------------------------------------
class Regression(Task):
    """Tensor targets (image-to-image: super-resolution, denoising). MSE or L1 loss; PSNR/SSIM for images.

    Args:
        loss: ``"mse"`` or ``"l1"``.
        psnr, ssim: report PSNR / SSIM (images (N, C, H, W) in [0, ``data_range``]).
        y_channel: measure PSNR/SSIM on MATLAB's Y channel of RGB outputs.
        shave: border pixels ignored by PSNR/SSIM (the SR papers shave the scale factor).
        data_range: the peak value of the images.
    """

    name = "regression"
    higher_better = frozenset({"psnr", "ssim"})
    normalize_inputs = False

    def __init__(self, loss: str = "mse", psnr: bool = True, ssim: bool = False, y_channel: bool = False,
                 shave: int = 0, data_range: float = 1.0):
        if loss not in ("mse", "l1"):
            raise ConfigError(f"regression `loss` must be 'mse' or 'l1'; got {loss!r}")
        if int(shave) < 0 or float(data_range) <= 0:
            raise ConfigError(f"`shave` must be ≥ 0 and `data_range` > 0; got {shave}, {data_range}")
        self.loss_name, self.psnr, self.ssim = loss, bool(psnr), bool(ssim)
        self.y_channel, self.shave, self.data_range = bool(y_channel), int(shave), float(data_range)

    @property
    def metrics(self) -> tuple[str, ...]:  # type: ignore[override]
        return (("psnr",) if self.psnr else ()) + (("ssim",) if self.ssim else ())

    @property
    def monitor(self) -> str:
        return "val_psnr" if self.psnr else "val_loss"

    def options(self) -> dict:
        return {"loss": self.loss_name, "psnr": self.psnr, "ssim": self.ssim, "y_channel": self.y_channel,
                "shave": self.shave, "data_range": self.data_range}

    def check_data(self, ds) -> None:
        if not ds.y_train.dtype.is_floating_point:
            raise DataError(f"regression needs float targets; got y of dtype {ds.y_train.dtype}")
        if (self.psnr or self.ssim) and ds.y_train.dim() != 4:
            raise DataError(f"PSNR/SSIM need target images (N, C, H, W); got y of shape {tuple(ds.y_train.shape)} "
                            "(pass psnr=False for other targets)")

    def check_output(self, output, y):
        if output.shape != y.shape:
            raise ShapeError(f"the model outputs {tuple(output.shape)} but the targets are {tuple(y.shape)}")

    def loss(self, output, y):
        return F.mse_loss(output, y) if self.loss_name == "mse" else F.l1_loss(output, y)

    def train_meter(self, device) -> Meter:
        return Meter(("psnr",) if self.psnr else (), device)

    def update(self, meter, output, y, loss_value):
        super().update(meter, output, y, loss_value)
        if self.psnr:  # per-image PSNR of the clamped output, on the training batch (cheap: no SSIM here)
            meter.sums["psnr"] += self._quality(output, y, "psnr").sum()

    def _quality(self, output, y, which):
        from cnnlab import quality

        fn = quality.psnr if which == "psnr" else quality.ssim
        values = fn(output.detach().float().clamp(0, self.data_range), y.float(), data_range=self.data_range,
                    shave=self.shave, y_channel=self.y_channel)
        return values.clamp(max=100.0)  # identical images would give inf; cap so means stay finite

    def predict(self, output):
        return output.clamp(0, self.data_range)

    @torch.no_grad()
    def evaluate(self, model, x, y, *, forward, batch_size=1000, ctx=None, confusion=False):
        ctx = ctx or distributed.Context(device=_device_of(model))
        n_total = len(y)
        if ctx.distributed:
            x, y = x[ctx.rank::ctx.world_size], y[ctx.rank::ctx.world_size]
        sums = {"loss": 0.0, **{m: 0.0 for m in self.metrics}}
        for start in range(0, len(y), batch_size):
            yb = y[start:start + batch_size].to(ctx.device)
            out = forward(x[start:start + batch_size]).float()
            self.check_output(out, yb)
            sums["loss"] += float(self.loss(out, yb)) * len(yb)
            for m in self.metrics:
                sums[m] += float(self._quality(out, yb, m).sum())
        keys = list(sums)
        total = distributed.all_reduce_sum([sums[k] for k in keys], ctx)
        return {"n": n_total, **{k: v / max(1, n_total) for k, v in zip(keys, total)}}


# ---------------------------------------------------------------------------------------------------------
class Embedding(Task):
    """Metric learning: the model maps an input to a vector; same identity -> close, different -> far.

    Args:
        loss: ``"triplet"`` (batch-hard: for each anchor the farthest positive and the closest negative in
            the batch) or ``"contrastive"`` (every pair of the batch).
        margin: the triplet / contrastive margin on L2-normalised embeddings (distances in [0, 2]).
        max_pairs_examples: evaluation uses every pair of at most this many examples of the split.
    """

    name = "embedding"
    metrics = ("verification_accuracy", "roc_auc")
    higher_better = frozenset(metrics)

    def __init__(self, loss: str = "triplet", margin: float = 0.2, max_pairs_examples: int = 2000):
        if loss not in ("triplet", "contrastive"):
            raise ConfigError(f"embedding `loss` must be 'triplet' or 'contrastive'; got {loss!r}")
        if float(margin) <= 0:
            raise ConfigError(f"`margin` must be > 0; got {margin}")
        self.loss_name, self.margin, self.max_pairs_examples = loss, float(margin), int(max_pairs_examples)

    def options(self) -> dict:
        return {"loss": self.loss_name, "margin": self.margin, "max_pairs_examples": self.max_pairs_examples}

    def check_data(self, ds) -> None:
        y = ds.y_train
        if y.dtype.is_floating_point or y.dim() != 1:
            raise DataError(f"embedding learning needs one integer identity per example; got y of dtype {y.dtype} "
                            f"and shape {tuple(y.shape)}")
        if len(torch.unique(y)) < 2:
            raise DataError("embedding learning needs at least two identities in the training split")

    def check_output(self, output, y):
        if output.dim() != 2:
            raise ShapeError(f"an embedding model must output (N, D) vectors; got {tuple(output.shape)}")

    def loss(self, output, y):
        z = F.normalize(output if output.dtype == torch.float64 else output.float(), dim=1)
        d = torch.cdist(z, z)  # (N, N) Euclidean distances
        same = y.view(-1, 1) == y.view(1, -1)
        eye = torch.eye(len(y), dtype=torch.bool, device=y.device)
        if self.loss_name == "triplet":
            hardest_pos = d.masked_fill(~same | eye, 0.0).amax(dim=1)
            hardest_neg = d.masked_fill(same, float("inf")).amin(dim=1)
            valid = ((same & ~eye).any(dim=1) & (~same).any(dim=1)).float()
            per = F.relu(hardest_pos - hardest_neg + self.margin) * valid
            return per.sum() / valid.sum().clamp_min(1.0)
        off = ~eye
        pos = same & off
        neg = ~same
        loss = d.square().masked_select(pos).sum() + F.relu(self.margin - d).square().masked_select(neg).sum()
        return loss / off.sum().clamp_min(1)

    def predict(self, output):
        return F.normalize(output.float(), dim=1)

    @torch.no_grad()
    def evaluate(self, model, x, y, *, forward, batch_size=1000, ctx=None, confusion=False):
        n = min(len(y), self.max_pairs_examples)
        x, y = x[:n], y[:n]  # every rank evaluates the same examples (pair metrics do not shard)
        outs = [forward(x[s:s + batch_size]).float() for s in range(0, n, batch_size)]
        z = torch.cat(outs) if outs else torch.zeros(0, 1)
        y = y.to(z.device)
        loss = float(self.loss(z, y)) if n else math.nan
        acc, auc, thr = verification_scores(F.normalize(z, dim=1), y)
        return {"n": n, "loss": loss, "verification_accuracy": acc, "roc_auc": auc, "threshold": thr}


def verification_scores(z: torch.Tensor, y: torch.Tensor) -> tuple[float, float, float]:
    """Verification over every pair: accuracy at the best distance threshold, ROC AUC, that threshold.

    A pair is predicted "same identity" when its distance is ≤ the threshold. Accuracy is balanced (the mean of
    the same-pair and different-pair accuracies), which is the plain accuracy of a protocol with as many same
    as different pairs (LFW's 300 + 300 per fold), so chance is 0.5 however many identities there are. The
    best threshold is searched over all observed distances (on the validation split that is a selection:
    report test accuracy at the validation threshold when it matters).
    AUC (scikit-learn's ``roc_auc_score`` on −distance) is the probability that a random same-identity pair
    is closer than a random different one (ties count one half).
    """
    n = len(y)
    iu = torch.triu_indices(n, n, offset=1, device=z.device)
    d = torch.cdist(z.double(), z.double())[iu[0], iu[1]]
    same = (y[iu[0]] == y[iu[1]])
    n_pos, n_neg = int(same.sum()), int((~same).sum())
    if n_pos == 0 or n_neg == 0:
        return math.nan, math.nan, math.nan
    order = torch.argsort(d)
    d_sorted, s_sorted = d[order], same[order]
    # threshold at the k-th smallest distance: pairs 0..k predicted "same"
    tp = torch.cumsum(s_sorted.long(), 0)
    fp = torch.cumsum((~s_sorted).long(), 0)
    last = torch.ones_like(s_sorted)
    last[:-1] = d_sorted[1:] != d_sorted[:-1]  # only thresholds between distinct distances
    balanced = (tp.double() / n_pos + (n_neg - fp).double() / n_neg) / 2
    balanced = torch.where(last, balanced, torch.zeros_like(balanced))
    best = int(torch.argmax(balanced))
    acc = max(float(balanced[best]), 0.5)  # "no pair is the same" is also a threshold
    # midway to the next distance: robust to the last-bit differences of another distance routine
    thr = float((d_sorted[best] + d_sorted[best + 1]) / 2) if best + 1 < len(d_sorted) else float(d_sorted[best])
    from sklearn.metrics import roc_auc_score

    auc = float(roc_auc_score(same.cpu().numpy(), (-d).cpu().numpy()))  # small distance = "same"
    return acc, auc, thr


def _device_of(model: nn.Module) -> torch.device:
    return next(iter(model.parameters()), torch.empty(0)).device


# ---------------------------------------------------------------------------------------------------------
_TASKS = {"classification": Classification, "regression": Regression, "image-to-image": Regression,
          "embedding": Embedding}


def names() -> list[str]:
    return list(_TASKS)


def get(task, **options) -> Task:
    """A :class:`Task` from a name (``classification``, ``regression``/``image-to-image``, ``embedding``)
    or a Task instance (returned as is).

    Raises:
        UnknownNameError: an unknown name. ConfigError: options the task does not take.
    """
    if isinstance(task, Task):
        return task
    if not isinstance(task, str) or task.lower() not in _TASKS:
        raise UnknownNameError(f"unknown `task` {task!r}; expected one of: {', '.join(_TASKS)}")
    cls = _TASKS[task.lower()]
    try:
        return cls(**options)
    except TypeError as exc:
        raise ConfigError(f"task {task!r} does not take these options ({exc})") from None


def from_dict(d: dict | None) -> Task:
    """Inverse of :meth:`Task.to_dict` (``None`` -> classification, what runs written before tasks were)."""
    if not d:
        return Classification()
    d = dict(d)
    return get(d.pop("name"), **d)
