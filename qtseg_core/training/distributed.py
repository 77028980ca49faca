"""Distributed helpers: torchrun's environment -> a process group; one process without it.

Under ``torchrun`` (``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK`` set) each process
trains a DistributedDataParallel replica on its shard of the data; logging,
checkpoints and the run folder belong to rank 0 only. Without those variables
everything runs as a single process and the helpers are no-ops.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn

from qtseg_core.device import pick_device


@dataclass(frozen=True)
class DistributedContext:
    """Where this process sits: its rank, the world size and the device it trains on."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: torch.device = torch.device("cpu")

    @property
    def is_main(self) -> bool:
        """True on the one process that logs and writes checkpoints."""
        return self.rank == 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1


def setup_distributed(requested_device: str | None = None) -> DistributedContext:
    """Join torchrun's process group when its environment is present, else a single process.

    NCCL on CUDA, gloo on the CPU. Safe to call when a group already exists
    (e.g. in tests that spawn processes themselves).
    """
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size <= 1:
        return DistributedContext(device=pick_device(requested_device))
    rank, local_rank = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    device = pick_device(requested_device, local_rank)
    if device.type == "cuda":
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return DistributedContext(rank, world_size, local_rank, device)


def wrap_model(model: nn.Module, context: DistributedContext) -> nn.Module:
    """DistributedDataParallel around ``model`` when distributed, else ``model`` itself.

    Every parameter takes part in every step (a frozen encoder's gradients are
    dropped after the all-reduce, see ``loop.train_one_epoch``), so DDP can skip
    the search for unused parameters.
    """
    if not context.enabled:
        return model
    device_ids = [context.device.index] if context.device.type == "cuda" else None
    return nn.parallel.DistributedDataParallel(
        model, device_ids=device_ids, find_unused_parameters=False
    )


def average_across_processes(
    values: dict[str, float], context: DistributedContext
) -> dict[str, float]:
    """Mean of each value over all processes (identity in a single process)."""
    if not context.enabled or not values:
        return values
    keys = sorted(values)
    tensor = torch.tensor(
        [values[k] for k in keys], dtype=torch.float64, device=_comm_device(context)
    )
    dist.all_reduce(tensor)
    return {k: float(v) / context.world_size for k, v in zip(keys, tensor.tolist(), strict=True)}


def sum_across_processes(values: list[float], context: DistributedContext) -> list[float]:
    """Element-wise sum over processes (e.g. per-image metric sums and counts)."""
    if not context.enabled:
        return values
    tensor = torch.tensor(values, dtype=torch.float64, device=_comm_device(context))
    dist.all_reduce(tensor)
    return tensor.tolist()


def broadcast_flag(flag: bool, context: DistributedContext) -> bool:
    """Rank 0's decision (e.g. stop early, cancelled) shared with every process."""
    if not context.enabled:
        return flag
    tensor = torch.tensor([int(flag)], device=_comm_device(context))
    dist.broadcast(tensor, src=0)
    return bool(tensor.item())


def barrier(context: DistributedContext) -> None:
    if context.enabled:
        dist.barrier()


def _comm_device(context: DistributedContext) -> torch.device:
    return context.device if context.device.type == "cuda" else torch.device("cpu")
