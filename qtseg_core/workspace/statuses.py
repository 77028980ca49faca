"""The per-image review table: status, who decided and when, how far the
model's prediction was from the mask a person vouched for (Dice, IoU as in
:func:`qtseg_core.metrics.image_scores`: two empty masks agree fully), and the
comments (a flag's reason)."""

from __future__ import annotations

import csv
from pathlib import Path

from qtseg_core.metrics import image_scores
from qtseg_core.workspace.records import ImageRecord, MaskKind, MaskVersion
from qtseg_core.workspace.workspace import Workspace

COLUMNS = ("id", "image_id", "name", "status", "reviewer", "time", "split", "model_version",
           "dice", "iou", "comments")


def status_row(ws: Workspace, image: ImageRecord, export_id: str,
               sides: dict[int, str] | None = None) -> dict[str, object]:
    """One CSV row; Dice/IoU are blank unless a person vouched for a mask and a
    prediction exists. ``split`` is the image's side in ``sides`` (the split plan)."""
    decisions = [e for e in ws.history(image.id) if e.kind in ("status", "correction")]
    last = decisions[-1] if decisions else None
    row: dict[str, object] = {
        "id": export_id, "image_id": image.id, "name": image.name,
        "status": image.status.value, "reviewer": last.actor if last else "",
        "time": last.created_at if last else "", "split": (sides or {}).get(image.id, ""),
        "model_version": "", "dice": "", "iou": "", "comments": comments_text(ws, image.id)}
    prediction = _scored_prediction(ws, image)
    if prediction is not None and image.status.is_training_ready:
        final = ws.read_mask(ws.final_mask(image.id))
        scores = image_scores(ws.read_mask(prediction), final, len(ws.classes()[0]))
        row.update(model_version=prediction.model_version or "",
                   dice=f"{scores['dice']:.4f}", iou=f"{scores['iou']:.4f}")
    return row


def comments_text(ws: Workspace, image_id: int) -> str:
    """The image's comments, oldest first: "author: text" joined by " | "."""
    return " | ".join(f"{c.author or 'unnamed'}: {c.text}" for c in ws.comments(image_id))


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
        sides = ws.split_plan().sides
        for image in ws.images():
            writer.writerow(status_row(ws, image, ids[image.id], sides))
