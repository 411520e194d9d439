"""Optimisers (SGD with momentum/Nesterov, Adam, AdamW, Adadelta) and per-step learning-rate schedules.

Schedules are stepped after every optimiser step (not every epoch), so a run resumed mid-epoch continues
the schedule exactly where it stopped.
"""

from __future__ import annotations

import torch

from cnnlab.train.config import FitConfig


def param_groups(params, cfg: FitConfig):
    """``params`` as given, or, with ``decay_biases=False`` and a weight decay, two groups: weights (ndim ≥ 2)
    with the decay and biases/normalisation scales (ndim ≤ 1) without it (an L2 term on weights only)."""
    params = list(params)
    if cfg.decay_biases or not cfg.weight_decay:
        return params
    return [{"params": [p for p in params if p.ndim >= 2]},
            {"params": [p for p in params if p.ndim < 2], "weight_decay": 0.0}]


def make_optimizer(params, cfg: FitConfig) -> torch.optim.Optimizer:
    params = param_groups(params, cfg)
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum, nesterov=cfg.nesterov,
                               weight_decay=cfg.weight_decay)
    if cfg.optimizer == "adam":
        return torch.optim.Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    if cfg.optimizer == "adadelta":  # Kim (2014)'s optimiser: rho 0.95, eps 1e-6 as in his code
        return torch.optim.Adadelta(params, lr=cfg.lr, rho=0.95, eps=1e-6, weight_decay=cfg.weight_decay)
    return torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)


def make_scheduler(optimizer, cfg: FitConfig, steps_per_epoch: int):
    """The schedule for ``cfg.epochs × steps_per_epoch`` steps, or ``None`` for a constant rate."""
    total = max(1, cfg.epochs * steps_per_epoch)
    if cfg.schedule == "step":
        every = (cfg.step_size or max(1, cfg.epochs // 3)) * steps_per_epoch
        return torch.optim.lr_scheduler.StepLR(optimizer, step_size=max(1, every), gamma=cfg.gamma)
    if cfg.schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=total)
    if cfg.schedule == "onecycle":
        # One-cycle (Smith 2018): warm up to `lr` over 30% of the steps, then anneal to ~0.
        return torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=cfg.lr, total_steps=total)
    return None


def current_lr(optimizer) -> float:
    return float(optimizer.param_groups[0]["lr"])
