"""Training: ``fit`` (loop, metrics, early stopping with restore, progress), checkpoints with exact resume,
run folders, torchrun/DDP, evaluation, prediction and ONNX export.

Example:
    >>> import cnnlab
    >>> history = cnnlab.fit(model, "mnist", epochs=5, out="runs/demo")  # doctest: +SKIP
    >>> run = cnnlab.train.load_run("runs/demo")  # doctest: +SKIP
"""

from __future__ import annotations

from cnnlab.train.checkpoint import load_checkpoint, load_weights, save_weights
from cnnlab.train.config import FitConfig
from cnnlab.train.evaluation import evaluate_run, evaluate_tensors, predict_files
from cnnlab.train.history import History
from cnnlab.train.loop import Callback, TrainState, fit
from cnnlab.train.runs import Run, default_run_dir, load_run

__all__ = ["Callback", "FitConfig", "History", "Run", "TrainState", "default_run_dir", "evaluate",
           "evaluate_run", "evaluate_tensors", "export_onnx", "fit", "load_checkpoint", "load_run", "load_weights",
           "predict_files", "save_weights"]


def evaluate(model, data, *, split: str = "test", batch_size: int = 1000, precision: str = "fp32", topk: int = 5,
             confusion: bool = True) -> dict:
    """Loss/accuracy/top-k (and confusion matrix) of a model on a split of a Dataset (or dataset name)."""
    if isinstance(data, str):
        from cnnlab import data as data_mod

        data = data_mod.load(data)
    x, y = data.split(split)
    return evaluate_tensors(model, x, y, mean=data.mean, std=data.std, batch_size=batch_size, precision=precision,
                            topk=topk, num_classes=data.num_classes, confusion=confusion)


def export_onnx(*args, **kwargs):
    """See :func:`cnnlab.train.export.export_onnx` (imported lazily: it loads the ONNX exporter)."""
    from cnnlab.train.export import export_onnx as _export

    return _export(*args, **kwargs)
