"""Optimiser and learning-rate schedule of the paper's recipe.

AdamW + StepLR (x``gamma`` every ``step_size`` epochs, never below
``min_lr``), or SGD + poly for retinal vessels. Schedules step once per epoch,
so resuming at an epoch boundary restores them exactly from their state dict.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch.optim.lr_scheduler import LambdaLR

from qtseg_core.training.config import TrainConfig


def build_optimizer(
    parameters: Iterable[torch.nn.Parameter], config: TrainConfig
) -> torch.optim.Optimizer:
    """AdamW(lr, weight_decay) or SGD(lr, momentum, weight_decay) over ``parameters``."""
    if config.optimizer == "sgd":
        return torch.optim.SGD(
            parameters, lr=config.lr, momentum=config.momentum, weight_decay=config.weight_decay
        )
    return torch.optim.AdamW(parameters, lr=config.lr, weight_decay=config.weight_decay)


def lr_factor(epoch: int, config: TrainConfig) -> float:
    """Multiplier of the base learning rate at ``epoch`` (0-based), floor ``min_lr`` included."""
    if config.scheduler == "step":
        factor = config.gamma ** (epoch // config.step_size)
    elif config.scheduler == "poly":
        factor = (1 - min(epoch, config.epochs - 1) / config.epochs) ** config.poly_power
    else:
        factor = 1.0
    floor = min(1.0, config.min_lr / config.lr) if config.lr > 0 else 0.0
    return max(factor, floor)


def build_scheduler(optimizer: torch.optim.Optimizer, config: TrainConfig) -> LambdaLR:
    """A per-epoch schedule (call ``.step()`` after each epoch)."""
    return LambdaLR(optimizer, lambda epoch: lr_factor(epoch, config))
