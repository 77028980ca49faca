"""The per-image review table: status, who decided and when, and how far the
model's prediction was from the mask a person vouched for (Dice, IoU)."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from qtseg_core.workspace.records import ImageRecord, MaskKind, MaskVersion
from qtseg_core.workspace.workspace import Workspace

COLUMNS = ("id", "image_id", "name", "status", "reviewer", "time", "split", "model_version",
           "dice", "iou")


def agreement(prediction: np.ndarray, final: np.ndarray, num_classes: int
              ) -> tuple[float, float]:
    """Dice and IoU of ``prediction`` against ``final`` (class-index masks).

    Binary tasks score the foreground; with more classes the mean over the
    foreground classes present in either mask. Two empty masks agree fully (1.0).
    """
    if num_classes <= 2:
        return _dice_iou(prediction > 0, final > 0)
    labels = [k for k in range(1, num_classes) if (prediction == k).any() or (final == k).any()]
    if not labels:
        return 1.0, 1.0
    scores = np.array([_dice_iou(prediction == k, final == k) for k in labels])
    return float(scores[:, 0].mean()), float(scores[:, 1].mean())


def _dice_iou(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    both = int(np.logical_and(a, b).sum())
    total = int(a.sum()) + int(b.sum())
    if total == 0:
        return 1.0, 1.0
    return 2.0 * both / total, both / (total - both)


def status_row(ws: Workspace, image: ImageRecord, export_id: str) -> dict[str, object]:
    """One CSV row; Dice/IoU are blank unless a person vouched for a mask and a
    prediction exists."""
    decisions = [e for e in ws.history(image.id) if e.kind in ("status", "correction")]
    last = decisions[-1] if decisions else None
    row: dict[str, object] = {
        "id": export_id, "image_id": image.id, "name": image.name,
        "status": image.status.value, "reviewer": last.actor if last else "",
        "time": last.created_at if last else "", "split": image.split or "",
        "model_version": "", "dice": "", "iou": ""}
    prediction = _scored_prediction(ws, image)
    if prediction is not None and image.status.is_training_ready:
        final = ws.read_mask(ws.final_mask(image.id))
        dice, iou = agreement(ws.read_mask(prediction), final, len(ws.classes()[0]))
        row.update(model_version=prediction.model_version or "", dice=f"{dice:.4f}",
                   iou=f"{iou:.4f}")
    return row


def _scored_prediction(ws: Workspace, image: ImageRecord) -> MaskVersion | None:
    """The prediction the final mask was made from (or the latest one)."""
    correction = ws.latest_mask(image.id, MaskKind.CORRECTION)
    if correction is not None and correction.based_on is not None:
        return next(v for v in ws.mask_versions(image.id) if v.id == correction.based_on)
    return ws.latest_mask(image.id, MaskKind.PREDICTION)


def write_statuses_csv(ws: Workspace, path: Path, ids: dict[int, str]) -> None:
    """Write the review table of every image of ``ws`` to ``path``."""
    with open(path, "w", newline="", encoding="utf-8") as stream:
        writer = csv.DictWriter(stream, fieldnames=COLUMNS)
        writer.writeheader()
        for image in ws.images():
            writer.writerow(status_row(ws, image, ids[image.id]))
