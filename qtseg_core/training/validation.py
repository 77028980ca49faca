"""Validation during training: the paper's per-image scores on the letterboxed canvas, x100.

Runs the plain network (not the DDP wrapper: no collective calls per batch, so
ranks may hold different numbers of validation images) on this process's
shard; per-image score sums and the image count are then added over processes,
so every rank gets the same exact means.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.utils.data import DataLoader

from qtseg_core.metrics import METRIC_NAMES, batch_scores
from qtseg_core.training.distributed import DistributedContext, sum_across_processes
from qtseg_core.training.loaders import SkipLog
from qtseg_core.training.loop import StepSettings


def validate(
    model: nn.Module,
    loader: DataLoader,
    settings: StepSettings,
    context: DistributedContext,
    num_classes: int,
    skips: SkipLog | None = None,
) -> dict[str, float]:
    """Mean per-image ``val_dice``, ``val_iou``, ``val_accuracy``, ``val_mae`` (x100).

    Unreadable validation images are left out (and noted in ``skips``).
    """
    sums = dict.fromkeys(METRIC_NAMES, 0.0)
    count = 0
    model.eval()
    with torch.inference_mode():
        for batch in loader:
            if skips is not None:
                skips.add(batch["skipped"], announce=context.is_main)
            if batch["image"].shape[0] == 0:
                continue
            scores = batch_scores(
                _predict(model, batch["image"], settings).cpu(), batch["mask"], num_classes
            )
            for name in METRIC_NAMES:
                sums[name] += float(scores[name].sum())
            count += int(batch["image"].shape[0])
    model.train()
    totals = sum_across_processes([*sums.values(), float(count)], context)
    images = max(1.0, totals[-1])
    return {
        f"val_{name}": 100.0 * total / images
        for name, total in zip(METRIC_NAMES, totals[:-1], strict=True)
    }


def _predict(model: nn.Module, images: torch.Tensor, settings: StepSettings) -> torch.Tensor:
    """(B, C, S, S) canvases -> (B, S, S) argmax class indices."""
    images = images.to(settings.device, non_blocking=True)
    if settings.channels_last:
        images = images.contiguous(memory_format=torch.channels_last)
    with torch.autocast(
        settings.device.type,
        dtype=settings.autocast_dtype or torch.float32,
        enabled=settings.autocast_dtype is not None,
    ):
        logits = model(images)
    return logits.argmax(dim=1)
