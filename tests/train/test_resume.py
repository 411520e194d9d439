"""Checkpoints and resume: an interrupted run (exception or SIGKILL mid-epoch) resumed from its last
checkpoint ends with exactly the weights of an uninterrupted deterministic run; corrupt files and
mismatching resumes are clear errors that change nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import torch

from cnnlab.errors import CheckpointError, ConfigError
from cnnlab.train import Callback, History, fit, load_run
from cnnlab.train.checkpoint import load_checkpoint, load_weights

OPTS = dict(epochs=3, batch_size=32, lr=3e-3, schedule="onecycle", augment=True, deterministic=True,
            precision="fp32", layout="nchw", checkpoint_every=7, progress=False)


class _Interrupt(Callback):
    def __init__(self, at_step):
        self.at_step = at_step

    def on_step_end(self, state):
        if state.global_step == self.at_step:
            raise KeyboardInterrupt


class _InterruptAtEpoch(Callback):
    """Dies as the given epoch (0-based) begins: the last checkpoint is the previous epoch's end."""

    def __init__(self, epoch):
        self.epoch = epoch

    def on_epoch_begin(self, state):
        if state.epoch == self.epoch:
            raise KeyboardInterrupt


def _files(folder: Path) -> dict:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_resume_after_an_interrupt_mid_epoch_reproduces_the_uninterrupted_run(digits, make_model, tmp_path):
    ds = digits.subset(train=320)  # 10 steps per epoch
    full = make_model(dropout=0.3)
    fit(full, ds, out=tmp_path / "full", **OPTS)
    part = make_model(dropout=0.3)
    with pytest.raises(KeyboardInterrupt):
        fit(part, ds, out=tmp_path / "part", callbacks=[_Interrupt(16)], **OPTS)
    ckpt = load_checkpoint(tmp_path / "part" / "checkpoint.pt")
    assert (ckpt["state"]["epoch"], ckpt["state"]["step"], ckpt["state"]["global_step"]) == (1, 4, 14)
    resumed = make_model(seed=123, dropout=0.3)  # its initial weights are replaced by the checkpoint's
    history = fit(resumed, ds, resume=tmp_path / "part", progress=False)
    a = load_weights(tmp_path / "full" / "weights.safetensors")
    b = load_weights(tmp_path / "part" / "weights.safetensors")
    assert all(torch.equal(a[k], b[k]) for k in a)
    def no_time(records):
        return [{k: v for k, v in r.items() if k != "time"} for r in records]

    assert no_time(history.records) == no_time(History.read(tmp_path / "full").records)
    assert len(history) == 3


def test_resume_after_an_epoch_end_checkpoint_reproduces_the_uninterrupted_run(digits, make_model, tmp_path):
    """The epoch-end checkpoint must carry the data order of the *next* epoch (a resume used to replay the
    previous epoch's permutation)."""
    ds = digits.subset(train=320)
    opts = dict(OPTS, checkpoint_every=0)
    fit(make_model(dropout=0.3), ds, out=tmp_path / "full", **opts)
    with pytest.raises(KeyboardInterrupt):
        fit(make_model(dropout=0.3), ds, out=tmp_path / "part", callbacks=[_InterruptAtEpoch(2)], **opts)
    ckpt = load_checkpoint(tmp_path / "part" / "checkpoint.pt")
    assert (ckpt["state"]["epoch"], ckpt["state"]["step"], ckpt["state"]["global_step"]) == (2, 0, 20)
    history = fit(make_model(seed=5, dropout=0.3), ds, resume=tmp_path / "part", progress=False)
    a = load_weights(tmp_path / "full" / "weights.safetensors")
    b = load_weights(tmp_path / "part" / "weights.safetensors")
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert history["loss"] == History.read(tmp_path / "full")["loss"]


_SCRIPT = textwrap.dedent("""
    import sys, time, torch
    torch.set_num_threads(1)
    sys.path.insert(0, {tests!r})
    from conftest import tiny_cnn
    from cnnlab import data
    from cnnlab.train import Callback, fit

    class Slow(Callback):
        def on_step_end(self, state):
            time.sleep(0.05)

    t = torch.load(sys.argv[2], weights_only=True)  # the digits subset, without importing sklearn here
    ds = data.Dataset("digits", *t["tensors"], classes=t["classes"], mean=t["mean"], std=t["std"])
    if sys.argv[3] == "resume":
        fit(tiny_cnn(dropout=0.3), ds, resume=sys.argv[1], progress=False)
    else:
        fit(tiny_cnn(dropout=0.3), ds, out=sys.argv[1], callbacks=[Slow()], **{opts!r})
    print("done")
""")
KILL_OPTS = dict(OPTS, checkpoint_every=3)


def _run(script, out, data_file, mode):
    env = dict(os.environ, OMP_NUM_THREADS="1")
    return subprocess.Popen([sys.executable, str(script), str(out), str(data_file), mode], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.parametrize("where", ["mid-epoch", "epoch-end"])
def test_sigkill_then_resume_matches_an_uninterrupted_run(digits, make_model, tmp_path, where):
    """Killed with SIGKILL after a mid-epoch checkpoint (``checkpoint_every``) or after an epoch-end one:
    the resumed run ends bit-identical to the uninterrupted run."""
    ds = digits.subset(train=320)
    data_file = tmp_path / "digits.pt"
    torch.save({"tensors": [ds.x_train, ds.y_train, ds.x_val, ds.y_val, ds.x_test, ds.y_test], "classes": ds.classes,
                "mean": ds.mean, "std": ds.std}, data_file)
    script = tmp_path / "train_script.py"
    kill_opts = KILL_OPTS if where == "mid-epoch" else dict(KILL_OPTS, checkpoint_every=0)
    opts = {k: v for k, v in kill_opts.items() if k != "progress"}
    script.write_text(_SCRIPT.format(tests=str(Path(__file__).parent), opts=opts))
    victim = _run(script, tmp_path / "victim", data_file, "new")
    ckpt_path = tmp_path / "victim" / "checkpoint.pt"
    deadline = time.time() + 300
    seen = None
    wanted = (lambda st: st["epoch"] == 1 and st["step"] > 0) if where == "mid-epoch" else \
        (lambda st: st["epoch"] == 1 and st["step"] == 0)  # the checkpoint written at epoch 1's end
    while time.time() < deadline and victim.poll() is None:
        if ckpt_path.exists():
            state = load_checkpoint(ckpt_path)["state"]  # never half-written: atomic replace
            if wanted(state):
                seen = state
                break
        time.sleep(0.02)
    assert seen is not None, victim.communicate()[1][-2000:]
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    assert victim.returncode == -signal.SIGKILL
    killed_at = load_checkpoint(ckpt_path)["state"]
    assert killed_at["global_step"] < 30 and not (tmp_path / "victim" / "weights.safetensors").exists()
    resumed = _run(script, tmp_path / "victim", data_file, "resume")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the same numerics as the single-threaded subprocesses
    try:  # meanwhile, the uninterrupted reference run in this process
        fit(make_model(dropout=0.3), ds, out=tmp_path / "ref", **kill_opts)
    finally:
        torch.set_num_threads(threads)
    out, err = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, err[-2000:]
    a = load_weights(tmp_path / "ref" / "weights.safetensors")
    b = load_weights(tmp_path / "victim" / "weights.safetensors")
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert History.read(tmp_path / "ref")["val_loss"] == History.read(tmp_path / "victim")["val_loss"]


@pytest.mark.parametrize("damage", ["garbage", "truncated"])
def test_corrupt_checkpoint_is_a_clear_error_and_nothing_is_overwritten(digits, make_model, tmp_path, damage):
    fit(make_model(), digits.subset(train=64), epochs=1, out=tmp_path, batch_size=32, progress=False,
        precision="fp32", layout="nchw")
    ckpt = tmp_path / "checkpoint.pt"
    raw = ckpt.read_bytes()
    ckpt.write_bytes(b"\x00not a checkpoint" * 10 if damage == "garbage" else raw[: len(raw) // 2])
    before = _files(tmp_path)
    with pytest.raises(CheckpointError, match=r"checkpoint `.*checkpoint.pt` is corrupt or truncated \(.*\); "
                                              r"nothing was changed"):
        fit(make_model(), digits.subset(train=64), resume=tmp_path, progress=False)
    assert _files(tmp_path) == before


def test_corrupt_weights_file_is_a_clear_error(digits, tmp_path):
    from cnnlab.layers import Dense, Flatten, Sequential

    model = Sequential([Flatten(), Dense(10)], input_shape=(1, 8, 8))
    fit(model, digits.subset(train=64), epochs=1, out=tmp_path, batch_size=32, progress=False)
    weights = tmp_path / "weights.safetensors"
    weights.write_bytes(weights.read_bytes()[:50])
    with pytest.raises(CheckpointError, match=r"weights file `.*weights.safetensors` is corrupt or truncated"):
        load_run(tmp_path)
    assert len(weights.read_bytes()) == 50


def test_resume_with_another_model_description_is_refused(digits, tmp_path):
    from cnnlab.layers import Dense, Flatten, Sequential

    def model(units):
        return Sequential([Flatten(), Dense(units, activation="relu"), Dense(10)], input_shape=(1, 8, 8))

    fit(model(16), digits.subset(train=64), epochs=1, out=tmp_path, batch_size=32, progress=False)
    before = _files(tmp_path)
    with pytest.raises(ConfigError, match=r"the model does not match the run being resumed \(`.*` has "
                                          r"\{'sequential'.*; got \{'sequential'"):
        fit(model(32), digits.subset(train=64), resume=tmp_path, epochs=2, progress=False)
    assert _files(tmp_path) == before


def test_resume_of_an_undescribed_model_with_other_shapes_is_refused(digits, make_model, tmp_path):
    fit(make_model(channels=8), digits.subset(train=64), epochs=1, out=tmp_path, batch_size=32, progress=False)
    with pytest.raises(CheckpointError, match=r"weights in `.*checkpoint.pt` do not match the model: shape mismatch "
                                              r"0.weight \(8, 1, 3, 3\) vs \(4, 1, 3, 3\)"):
        fit(make_model(channels=4), digits.subset(train=64), resume=tmp_path, epochs=2, progress=False)


def test_resume_options_must_match_except_more_epochs(digits, make_model, tmp_path):
    ds = digits.subset(train=64)
    fit(make_model(), ds, epochs=1, out=tmp_path, batch_size=32, lr=1e-3, progress=False, precision="fp32")
    with pytest.raises(ConfigError, match=r"`lr`=0.1 differs from the run being resumed \(`.*` has 0.001\)"):
        fit(make_model(), ds, resume=tmp_path, lr=0.1, progress=False)
    history = fit(make_model(), ds, resume=tmp_path, epochs=2, progress=False)
    assert [r["epoch"] for r in history.records] == [1, 2]
    with pytest.raises(ConfigError, match="`out` .* and `resume` .* must be the same run folder"):
        fit(make_model(), ds, resume=tmp_path, out=tmp_path / "other", progress=False)
