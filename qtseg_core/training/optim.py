"""Optimiser and learning-rate schedule of the paper's recipe, and the planner's cosine.

AdamW + StepLR (x``gamma`` every ``step_size`` epochs, never below
``min_lr``), or SGD + poly for retinal vessels, or (the training plan's)
linear warm-up over ``warmup_epochs`` then cosine decay to ``min_lr``.
Schedules step once per epoch, so resuming at an epoch boundary restores them
exactly from their state dict. A run with a time budget passes ``progress``:
the cosine then follows the elapsed fraction of the budget instead of
``epoch / epochs``, so it ends at ``min_lr`` when the time is up however fast
the machine turns out to be.
Fine-tuning adds a smaller learning rate for the encoder
(``encoder_lr_scale``, :func:`parameter_groups`); ``warmup_epochs`` ramps
every schedule up.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

import torch
from torch.optim.lr_scheduler import LambdaLR

from qtseg_core.training.config import TrainConfig


def parameter_groups(model: torch.nn.Module, config: TrainConfig) -> list[dict]:
    """The encoder's parameters at ``lr x encoder_lr_scale``, the rest at ``lr``.

    Fine-tuning moves pretrained layers less than the decoder that maps them
    to this task (discriminative learning rates).
    """
    encoder = getattr(model, "encoder", None)
    if encoder is None or config.encoder_lr_scale == 1.0:
        return [{"params": list(model.parameters())}]
    inside = {id(p) for p in encoder.parameters()}
    rest = [p for p in model.parameters() if id(p) not in inside]
    return [{"params": list(encoder.parameters()), "lr": config.lr * config.encoder_lr_scale},
            {"params": rest}]


def build_optimizer(
    parameters: Iterable[torch.nn.Parameter] | list[dict], config: TrainConfig
) -> torch.optim.Optimizer:
    """AdamW(lr, weight_decay) or SGD(lr, momentum, weight_decay) over ``parameters``.

    AdamW runs torch's fused kernel where it has one (float parameters on the CPU or
    CUDA): the same update to float rounding, in one pass over all the parameters
    instead of a dozen small operations per tensor (on the CPU, 0.35 -> 0.08 s a step
    for the paper's network; ``benchmarks/train_speed.py``).
    """
    if config.optimizer == "sgd":
        return torch.optim.SGD(
            parameters, lr=config.lr, momentum=config.momentum, weight_decay=config.weight_decay
        )
    groups = list(parameters)
    return torch.optim.AdamW(
        groups, lr=config.lr, weight_decay=config.weight_decay, fused=_fused_kernel_fits(groups)
    )


def _fused_kernel_fits(groups: list) -> bool:
    tensors = [p for g in groups for p in (g["params"] if isinstance(g, dict) else [g])]
    return all(p.is_floating_point() and p.device.type in ("cpu", "cuda") for p in tensors)


RunProgress = Callable[[int], float]  # epoch about to start -> fraction of the run done, 0..1


def lr_factor(epoch: int, config: TrainConfig, progress: float | None = None) -> float:
    """Multiplier of the base learning rate at ``epoch`` (0-based), floor ``min_lr`` included.

    ``progress`` (0..1) replaces ``epoch / epochs`` in the cosine (budgeted runs).
    """
    floor = min(1.0, config.min_lr / config.lr) if config.lr > 0 else 0.0
    if config.scheduler == "cosine":
        return _warmup_cosine(epoch, config, progress, floor)
    if config.scheduler == "step":
        factor = config.gamma ** (epoch // config.step_size)
    elif config.scheduler == "poly":
        factor = (1 - min(epoch, config.epochs - 1) / config.epochs) ** config.poly_power
    else:
        factor = 1.0
    if epoch < config.warmup_epochs:
        factor *= (epoch + 1) / (config.warmup_epochs + 1)
    return max(factor, floor)


def _warmup_cosine(epoch: int, config: TrainConfig, progress: float | None, floor: float) -> float:
    if epoch < config.warmup_epochs:
        return max(floor, (epoch + 1) / (config.warmup_epochs + 1))
    if progress is None:
        progress = (epoch - config.warmup_epochs) / max(1, config.epochs - config.warmup_epochs - 1)
    cosine = 0.5 * (1 + math.cos(math.pi * min(1.0, max(0.0, progress))))
    return floor + (1 - floor) * cosine


def build_scheduler(
    optimizer: torch.optim.Optimizer, config: TrainConfig, progress: RunProgress | None = None
) -> LambdaLR:
    """A per-epoch schedule (call ``.step()`` after each epoch); see ``lr_factor``."""
    if progress is None:
        return LambdaLR(optimizer, lambda epoch: lr_factor(epoch, config))
    return LambdaLR(optimizer, lambda epoch: lr_factor(epoch, config, progress(epoch)))
