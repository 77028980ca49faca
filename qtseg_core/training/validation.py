"""Validation during training: the paper's per-image scores on the letterboxed canvas, x100.

Runs the plain network (not the DDP wrapper: no collective calls per batch, so
ranks may hold different numbers of validation images) on this process's
shard; per-image score sums and the image count are then added over processes,
so every rank gets the same exact means.

A click-conditioned model (``config.click_inputs``) serves annotators who
click, so its validation also runs the robot user of
``benchmarks/annotation_effort.py`` on each canvas: after 1 and 3 corrective
clicks (each on the largest error, the model re-run with its previous mask and
the clicks) the foreground Dice is scored again; ``val_click_dice``, the mean
of the Dice after 0, 1 and 3 clicks, is what picks its best epoch
(:func:`selection_score`). The automatic ``val_dice`` stays reported.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.utils.data import DataLoader

from qtseg_core.interactive.robot import next_click
from qtseg_core.interactive.simulation import click_inputs
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


#: The robot's corrective clicks after which a click-conditioned model is scored.
VALIDATION_CLICKS = (1, 3)


def selection_score(scores: dict[str, float]) -> float:
    """What picks the best epoch: ``val_click_dice`` for a click-conditioned model, else
    ``val_dice``."""
    return scores.get("val_click_dice", scores["val_dice"])


def validate_clicks(
    model: nn.Module, loader: DataLoader, settings: StepSettings, context: DistributedContext
) -> dict[str, float]:
    """Foreground Dice (x100) after the robot's clicks: ``val_dice_1_click``,
    ``val_dice_3_clicks`` and ``val_click_dice`` (mean over 0, 1 and 3 clicks)."""
    counts = (0, *VALIDATION_CLICKS)
    sums, images = [0.0] * len(counts), 0
    model.eval()
    with torch.inference_mode():
        for batch in loader:
            if batch["image"].shape[0] == 0:
                continue
            dice = _dice_after_clicks(model, batch, settings, counts)
            sums = [total + float(d.sum()) for total, d in zip(sums, dice, strict=True)]
            images += int(batch["image"].shape[0])
    model.train()
    totals = sum_across_processes([*sums, float(images)], context)
    means = [100.0 * total / max(1.0, totals[-1]) for total in totals[:-1]]
    return {
        "val_dice_1_click": means[1],
        "val_dice_3_clicks": means[2],
        "val_click_dice": sum(means) / len(means),
    }


def _dice_after_clicks(
    model: nn.Module, batch: dict, settings: StepSettings, counts: tuple[int, ...]
) -> list[torch.Tensor]:
    """Per-image foreground Dice (B,) after each number of robot clicks in ``counts``."""
    truth = batch["mask"] > 0  # B x S x S
    previous = _predict(model, batch["image"], settings).cpu() > 0
    clicks: list[list] = [[] for _ in range(truth.shape[0])]
    dice = [_foreground_dice(previous, truth)]
    for done in range(1, max(counts) + 1):
        for index, sample_clicks in enumerate(clicks):
            click = next_click(previous[index].numpy(), truth[index].numpy())
            if click is not None:
                sample_clicks.append(click)
        maps = click_inputs(previous, clicks)
        previous = _predict(model, batch["image"], settings, maps).cpu() > 0
        if done in counts:
            dice.append(_foreground_dice(previous, truth))
    return dice


def _foreground_dice(prediction: torch.Tensor, truth: torch.Tensor) -> torch.Tensor:
    return batch_scores(prediction.long(), truth.long(), num_classes=2)["dice"]


def _predict(
    model: nn.Module, images: torch.Tensor, settings: StepSettings,
    clicks: torch.Tensor | None = None,
) -> torch.Tensor:
    """(B, C, S, S) canvases (and B x 3 x S x S click inputs) -> (B, S, S) argmax classes."""
    images = images.to(settings.device, non_blocking=True)
    if settings.channels_last:
        images = images.contiguous(memory_format=torch.channels_last)
    with torch.autocast(
        settings.device.type,
        dtype=settings.autocast_dtype or torch.float32,
        enabled=settings.autocast_dtype is not None,
    ):
        logits = model(images) if clicks is None else model(images, clicks.to(settings.device))
    return logits.argmax(dim=1)
