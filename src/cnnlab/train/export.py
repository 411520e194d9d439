"""ONNX export of a trained run, verified with onnxruntime (same logits within a tolerance).

Uses torch's ``dynamo=True`` exporter (torch ≥ 2.5), which needs ``onnx`` and ``onnxscript``; the batch
dimension is exported as dynamic.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import warnings
from pathlib import Path

import torch

from cnnlab.errors import MissingDependencyError, TrainingError, require
from cnnlab.io import write_bytes_via

INSTALL = "pip install 'onnx>=1.16' 'onnxruntime>=1.18' 'onnxscript>=0.1'  (or: pip install 'cnnlab[onnx]')"


def export_onnx(run, out: str | os.PathLike, *, batch_size: int = 4, atol: float = 1e-4, seed: int = 0) -> dict:
    """Export ``run.model`` (a :class:`~cnnlab.train.runs.Run`) to ``out`` and check it with onnxruntime.

    Returns:
        ``{"path", "max_abs_diff", "opset", "input_name", "input_shape"}``.

    Raises:
        MissingDependencyError: onnx / onnxscript / onnxruntime missing (the message gives the install command).
        TrainingError: onnxruntime's logits differ from torch's by more than ``atol`` (nothing is written).
    """
    require("onnx", INSTALL)
    require("onnxscript", INSTALL)
    ort = require("onnxruntime", INSTALL)
    model = run.model.eval().to("cpu")
    c, h, w = run.input_shape
    x = torch.rand(batch_size, c, h, w, generator=torch.Generator().manual_seed(seed))
    x = run.normalize(x)
    out = Path(out)
    # the exporter logs warnings about optional torchvision ops and prints progress lines: keep them quiet
    quiet = logging.getLogger("torch.onnx")
    level = quiet.level
    quiet.setLevel(logging.ERROR)
    try:
        with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            program = torch.onnx.export(model, (x,), dynamo=True, verbose=False, input_names=["input"],
                                        output_names=["logits"], dynamic_shapes=({0: torch.export.Dim("batch")},))
    except ImportError as exc:  # pragma: no cover - the exporter's own dependency check
        raise MissingDependencyError(f"the ONNX exporter needs a missing package ({exc}); install with: {INSTALL}") from None
    finally:
        quiet.setLevel(level)
    data = program.model_proto.SerializeToString()
    session = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    with torch.no_grad():
        expected = model(x).float().numpy()
    check = x[:1].numpy(), model(x[:1]).detach().float().numpy()  # a different batch size: the dynamic axis works
    got = session.run(None, {session.get_inputs()[0].name: x.numpy()})[0]
    got1 = session.run(None, {session.get_inputs()[0].name: check[0]})[0]
    diff = float(max(abs(got - expected).max(), abs(got1 - check[1]).max()))
    if not diff <= atol:
        raise TrainingError(f"ONNX logits differ from torch by {diff:.2e} (> {atol:.0e}); `{out}` was not written")

    def write(tmp):
        with open(tmp, "wb") as fh:
            fh.write(data)

    write_bytes_via(out, write)
    opset = next((o.version for o in program.model_proto.opset_import if o.domain in ("", "ai.onnx")), None)
    return {"path": str(out), "max_abs_diff": diff, "opset": opset, "input_name": session.get_inputs()[0].name,
            "input_shape": [None, c, h, w]}
