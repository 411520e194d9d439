"""The counters and random generators of a training run: what a checkpoint stores besides the state dicts."""

from __future__ import annotations

import torch


class TrainState:
    """Counters and RNG generators of a run.

    The data-order generator's state is saved twice: at the start of the epoch in progress (a run resumed
    mid-epoch redraws that epoch's permutation) and as it is now (a run resumed at an epoch boundary draws
    the next epoch's permutation, not the previous one again).
    """

    def __init__(self, seed: int, model=None):
        self.model = model  # the model being trained (callbacks read and constrain it)
        self.epoch = 0  # 0-based epoch in progress
        self.step = 0  # optimiser steps done within this epoch
        self.global_step = 0
        self.data_gen = torch.Generator().manual_seed(seed)  # data order
        self.aug_gen = torch.Generator().manual_seed(seed + 1)  # augmentation parameters
        self.epoch_gen_state = self.data_gen.get_state()  # data_gen before this epoch's permutation
        self.sums: dict = {}
        self.best_value: float | None = None
        self.best_epoch: int | None = None
        self.best_state: dict | None = None
        self.wait = 0
        self.stopped_epoch: int | None = None
        self.stop_reason = "completed"
        self.stop_training = False  # set by a callback: stop after this epoch

    def to_dict(self) -> dict:
        return {"epoch": self.epoch, "step": self.step, "global_step": self.global_step,
                "epoch_gen_state": self.epoch_gen_state, "data_gen_state": self.data_gen.get_state(),
                "aug_gen_state": self.aug_gen.get_state(), "torch_rng_state": torch.get_rng_state(),
                "cuda_rng_states": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
                "sums": dict(self.sums), "best_value": self.best_value, "best_epoch": self.best_epoch,
                "best_state": self.best_state, "wait": self.wait, "stopped_epoch": self.stopped_epoch,
                "stop_reason": self.stop_reason}

    def load_dict(self, d: dict) -> None:
        self.epoch, self.step, self.global_step = int(d["epoch"]), int(d["step"]), int(d["global_step"])
        self.epoch_gen_state = d["epoch_gen_state"]
        # checkpoints written before data_gen_state existed only have the epoch-start state
        self.data_gen.set_state(d.get("data_gen_state", self.epoch_gen_state))
        self.aug_gen.set_state(d["aug_gen_state"])
        torch.set_rng_state(d["torch_rng_state"])
        if d.get("cuda_rng_states") and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(d["cuda_rng_states"])
        self.sums = dict(d["sums"])
        self.best_value, self.best_epoch = d["best_value"], d["best_epoch"]
        self.best_state, self.wait = d["best_state"], int(d["wait"])
        self.stopped_epoch = d.get("stopped_epoch")
        self.stop_reason = d.get("stop_reason", "early_stopping" if self.stopped_epoch else "completed")
