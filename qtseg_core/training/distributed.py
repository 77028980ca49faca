"""Distributed helpers: torchrun's environment -> a process group; one process without it.

Under ``torchrun`` (``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK`` set) each process
trains a DistributedDataParallel replica on its shard of the data; logging,
checkpoints and the run folder belong to rank 0 only. Without those variables
everything runs as a single process and the helpers are no-ops.
"""

from __future__ import annotations

import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.distributed as dist
from torch import nn

from qtseg_core.device import pick_device
from qtseg_core.io import atomic_write

#: Rank 0 writes this file in the run folder at start; every other rank must see it.
SHARED_FOLDER_TOKEN = ".qtseg-shared-folder-check"
#: How long a rank looks for the token (network file systems show new files late).
SHARED_FOLDER_WAIT_S = 5.0


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


def is_main_process() -> bool:
    """True outside torchrun and on its rank 0: the one process that prints summaries."""
    return int(os.environ.get("RANK", "0")) == 0


def per_process_batch(global_batch: int, context: DistributedContext) -> int:
    """``--batch-size`` is the global batch: each of the world's processes takes its share,
    so a recipe means the same training on 1 GPU or 8."""
    if global_batch % context.world_size:
        lower = max(context.world_size, global_batch // context.world_size * context.world_size)
        raise ValueError(
            f"--batch-size {global_batch} is the global batch and does not split evenly over "
            f"{context.world_size} processes; use a multiple of {context.world_size} "
            f"(e.g. {lower} or {lower + context.world_size})."
        )
    return global_batch // context.world_size


def check_shared_folder(
    folder: Path, context: DistributedContext, needed_for: str,
    wait_s: float = SHARED_FOLDER_WAIT_S,
) -> None:
    """Fail at start, on every rank, when ``folder`` (``-o``) is not one folder for all.

    ``qtseg train``: rank 0 writes checkpoints and resume.pt there and every
    rank reads them back on resume, so with node-local folders a resumed run
    would fail on one node and hang on the other. ``qtseg predict``: each rank
    writes its share of the masks there, so node-local folders would each hold
    a part. Rank 0 writes a token file, the others look for it; ``needed_for``
    ends the message ("checkpoints and resuming need it").
    """
    if not context.enabled:
        return
    token = [uuid.uuid4().hex if context.is_main else None]
    path = Path(folder) / SHARED_FOLDER_TOKEN
    if context.is_main:
        atomic_write(path, lambda stream: stream.write(token[0].encode()))
    dist.broadcast_object_list(token, src=0)
    seen = torch.zeros(context.world_size, dtype=torch.int64, device=_comm_device(context))
    seen[context.rank] = int(context.is_main or _sees_token(path, token[0], wait_s))
    dist.all_reduce(seen)
    if context.is_main:
        path.unlink(missing_ok=True)
    blind = [rank for rank, flag in enumerate(seen.tolist()) if not flag]
    if blind:
        raise RuntimeError(
            f"The output folder {folder} is not shared between the processes: rank(s) "
            f"{', '.join(map(str, blind))} do not see the file rank 0 wrote there. Give "
            "-o/--output a folder on a file system every node mounts at the same path "
            f"(NFS, Lustre, ...); {needed_for}."
        )


def _sees_token(path: Path, token: str, wait_s: float) -> bool:
    deadline = time.monotonic() + wait_s
    while True:
        try:
            if path.read_text() == token:
                return True
        except OSError:
            pass
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.2)


def wrap_model(
    model: nn.Module, context: DistributedContext, *, sync_batchnorm: bool = False
) -> nn.Module:
    """DistributedDataParallel around ``model`` when distributed, else ``model`` itself.

    ``sync_batchnorm`` (``--sync-bn``) turns the BatchNorm layers, in place, into
    SyncBatchNorm: statistics over the global batch instead of each GPU's share
    (CUDA only; a no-op in a single process).

    Every parameter takes part in every step (a frozen encoder's gradients are
    dropped after the all-reduce, see ``loop.train_one_epoch``), so DDP can skip
    the search for unused parameters.
    """
    if not context.enabled:
        return model
    if sync_batchnorm:
        if context.device.type != "cuda":
            raise ValueError(
                f"--sync-bn needs CUDA devices (PyTorch's SyncBatchNorm); this run is on "
                f"{context.device}. Leave --sync-bn out on the CPU."
            )
        nn.SyncBatchNorm.convert_sync_batchnorm(model)  # children replaced in place
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
