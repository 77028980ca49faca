"""One training epoch: forward, loss, backward with gradient accumulation, mixed precision.

Batches are dicts with ``image`` (B, C, S, S) float32 in [-1, 1] and ``mask``
(B, S, S) int64 class indices (``qtseg_core.training.data``); an empty batch
(every image in it unreadable) is skipped.
"""

from __future__ import annotations

import contextlib
import math
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import torch
from torch import nn

from qtseg_core.interactive.simulation import ClickSimulation
from qtseg_core.training.losses import SegmentationLoss
from qtseg_core.training.reporting import StepMeter

CancelCheck = Callable[[], bool]


@dataclass(frozen=True)
class StepSettings:
    """How each step runs: precision, memory format, accumulation, encoder freezing, and
    the click simulation of a click-conditioned model (None: automatic training)."""

    device: torch.device
    autocast_dtype: torch.dtype | None = None  # None: float32
    channels_last: bool = False
    grad_accum_steps: int = 1
    freeze_encoder: bool = False
    click_simulation: ClickSimulation | None = None
    freeze_batchnorm: bool = False


@dataclass(frozen=True)
class EpochStats:
    """Mean training loss (and its parts) over the epoch's optimiser steps."""

    loss: float
    ce: float
    dice: float
    images: int
    images_per_s: float
    cancelled: bool = False


def step_settings(
    device: torch.device, precision: str, channels_last: bool, grad_accum_steps: int
) -> StepSettings:
    """Mixed precision and channels-last only on CUDA; a CPU run says so and uses float32."""
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(precision)
    if dtype is not None and device.type != "cuda":
        warnings.warn(
            f"precision={precision} needs CUDA; training in float32 on {device}.", stacklevel=2
        )
        dtype = None
    return StepSettings(device, dtype, channels_last and device.type == "cuda", grad_accum_steps)


def make_grad_scaler(settings: StepSettings) -> torch.amp.GradScaler | None:
    """A loss scaler for float16 (bfloat16 and float32 need none)."""
    if settings.autocast_dtype is torch.float16:
        return torch.amp.GradScaler("cuda")
    return None


def train_one_epoch(
    model: nn.Module,
    batches: Iterable[dict[str, torch.Tensor]],
    *,
    loss_fn: SegmentationLoss,
    optimizer: torch.optim.Optimizer,
    scaler: torch.amp.GradScaler | None,
    settings: StepSettings,
    meter: StepMeter,
    encoder: nn.Module | None = None,
    cancel: CancelCheck | None = None,
    on_step: Callable[[int], None] | None = None,
) -> EpochStats:
    """Run one pass over ``batches``; returns mean losses. Stops early when ``cancel()`` is true.

    ``encoder`` (the model's backbone + neck) gets its gradients dropped while
    ``settings.freeze_encoder`` is set: its weights stay put but its BatchNorm
    statistics keep updating (train mode), as in the authors' recipe. Dropping
    gradients rather than toggling ``requires_grad`` keeps DDP's set of
    parameters fixed for the whole run. ``on_step(images)`` is called after
    each optimiser step (the thread chooser times them).
    """
    model.train()
    if settings.freeze_batchnorm:
        freeze_batchnorm_statistics(model)
    optimizer.zero_grad(set_to_none=True)
    totals = {"loss": 0.0, "ce": 0.0, "dice": 0.0}
    micro, steps, images, cancelled = 0, 0, 0, False
    for batch in batches:
        if cancel is not None and cancel():
            cancelled = True
            break
        if batch["image"].shape[0] == 0:
            continue
        parts = _forward_backward(model, batch, loss_fn, scaler, settings, micro)
        _require_finite(parts["loss"], micro)
        micro, images = micro + 1, images + batch["image"].shape[0]
        for key, value in parts.items():
            totals[key] += value
        if micro % settings.grad_accum_steps == 0:
            _optimizer_step(optimizer, scaler, encoder if settings.freeze_encoder else None)
            meter.update(steps, parts["loss"], batch["image"].shape[0] * settings.grad_accum_steps)
            steps += 1
            if on_step is not None:
                on_step(batch["image"].shape[0] * settings.grad_accum_steps)
    if micro % settings.grad_accum_steps and not cancelled:  # leftover micro-batches
        _optimizer_step(optimizer, scaler, encoder if settings.freeze_encoder else None)
    count = max(1, micro)
    return EpochStats(
        totals["loss"] / count,
        totals["ce"] / count,
        totals["dice"] / count,
        images,
        meter.images_per_s,
        cancelled,
    )


class NonFiniteLossError(ValueError):
    """The training loss became NaN or infinite: the run stops before the weights are spoilt."""


def _require_finite(loss: float, micro: int) -> None:
    if not math.isfinite(loss):
        raise NonFiniteLossError(
            f"Training stopped: the loss became {loss} at batch {micro + 1} of this epoch, so "
            "the next step would fill the weights with NaN. Check the images for NaN or "
            "infinite pixels, or lower the learning rate (--lr); checkpoints already saved "
            "are kept.")


def freeze_batchnorm_statistics(model: nn.Module) -> None:
    """BatchNorm layers normalise with the statistics they were loaded with (eval mode).

    A batch of 2-4 images of a new kind gives noisy statistics that would
    overwrite those learnt on many images; the affine weights still train.
    """
    for module in model.modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm):
            module.eval()


def _forward_backward(
    model: nn.Module,
    batch: dict[str, torch.Tensor],
    loss_fn: SegmentationLoss,
    scaler: torch.amp.GradScaler | None,
    settings: StepSettings,
    micro: int,
) -> dict[str, float]:
    """Forward + backward of one micro-batch; DDP syncs gradients only on the stepping one."""
    images = batch["image"].to(settings.device, non_blocking=True)
    if settings.channels_last:
        images = images.contiguous(memory_format=torch.channels_last)
    masks = batch["mask"].to(settings.device, non_blocking=True)
    stepping = (micro + 1) % settings.grad_accum_steps == 0
    sync = (
        contextlib.nullcontext() if stepping or not hasattr(model, "no_sync") else model.no_sync()
    )
    with sync:
        with torch.autocast(
            settings.device.type,
            dtype=settings.autocast_dtype or torch.float32,
            enabled=settings.autocast_dtype is not None,
        ):
            if settings.click_simulation is not None:
                logits, masks = settings.click_simulation.forward(model, images, masks)
            else:
                logits = model(images)
        loss, parts = loss_fn(logits, masks)
        scaled = loss / settings.grad_accum_steps
        (scaler.scale(scaled) if scaler is not None else scaled).backward()
    return {"loss": float(loss.detach()), **parts}


def _optimizer_step(
    optimizer: torch.optim.Optimizer,
    scaler: torch.amp.GradScaler | None,
    frozen: nn.Module | None,
) -> None:
    if frozen is not None:
        for parameter in frozen.parameters():
            parameter.grad = None
    if scaler is not None:
        scaler.step(optimizer)
        scaler.update()
    else:
        optimizer.step()
    optimizer.zero_grad(set_to_none=True)
