"""Which torch device runs the model: one rule for the CLI, training and the app."""

from __future__ import annotations

import torch


def pick_device(requested: str | None, local_rank: int = 0) -> torch.device:
    """``requested`` ("cpu", "cuda", "cuda:1", "mps"), else the process's GPU if any, else CPU."""
    if requested:
        device = torch.device(requested)
        if device.type == "cuda" and not torch.cuda.is_available():
            raise RuntimeError(
                f"Device {requested!r} requested but CUDA is not available here; "
                "use --device cpu, or leave the device out to pick one automatically."
            )
        return device
    if torch.cuda.is_available():
        return torch.device("cuda", local_rank)
    return torch.device("cpu")
