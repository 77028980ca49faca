"""The resumable training state (``resume.pt``) and the random state it carries.

Model weights for users live in ``last.safetensors`` / ``best.safetensors``
(``qtseg_core.checkpoint``). ``resume.pt`` is the training-only companion:
model, optimiser, scheduler and scaler state, the next epoch, early-stopping
counters and every random generator. It holds only tensors and plain Python
values so that it loads with ``torch.load(weights_only=True)`` - loading it can
never run code from the file.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from qtseg_core.checkpoint_checks import torch_load_weights_only
from qtseg_core.io import atomic_write

RESUME_FILE = "resume.pt"


def capture_rng_state() -> dict[str, Any]:
    """Python, NumPy, torch (CPU and every CUDA device) generators as tensors and plain values."""
    version, mt_state, gauss = random.getstate()
    kind, keys, position, has_gauss, cached_gauss = np.random.get_state()
    state: dict[str, Any] = {
        "python": {"version": version, "state": torch.tensor(mt_state), "gauss": gauss},
        "numpy": {
            "kind": kind,
            "keys": torch.from_numpy(keys.astype(np.int64)),
            "position": int(position),
            "has_gauss": int(has_gauss),
            "cached_gauss": float(cached_gauss),
        },
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng_state(state: dict[str, Any]) -> None:
    """Inverse of ``capture_rng_state``."""
    python = state["python"]
    random.setstate((python["version"], tuple(python["state"].tolist()), python["gauss"]))
    numpy_state = state["numpy"]
    np.random.set_state(
        (
            numpy_state["kind"],
            numpy_state["keys"].numpy().astype(np.uint32),
            numpy_state["position"],
            numpy_state["has_gauss"],
            numpy_state["cached_gauss"],
        )
    )
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (all devices) from one integer."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


@dataclass
class TrainingProgress:
    """Counters that decide what happens next: the epoch to run, the best score so far."""

    next_epoch: int = 0
    best_val_dice: float = -1.0
    best_epoch: int = -1
    epochs_without_improvement: int = 0
    history: list[dict[str, float]] = field(default_factory=list)
    training_seconds: float = 0.0  # time spent so far, for a run with a time budget

    def record(self, epoch: int, val_dice: float) -> bool:
        """Note an epoch's validation Dice; True when it is the best so far."""
        self.next_epoch = epoch + 1
        improved = val_dice > self.best_val_dice
        if improved:
            self.best_val_dice, self.best_epoch = val_dice, epoch
            self.epochs_without_improvement = 0
        else:
            self.epochs_without_improvement += 1
        return improved

    def to_dict(self) -> dict[str, Any]:
        return dict(vars(self))


def save_training_state(
    path: Path,
    *,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: Any,
    scaler: torch.amp.GradScaler | None,
    progress: TrainingProgress,
    average: dict[str, Any] | None = None,
) -> None:
    """Write ``resume.pt`` through :func:`qtseg_core.io.atomic_write`; a crash keeps the old one.

    ``average``: the weight average's state (``WeightAverage.state_dict``), when the run keeps one.
    """
    payload = {
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict(),
        "scaler": scaler.state_dict() if scaler is not None else {},
        "progress": progress.to_dict(),
        "rng": capture_rng_state(),
        "average": average or {},
    }
    atomic_write(path, lambda stream: torch.save(payload, stream))


_RESUME_KEYS = {"model", "optimizer", "scheduler", "scaler", "progress", "rng"}


def load_training_state(path: Path) -> dict[str, Any]:
    """Read ``resume.pt`` safely (``weights_only=True``) with a clear error when it is missing."""
    if not path.is_file():
        raise FileNotFoundError(
            f"No {RESUME_FILE} in {path.parent}: this run cannot be resumed "
            "(was it started by `qtseg train`, and did it finish at least one epoch?)."
        )
    payload = torch_load_weights_only(path, f"the {RESUME_FILE} of a qtseg train run")
    if not isinstance(payload, dict) or not _RESUME_KEYS <= set(payload):
        raise ValueError(
            f"{path} is not the {RESUME_FILE} of a qtseg train run (it lacks "
            f"{sorted(_RESUME_KEYS - set(payload if isinstance(payload, dict) else ()))}); "
            "start the run again without --resume.")
    return payload


def restore_training_state(
    payload: dict[str, Any],
    *,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: Any,
    scaler: torch.amp.GradScaler | None,
) -> TrainingProgress:
    """Put the saved state back into freshly built objects; returns the progress counters."""
    model.load_state_dict(payload["model"])
    optimizer.load_state_dict(payload["optimizer"])
    scheduler.load_state_dict(payload["scheduler"])
    if scaler is not None and payload["scaler"]:
        scaler.load_state_dict(payload["scaler"])
    restore_rng_state(payload["rng"])
    return TrainingProgress(**payload["progress"])
