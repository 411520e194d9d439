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
        return Adadelta(params, lr=cfg.lr, rho=0.95, eps=1e-6, weight_decay=cfg.weight_decay)
    return torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)


class Adadelta(torch.optim.Optimizer):
    """Adadelta (Zeiler 2012) exactly as ``torch.optim.Adadelta``, with embedding-sized tables updated lazily.

    A row of a parameter whose gradient is zero this step is, in Adadelta, only decayed: both running averages
    are multiplied by ``rho`` and the row does not move. So for tables of at least ``lazy_rows`` rows (an
    embedding: most words are absent from a batch) only the rows with a non-zero gradient are read and written;
    each row remembers the step it was last brought up to date and, when it next has a gradient, first catches
    up with ``rho ** skipped``. This is the same arithmetic as the dense update, reordered (the decay of a
    skipped row is one multiplication by ``rho ** k`` instead of k by ``rho``, equal to rounding); with weight
    decay every row has a gradient and the dense update runs. The state keeps torch's names (``square_avg``,
    ``acc_delta``, ``step``) plus ``row_step`` for the lazy tables, so checkpoints of either load.
    """

    def __init__(self, params, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6, weight_decay: float = 0.0,
                 lazy_rows: int = 1024):
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Adadelta's rho must be in [0, 1]; got {rho}")
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, lazy_rows=lazy_rows))

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            lr, rho, eps, wd = group["lr"], group["rho"], group["eps"], group["weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                if p.grad.is_sparse:
                    raise RuntimeError("Adadelta does not take sparse gradients; use a dense nn.Embedding "
                                       "(its untouched rows are skipped anyway)")
                state = self.state[p]
                lazy = p.dim() >= 2 and p.shape[0] >= group.get("lazy_rows", 1024)
                if not state:
                    state["step"] = torch.tensor(0.0)
                    state["square_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                    state["acc_delta"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                state["step"] += 1
                t = int(state["step"].item())
                if lazy and "row_step" not in state:  # a fresh table, or a checkpoint of torch's Adadelta
                    state["row_step"] = torch.full((p.shape[0],), t - 1, dtype=torch.long, device=p.device)
                elif lazy and state["row_step"].dtype != torch.long:  # load_state_dict casts it to p's dtype
                    state["row_step"] = state["row_step"].long()
                grad = p.grad
                if not lazy:
                    _adadelta_(p, grad, state["square_avg"], state["acc_delta"], lr, rho, eps, wd)
                    continue
                # rows with any non-zero entry (|g| summed is 0 only then; much faster than ne(0).any())
                rows = None if wd else grad.reshape(p.shape[0], -1).abs().sum(dim=1).ne(0).nonzero().squeeze(1)
                row_step = state["row_step"]
                if rows is None or 2 * rows.numel() > p.shape[0]:  # most rows move: the dense update
                    sq, ad = state["square_avg"], state["acc_delta"]
                    _catch_up_(sq, ad, t - 1 - row_step, rho)
                    _adadelta_(p, grad, sq, ad, lr, rho, eps, wd)
                    row_step.fill_(t)
                    continue
                if rows.numel() == 0:
                    continue
                sq, ad = state["square_avg"].index_select(0, rows), state["acc_delta"].index_select(0, rows)
                _catch_up_(sq, ad, t - 1 - row_step.index_select(0, rows), rho)
                w = p.index_select(0, rows)
                _adadelta_(w, grad.index_select(0, rows), sq, ad, lr, rho, eps, 0.0)
                p.index_copy_(0, rows, w)
                state["square_avg"].index_copy_(0, rows, sq)
                state["acc_delta"].index_copy_(0, rows, ad)
                row_step.index_fill_(0, rows, t)
        return loss


def _adadelta_(p, grad, square_avg, acc_delta, lr, rho, eps, weight_decay) -> None:
    """One Adadelta step in place, in torch.optim.Adadelta's order of operations."""
    if weight_decay:
        grad = grad.add(p, alpha=weight_decay)
    square_avg.mul_(rho).addcmul_(grad, grad, value=1 - rho)
    std = square_avg.add(eps).sqrt_()
    delta = acc_delta.add(eps).sqrt_().div_(std).mul_(grad)
    acc_delta.mul_(rho).addcmul_(delta, delta, value=1 - rho)
    p.add_(delta, alpha=-lr)


def _catch_up_(square_avg, acc_delta, skipped, rho: float) -> None:
    """Decay the running averages' rows in place by the steps each skipped: ``rho ** skipped`` (``skipped``
    holds one count per row)."""
    if bool((skipped > 0).any()):
        factor = torch.pow(torch.tensor(rho, dtype=torch.float64, device=square_avg.device), skipped.double())
        factor = factor.to(square_avg.dtype).reshape(-1, *([1] * (square_avg.dim() - 1)))
        square_avg.mul_(factor)
        acc_delta.mul_(factor)


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
