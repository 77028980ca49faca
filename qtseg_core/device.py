"""Which torch device runs the model: one rule for the CLI, training and the app."""

from __future__ import annotations

import os

import torch


def pick_device(requested: str | None, local_rank: int | None = None) -> torch.device:
    """``requested`` ("cpu", "cuda", "cuda:1", "mps"), else the process's GPU if any, else CPU.

    Under torchrun each process owns the GPU of its ``LOCAL_RANK``: a bare
    "cuda" (or no request) means ``cuda:LOCAL_RANK``, so four ranks on a node
    use four GPUs instead of all sharing ``cuda:0``. An explicit index
    ("cuda:1") is kept as given. ``local_rank`` overrides the environment.
    """
    if local_rank is None:
        local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if requested:
        device = torch.device(requested)
        if device.type == "cuda" and not torch.cuda.is_available():
            raise RuntimeError(
                f"Device {requested!r} requested but CUDA is not available here; "
                "use --device cpu, or leave the device out to pick one automatically."
            )
        if device.type == "cuda" and device.index is None:
            return _rank_gpu(local_rank)
        return device
    if torch.cuda.is_available():
        return _rank_gpu(local_rank)
    return torch.device("cpu")


def _rank_gpu(local_rank: int) -> torch.device:
    count = torch.cuda.device_count()
    if local_rank >= count:
        raise RuntimeError(
            f"LOCAL_RANK={local_rank} but this node has {count} GPU(s); start at most "
            f"{count} process(es) per node (torchrun --nproc-per-node {count})."
        )
    return torch.device("cuda", local_rank)
