"""Running the same training under ``torchrun``: process group, device per rank, reductions.

``torchrun --nproc_per_node=N`` sets ``RANK``/``WORLD_SIZE``/``LOCAL_RANK``; we join the group (gloo on
CPU, nccl on CUDA), each rank trains on its shard of every global batch, DDP all-reduces the gradients,
and only rank 0 writes files or prints.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

from cnnlab.errors import ConfigError


@dataclass
class Context:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: torch.device = torch.device("cpu")
    owns_group: bool = False  # we initialised the process group, so we tear it down

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def resolve_device(name: str, local_rank: int = 0) -> torch.device:
    """``auto`` -> CUDA when available, else CPU; ``cuda`` without a GPU is an error."""
    if name == "cuda" or (name == "auto" and torch.cuda.is_available()):
        if not torch.cuda.is_available():
            raise ConfigError("`device` cuda was requested but no CUDA GPU is available; use --device cpu or auto")
        return torch.device("cuda", local_rank % torch.cuda.device_count())
    return torch.device("cpu")


def setup(device_name: str) -> Context:
    """Join the torchrun process group when ``WORLD_SIZE`` > 1; otherwise a single-process context."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    device = resolve_device(device_name, local_rank)
    if world <= 1:
        return Context(device=device)
    owns = False
    if not dist.is_initialized():
        if device.type == "cuda":
            torch.cuda.set_device(device)
        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
        owns = True
    return Context(rank=dist.get_rank(), world_size=dist.get_world_size(), local_rank=local_rank, device=device,
                   owns_group=owns)


def teardown(ctx: Context) -> None:
    if ctx.owns_group and dist.is_initialized():
        dist.destroy_process_group()


def all_reduce_sum(values: list[float], ctx: Context) -> list[float]:
    """Sum a few numbers over all ranks (identity in a single process)."""
    if not ctx.distributed:
        return list(values)
    t = torch.tensor(values, dtype=torch.float64, device=ctx.device)
    dist.all_reduce(t, op=dist.ReduceOp.SUM)
    return t.tolist()


def all_reduce_tensor(t: torch.Tensor, ctx: Context) -> torch.Tensor:
    if ctx.distributed:
        dist.all_reduce(t, op=dist.ReduceOp.SUM)
    return t


def broadcast(obj, ctx: Context):
    """Rank 0's ``obj`` on every rank (so e.g. a timing-based choice is the same everywhere)."""
    if not ctx.distributed:
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def barrier(ctx: Context) -> None:
    if ctx.distributed:
        dist.barrier()
