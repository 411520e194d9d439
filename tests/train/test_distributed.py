"""The same ``cnnlab train`` under ``torchrun --nproc_per_node=2`` (gloo on CPU): sharded data, DDP,
rank-0-only writes, and the accuracy of the single-process run within a point."""

from __future__ import annotations

import json
import os
import subprocess
import sys


from cnnlab.cli.app import main
from cnnlab.train import evaluate_run, load_run

MODEL = {"sequential": [
    {"class": "Conv2D", "config": {"filters": 16, "kernel_size": 3, "padding": "same", "activation": "relu"}},
    {"class": "MaxPooling2D", "config": {"pool_size": 2}}, {"class": "Flatten", "config": {}},
    {"class": "Dense", "config": {"units": 10}}], "input_shape": [1, 8, 8]}
ARGS = ["--epochs", "8", "--batch-size", "32", "--lr", "3e-3", "--precision", "fp32",
        "--layout", "nchw", "--quiet"]


def _digits_as_idx(digits, folder):
    """The digits as IDX files (train+val -> train, test -> t10k): the workers then skip importing sklearn."""
    import gzip
    import struct

    import numpy as np
    import torch

    folder.mkdir()
    parts = {"train": (torch.cat([digits.x_train, digits.x_val]), torch.cat([digits.y_train, digits.y_val])),
             "t10k": (digits.x_test, digits.y_test)}
    for prefix, (x, y) in parts.items():
        images = (x[:, 0] * 255).round().to(torch.uint8).numpy()
        for kind, arr in (("images-idx3", images), ("labels-idx1", y.numpy().astype(np.uint8))):
            header = bytes([0, 0, 8, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape)
            with gzip.open(folder / f"{prefix}-{kind}-ubyte.gz", "wb") as fh:
                fh.write(header + arr.tobytes())
    return f"idx:{folder}"


def test_two_process_torchrun_matches_single_process_accuracy(digits, tmp_path):
    spec = tmp_path / "model.json"
    spec.write_text(json.dumps(MODEL))
    data_arg = ["--data", _digits_as_idx(digits, tmp_path / "digits")]
    env = dict(os.environ, OMP_NUM_THREADS="1", CNNLAB_TEST_THREADS="1")
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", "-m", "cnnlab",
           "train", str(spec), *data_arg, *ARGS, "--out", str(tmp_path / "ddp")]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert main(["train", str(spec), *data_arg, *ARGS, "--out", str(tmp_path / "single")]) == 0  # meanwhile, in-process
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err[-3000:]
    assert out.count("run saved to") == 1  # only rank 0 prints
    ddp, single = load_run(tmp_path / "ddp"), load_run(tmp_path / "single")
    assert ddp.config["resolved"]["world_size"] == 2 and single.config["resolved"]["world_size"] == 1
    # the global batch of 32 is split 16 + 16; the incomplete last batch is dropped under DDP
    n_train = ddp.config["data"]["n_train"]
    assert n_train == round(1438 * 5 / 6) and n_train % 32
    assert ddp.config["resolved"]["steps_per_epoch"] == n_train // 32
    assert single.config["resolved"]["steps_per_epoch"] == n_train // 32 + 1
    assert len(ddp.history) == 8 and sorted(p.name for p in (tmp_path / "ddp").iterdir()) == sorted(
        p.name for p in (tmp_path / "single").iterdir())
    acc_ddp = evaluate_run(ddp)["accuracy"]
    acc_single = evaluate_run(single)["accuracy"]
    assert acc_single > 0.9 and acc_ddp > 0.9
    # DDP drops the last incomplete batch, so the two runs train differently, not only in rounding: measured
    # 0.978 vs 0.981 (1 of 359 test digits); allow 7 digits (about two standard errors of a difference of
    # two accuracies near 0.98 on 359 samples) rather than a bound tuned on one CPU's kernels
    assert abs(acc_ddp - acc_single) <= 0.02, (acc_ddp, acc_single)
