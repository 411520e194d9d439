"""Training: ``fit`` for any task (classification, image-to-image regression, embeddings: :mod:`.tasks`),
callbacks (early stopping with restore, checkpoints with exact resume, run folders), torchrun/DDP,
evaluation, prediction and ONNX export.

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
from cnnlab.train.callbacks import Callback
from cnnlab.train.loop import TrainState, fit
from cnnlab.train.runs import Run, default_run_dir, load_run

__all__ = ["Callback", "FitConfig", "History", "Run", "TrainState", "default_run_dir", "evaluate",
           "evaluate_run", "evaluate_tensors", "export_onnx", "fit", "load_checkpoint", "load_run", "load_weights",
           "predict_files", "save_weights"]


def evaluate(model, data, *, split: str = "test", task="classification", batch_size: int = 1000,
             precision: str = "fp32", topk: int = 5, confusion: bool = True) -> dict:
    """The task's metrics of a model on a split of a Dataset (or dataset name).

    Classification (the default): loss, accuracy, top-k accuracy and the confusion matrix; regression: loss,
    PSNR (and SSIM); embedding: loss, verification accuracy, ROC AUC. Float images are normalised with the
    dataset's statistics when the task normalises inputs (as ``fit`` did).
    """
    from cnnlab.train import tasks as tasks_mod

    if isinstance(data, str):
        from cnnlab import data as data_mod

        data = data_mod.load(data)
    if isinstance(task, str) and task.lower() == "classification":
        task = tasks_mod.Classification(topk=topk, num_classes=data.num_classes)
    task = tasks_mod.get(task)
    task.check_data(data)
    x, y = data.split(split)
    return evaluate_tensors(model, x, y, mean=data.mean, std=data.std, batch_size=batch_size, precision=precision,
                            confusion=confusion and task.name == "classification", task=task)


def export_onnx(*args, **kwargs):
    """See :func:`cnnlab.train.export.export_onnx` (imported lazily: it loads the ONNX exporter)."""
    from cnnlab.train.export import export_onnx as _export

    return _export(*args, **kwargs)
