"""Mini-batch SGD with momentum and a fit/evaluate loop for the NumPy engine.

The update is torch's ``optim.SGD`` (dampening 0): g ← ∇ + λ·θ, v ← μ·v + g, θ ← θ − η·v (Nesterov:
θ ← θ − η·(g + μ·v)). Progress lines follow the torch trainer's Keras-like style, one per epoch.
"""

from __future__ import annotations

import time
from typing import Callable, Dict, List, Optional

import numpy as np

from cnnlab.epochline import format_summary
from cnnlab.errors import ShapeError, TrainingError
from cnnlab.scratch.layers import softmax_cross_entropy, softmax_cross_entropy_backward
from cnnlab.scratch.model import Sequential


class SGD:
    """Stochastic gradient descent with momentum, weight decay and optional Nesterov momentum."""

    def __init__(self, model: Sequential, lr: float = 0.01, momentum: float = 0.9,
                 weight_decay: float = 0.0, nesterov: bool = False):
        if lr <= 0 or not 0 <= momentum < 1:
            raise ShapeError(f"SGD: need lr > 0 and 0 ≤ momentum < 1; got lr={lr}, momentum={momentum}")
        self.model, self.lr, self.momentum = model, lr, momentum
        self.weight_decay, self.nesterov = weight_decay, nesterov
        self.velocity: Dict[str, np.ndarray] = {}

    def step(self) -> None:
        """Update every parameter in place from the gradients of the last ``backward``."""
        for name, layer, key in self.model.named_parameters():
            param, grad = layer.params[key], layer.grads[key]
            if self.weight_decay:
                grad = grad + self.weight_decay * param
            v = self.velocity.get(name)
            v = grad.copy() if v is None else self.momentum * v + grad
            self.velocity[name] = v
            param -= self.lr * (grad + self.momentum * v if self.nesterov else v)


def evaluate(model: Sequential, x: np.ndarray, y: np.ndarray, batch_size: int = 500):
    """Mean cross-entropy and accuracy of ``model`` on (x, y), in eval mode.

    Shape:
        x: (N, C, H, W), y: (N,) -> (loss, accuracy)
    """
    total_loss, correct = 0.0, 0
    for start in range(0, len(x), batch_size):
        xb, yb = x[start:start + batch_size], y[start:start + batch_size]
        logits = model.forward(xb, training=False)
        loss, _ = softmax_cross_entropy(logits, yb)
        total_loss += loss * len(xb)
        correct += int((logits.argmax(axis=1) == yb).sum())
    return total_loss / len(x), correct / len(x)


def train_step(model: Sequential, optimizer: SGD, xb: np.ndarray, yb: np.ndarray):
    """One forward/backward/update on a mini-batch; returns (loss, number correct)."""
    logits = model.forward(xb, training=True)
    loss, cache = softmax_cross_entropy(logits, yb)
    model.backward(softmax_cross_entropy_backward(1.0, cache).astype(logits.dtype, copy=False),
                   input_grad=False)
    optimizer.step()
    return loss, int((logits.argmax(axis=1) == yb).sum())


def fit(model: Sequential, x: np.ndarray, y: np.ndarray, *, epochs: int = 1, batch_size: int = 64,
        lr: float = 0.05, momentum: float = 0.9, weight_decay: float = 0.0, lr_decay: float = 1.0,
        validation: Optional[tuple] = None, seed: int = 0,
        log: Optional[Callable[[str], None]] = print) -> List[dict]:
    """Train with shuffled mini-batches; returns one record per epoch
    (``epoch, loss, accuracy, val_loss, val_accuracy, lr, time``). The learning rate is multiplied
    by ``lr_decay`` after every epoch.

    Raises:
        TrainingError: the loss became NaN or infinite.

    Shape:
        x: (N, C, H, W) float, y: (N,) int labels
    """
    if len(x) != len(y):
        raise ShapeError(f"fit: `x` has {len(x)} samples but `y` has {len(y)}")
    optimizer = SGD(model, lr=lr, momentum=momentum, weight_decay=weight_decay)
    rng = np.random.default_rng(seed)
    history = []
    for epoch in range(1, epochs + 1):
        start = time.perf_counter()
        optimizer.lr = lr * lr_decay ** (epoch - 1)
        order = rng.permutation(len(x))
        total_loss, correct = 0.0, 0
        for b in range(0, len(x), batch_size):
            idx = order[b:b + batch_size]
            loss, hits = train_step(model, optimizer, x[idx], y[idx])
            if not np.isfinite(loss):
                raise TrainingError(f"fit: the loss became {loss} at epoch {epoch}, batch "
                                    f"{b // batch_size}; lower `lr` (now {optimizer.lr})")
            total_loss += loss * len(idx)
            correct += hits
        record = {"epoch": epoch, "loss": total_loss / len(x), "accuracy": correct / len(x),
                  "lr": optimizer.lr}
        if validation is not None:
            record["val_loss"], record["val_accuracy"] = evaluate(model, *validation)
        record["time"] = time.perf_counter() - start
        history.append(record)
        if log is not None:
            log(format_summary(record, epochs))
    return history



def train_mnist(model: str = "lecture_cnn", *, epochs: int = 3, batch_size: int = 64, lr: float = 0.05,
                lr_decay: float = 0.5, momentum: float = 0.9, seed: int = 0, limit: Optional[int] = None,
                threads: Optional[int] = None, log: Optional[Callable[[str], None]] = print) -> dict:
    """Train a NumPy model (``lecture_cnn`` or ``lenet5``) on MNIST in float32 and test it.

    Trains on the 50,000 training images (or the first ``limit``), reports the validation split
    every epoch and the 10,000 test images at the end. ``threads`` caps the BLAS threads (via
    ``threadpoolctl``, bundled with scikit-learn); on a busy 2-core machine 1 thread is often faster
    than 2, because OpenBLAS threads spin while they wait for each other.

    Returns:
        ``{"model", "history", "test_loss", "test_accuracy", "seconds_per_epoch", "threads",
        "train_images"}``
    """
    import contextlib

    from cnnlab.scratch.data import load_mnist
    from cnnlab.scratch.models import create

    limiter = contextlib.nullcontext()
    if threads is not None:
        from threadpoolctl import threadpool_limits

        limiter = threadpool_limits(limits=threads)
    net = create(model, seed=seed).astype(np.float32)
    with limiter:
        splits = load_mnist()
        x, y = splits["train"]
        if limit is not None:
            x, y = x[:limit], y[:limit]
        history = fit(net, x, y, epochs=epochs, batch_size=batch_size, lr=lr, momentum=momentum,
                      lr_decay=lr_decay, validation=splits["valid"], seed=seed, log=log)
        test_loss, test_acc = evaluate(net, *splits["test"])
    if log is not None:
        log(f"test loss {test_loss:.4f}  test acc {100 * test_acc:.2f}%")
    return {"model": model, "history": history, "test_loss": test_loss, "test_accuracy": test_acc,
            "seconds_per_epoch": float(np.mean([r["time"] for r in history])), "threads": threads,
            "train_images": len(x)}
