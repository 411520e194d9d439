"""Datasets as files: `tensors:FILE` round trip and `arrays:DIR` memory-mapped streaming, which trains to
exactly the weights of the in-memory run."""

from __future__ import annotations

import pytest
import torch

from cnnlab import data
from cnnlab.errors import DataError
from cnnlab.train import evaluate, fit, load_run
from cnnlab.train.checkpoint import load_weights


def _tiny(seed=0):
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.ReLU(), torch.nn.Flatten(),
                               torch.nn.Dropout(0.2), torch.nn.Linear(256, 10))


def test_streamed_arrays_train_exactly_like_memory(tmp_path):
    ds = data.load("digits").subset(train=300, val=100, test=100)
    data.save_arrays(ds, tmp_path / "arrays")
    streamed = data.load(f"arrays:{tmp_path / 'arrays'}")
    assert streamed.stream and not ds.stream and streamed.mean == ds.mean
    assert not streamed.x_train.numpy().flags.owndata  # a memory map, not a copy
    opts = dict(epochs=2, batch_size=32, seed=3, deterministic=True, precision="fp32", layout="nchw",
                progress=False, checkpoint_every=5)
    fit(_tiny(), ds, out=tmp_path / "mem", **opts)
    fit(_tiny(), streamed, out=tmp_path / "disk", **opts)
    a, b = load_weights(tmp_path / "mem" / "weights.safetensors"), load_weights(tmp_path / "disk" / "weights.safetensors")
    assert all(torch.equal(a[k], b[k]) for k in a)
    run = load_run(tmp_path / "disk", model=_tiny())
    assert evaluate(run.model, streamed)["accuracy"] == evaluate(run.model, ds)["accuracy"]


def test_tensors_and_arrays_errors(tmp_path):
    with pytest.raises(DataError, match="has no meta.json"):
        data.load(f"arrays:{tmp_path}")
    (tmp_path / "bad.safetensors").write_bytes(b"garbage")
    with pytest.raises(DataError, match="is not a readable safetensors file"):
        data.load(f"tensors:{tmp_path / 'bad.safetensors'}")
