"""Spacing-aware scores for ``qtseg eval``: HD95 and surface Dice per slice and per volume.

Slices of volumes (nnU-Net, Decathlon) are measured in mm with the volume's
spacing; 2D images in pixels. Per volume, the slices of one case (consecutive
in the data set's order) are stacked and scored in 3D: Dice, HD95, surface Dice.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from qtseg_core.data.samples import Sample
from qtseg_core.data.volume_slices import volume_spacing
from qtseg_core.surface_metrics import hd95, surface_dice

#: Default surface Dice tolerance (mm; pixels for 2D images).
DEFAULT_TOLERANCE_MM = 2.0
BOUNDARY_KEYS = ("hd95", "nsd", "distance_unit")


def boundary_scores(prediction: np.ndarray, truth: np.ndarray, num_classes: int,
                    tolerance: float, spacing: Sequence[float] | None) -> dict[str, float]:
    """Mean over foreground classes present in either mask of HD95 and NSD (NaN if none)."""
    hds, nsds = [], []
    for label in range(1, num_classes):
        pred, true = prediction == label, truth == label
        if pred.any() or true.any():
            hds.append(hd95(pred, true, spacing))
            nsds.append(surface_dice(pred, true, tolerance, spacing))
    return {"hd95": _mean(hds), "nsd": _mean(nsds)}


def slice_scores(sample: Sample, prediction: np.ndarray, truth: np.ndarray, num_classes: int,
                 tolerance: float) -> dict[str, Any]:
    spacing = volume_spacing(sample)
    in_plane = spacing[1:] if spacing is not None else None
    scores = boundary_scores(prediction, truth, num_classes, tolerance, in_plane)
    return {**scores, "distance_unit": "mm" if spacing is not None else "px"}


class VolumeScores:
    """Collects the slices of each volume (``Sample.group`` with ``slice_index``) and scores
    each volume in 3D once its last slice has arrived."""

    def __init__(self, num_classes: int, tolerance: float) -> None:
        self.num_classes, self.tolerance = num_classes, tolerance
        self.rows: list[dict[str, Any]] = []
        self._group: str | None = None
        self._slices: list[tuple[int, np.ndarray, np.ndarray]] = []
        self._sample: Sample | None = None

    def add(self, sample: Sample, prediction: np.ndarray, truth: np.ndarray) -> None:
        if sample.slice_index is None or sample.group is None:
            return
        if sample.group != self._group:
            self.finish()
            self._group, self._sample = sample.group, sample
        self._slices.append((sample.slice_index, prediction.astype(np.uint8), truth))

    def finish(self) -> list[dict[str, Any]]:
        """Score the volume being collected (if any); returns all volume rows so far."""
        if self._slices and self._sample is not None:
            self.rows.append(self._score())
        self._slices, self._group = [], None
        return self.rows

    def _score(self) -> dict[str, Any]:
        ordered = sorted(self._slices, key=lambda item: item[0])
        prediction = np.stack([p for _, p, _ in ordered])
        truth = np.stack([t for _, _, t in ordered])
        spacing = volume_spacing(self._sample)
        dice = _volume_dice(prediction, truth, self.num_classes)
        scores = boundary_scores(prediction, truth, self.num_classes, self.tolerance, spacing)
        return {"volume": self._group, "slices": len(ordered), "dice": dice, **scores}


def summarize_boundary(rows: Sequence[dict[str, Any]], tolerance: float) -> dict[str, Any]:
    """Mean HD95 over finite values (the count of missed cases beside it) and mean NSD x100."""
    hds = [r["hd95"] for r in rows if not math.isnan(r["hd95"])]
    nsds = [r["nsd"] for r in rows if not math.isnan(r["nsd"])]
    finite = [h for h in hds if math.isfinite(h)]
    units = sorted({r.get("distance_unit", "mm") for r in rows})
    return {
        "hd95": _json_number(_mean(finite)), "hd95_infinite": len(hds) - len(finite),
        "nsd": _json_number(100.0 * _mean(nsds)), "tolerance": tolerance,
        "unit": "/".join(units), "scored": len(hds),
    }


def _json_number(value: float) -> float | None:
    """NaN (nothing scored) as None, which JSON can hold."""
    return None if math.isnan(value) else value


def _volume_dice(prediction: np.ndarray, truth: np.ndarray, num_classes: int) -> float:
    values = []
    for label in range(1, num_classes):
        pred, true = prediction == label, truth == label
        total = int(pred.sum() + true.sum())
        values.append(1.0 if total == 0 else 2.0 * int((pred & true).sum()) / total)
    return float(np.mean(values))


def _mean(values: Sequence[float]) -> float:
    return float(np.mean(values)) if len(values) else float("nan")
