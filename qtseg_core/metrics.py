"""The paper's metrics: per-image Dice, IoU, accuracy and MAE, averaged over images x100.

Per image and per foreground class c (one-vs-rest; class 1 only for a binary
task), the prediction is binarised (argmax of logits or probabilities, or a
class-index mask as given) and compared with the ground truth:

    Dice = 2TP / (2TP + FP + FN)     IoU = TP / (TP + FP + FN)
    Acc  = (TP + TN) / all           MAE = mean |pred - gt| = (FP + FN) / all

An image with no class c in the ground truth and none predicted scores
Dice = IoU = 1, as in the authors' code. (Their code also replaces TP = 0 by
1, which gives a missed lesion a small non-zero Dice; here it scores 0.) A
multi-class image's score is the mean over its foreground classes, and
``"dice/<c>"`` etc. keep each class. The data-set figure is the mean of the
per-image values x100 (:func:`summarize`).

numpy for evaluation (:func:`image_scores`), torch for validation during
training (:func:`batch_scores`, :func:`batch_dice`), with the same numbers.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np
import torch

METRIC_NAMES = ("dice", "iou", "accuracy", "mae")


def as_class_mask(prediction: np.ndarray) -> np.ndarray:
    """(H, W) class indices as given; (N, H, W) logits or probabilities -> argmax over N.

    A single channel (1, H, W) is a foreground probability (> 0.5) when it lies
    in [0, 1], else a logit (> 0).
    """
    if prediction.ndim == 2:
        return prediction
    if prediction.ndim != 3:
        raise ValueError(
            f"Prediction of shape {prediction.shape}: give an (H, W) class-index mask or "
            "(N, H, W) logits / probabilities."
        )
    if prediction.shape[0] == 1:
        in_unit_range = prediction.min() >= 0 and prediction.max() <= 1
        return (prediction[0] > (0.5 if in_unit_range else 0.0)).astype(np.uint8)
    return prediction.argmax(axis=0)


def binary_scores(tp: float, fp: float, tn: float, fn: float) -> dict[str, float]:
    """Dice, IoU, accuracy and MAE (all in [0, 1]) from one image's confusion counts."""
    total = tp + fp + tn + fn
    union = tp + fp + fn
    return {
        "dice": 1.0 if union == 0 else 2 * tp / (2 * tp + fp + fn),
        "iou": 1.0 if union == 0 else tp / union,
        "accuracy": (tp + tn) / total,
        "mae": (fp + fn) / total,
    }


def image_scores(
    pred_mask: np.ndarray, gt_mask: np.ndarray, num_classes: int = 2
) -> dict[str, float]:
    """Scores of one image: ``dice``, ``iou``, ``accuracy``, ``mae`` in [0, 1].

    ``pred_mask``: (H, W) class indices, or (N, H, W) logits / probabilities;
    ``gt_mask``: (H, W) class indices. With more than two classes the result
    also has ``"dice/1"``, ``"iou/1"``, ... per foreground class.
    """
    pred = as_class_mask(np.asarray(pred_mask))
    gt = np.asarray(gt_mask)
    if pred.shape != gt.shape:
        raise ValueError(
            f"Prediction {pred.shape} and ground truth {gt.shape} differ in size; restore the "
            "prediction to the image size (Letterbox.restore) or compare on the canvas."
        )
    per_class = {c: binary_scores(*_counts(pred == c, gt == c)) for c in range(1, num_classes)}
    return _combine(per_class)


def _counts(pred: np.ndarray, gt: np.ndarray) -> tuple[int, int, int, int]:
    tp = int(np.count_nonzero(pred & gt))
    fp = int(np.count_nonzero(pred)) - tp
    fn = int(np.count_nonzero(gt)) - tp
    return tp, fp, gt.size - tp - fp - fn, fn


def _combine(per_class: Mapping[int, Mapping[str, float]]) -> dict[str, float]:
    """Mean over foreground classes, plus ``name/c`` entries when there are several."""
    scores = {name: float(np.mean([s[name] for s in per_class.values()])) for name in METRIC_NAMES}
    if len(per_class) > 1:
        for c, class_scores in per_class.items():
            scores.update({f"{name}/{c}": float(v) for name, v in class_scores.items()})
    return scores


def summarize(rows: Iterable[Mapping[str, object]]) -> dict[str, float]:
    """Data-set figures: the mean over images of every numeric score, x100 (as the paper)."""
    values: dict[str, list[float]] = {}
    for row in rows:
        for key, value in row.items():
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                values.setdefault(key, []).append(float(value))
    return {key: 100.0 * float(np.mean(column)) for key, column in values.items()}


class ScoreTable:
    """Per-image scores of an evaluation, their summary (x100), and a CSV of both."""

    def __init__(self, num_classes: int = 2) -> None:
        self.num_classes = num_classes
        self.rows: list[dict[str, object]] = []

    def add(self, image_id: str, pred_mask: np.ndarray, gt_mask: np.ndarray) -> dict[str, float]:
        """Score one image, remember the row, and return its scores."""
        scores = image_scores(pred_mask, gt_mask, self.num_classes)
        self.rows.append({"id": image_id, **scores})
        return scores

    def summary(self) -> dict[str, float]:
        return summarize(self.rows)

    def write_csv(self, path: str | os.PathLike) -> Path:
        """One line per image (scores in [0, 1]) and a last ``mean x100`` line."""
        path = Path(path)
        columns = ["id", *dict.fromkeys(k for row in self.rows for k in row if k != "id")]
        with open(path, "w", newline="", encoding="utf-8") as stream:
            writer = csv.DictWriter(stream, fieldnames=columns)
            writer.writeheader()
            writer.writerows(self.rows)
            writer.writerow({"id": "mean x100", **self.summary()})
        return path


@torch.no_grad()
def batch_scores(
    prediction: torch.Tensor, gt: torch.Tensor, num_classes: int = 2
) -> dict[str, torch.Tensor]:
    """Per-image scores of a batch, each a float64 tensor (B,), equal to :func:`image_scores`.

    ``prediction``: (B, H, W) class indices or (B, N, H, W) logits / probabilities;
    ``gt``: (B, H, W) class indices. Multi-class: mean over foreground classes.
    """
    pred = prediction.argmax(dim=1) if prediction.dim() == 4 else prediction
    if pred.shape != gt.shape:
        raise ValueError(
            f"Prediction {tuple(pred.shape)} and ground truth {tuple(gt.shape)} differ."
        )
    per_class = [_batch_binary(pred == c, gt == c) for c in range(1, num_classes)]
    return {name: torch.stack([s[name] for s in per_class]).mean(0) for name in METRIC_NAMES}


def _batch_binary(pred: torch.Tensor, gt: torch.Tensor) -> dict[str, torch.Tensor]:
    """(B, H, W) booleans -> per-image scores (B,) float64."""
    pred, gt = pred.flatten(1), gt.flatten(1)
    tp = (pred & gt).sum(1).double()
    fp = pred.sum(1).double() - tp
    fn = gt.sum(1).double() - tp
    union, total = tp + fp + fn, float(pred.shape[1])
    empty = union == 0
    return {
        "dice": torch.where(empty, 1.0, 2 * tp / (2 * tp + fp + fn).clamp(min=1)),
        "iou": torch.where(empty, 1.0, tp / union.clamp(min=1)),
        "accuracy": (total - fp - fn) / total,
        "mae": (fp + fn) / total,
    }


def batch_dice(prediction: torch.Tensor, gt: torch.Tensor, num_classes: int = 2) -> torch.Tensor:
    """Per-image Dice (B,) of a batch; see :func:`batch_scores`."""
    return batch_scores(prediction, gt, num_classes)["dice"]
