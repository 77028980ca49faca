"""Boundary metrics with physical spacing: HD95 and surface Dice (NSD) at a tolerance in mm.

Definitions as in MONAI (``compute_hausdorff_distance(percentile=95)``,
``compute_surface_dice`` without sub-voxels) and Nikolov et al. 2021
(arXiv:2111.05408), for 2D slices and 3D volumes alike:

- the boundary of a mask is its pixels removed by one binary erosion (4- or
  6-connected structuring element), so a mask touching the image border has
  a boundary there;
- d(p, B) is the Euclidean distance in mm (``spacing`` per axis) from a
  boundary pixel p of one mask to the nearest boundary pixel of the other;
- HD95 = max(95th percentile of d(pred -> gt), 95th percentile of d(gt -> pred));
- NSD(tau) = (#pred boundary with d <= tau + #gt boundary with d <= tau) /
  (#pred boundary + #gt boundary).

Both masks empty: NaN (nothing to measure; left out of means). One empty:
HD95 = inf, NSD = 0.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import ndimage


def boundary(mask: np.ndarray) -> np.ndarray:
    """Pixels of ``mask`` (bool, 2D or 3D) that one erosion removes."""
    mask = np.asarray(mask, dtype=bool)
    return mask & ~ndimage.binary_erosion(mask)


def boundary_distances(
    prediction: np.ndarray, truth: np.ndarray, spacing: Sequence[float] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(d(pred boundary -> gt boundary), d(gt boundary -> pred boundary)) in mm, 1-D arrays.

    An empty side gives an empty array; distances to an empty side are inf."""
    spacing = _spacing(prediction, spacing)
    edges_pred, edges_true = boundary(prediction), boundary(truth)
    return (_distances(edges_pred, edges_true, spacing),
            _distances(edges_true, edges_pred, spacing))


def hd95(prediction: np.ndarray, truth: np.ndarray,
         spacing: Sequence[float] | None = None) -> float:
    """95th-percentile symmetric Hausdorff distance in mm (NaN both empty, inf one empty)."""
    to_truth, to_prediction = boundary_distances(prediction, truth, spacing)
    if to_truth.size == 0 and to_prediction.size == 0:
        return float("nan")
    if to_truth.size == 0 or to_prediction.size == 0:
        return float("inf")
    return float(max(np.percentile(to_truth, 95), np.percentile(to_prediction, 95)))


def surface_dice(prediction: np.ndarray, truth: np.ndarray, tolerance_mm: float,
                 spacing: Sequence[float] | None = None) -> float:
    """Fraction of both boundaries within ``tolerance_mm`` of the other (NaN both empty)."""
    if not np.isfinite(tolerance_mm) or tolerance_mm < 0:
        raise ValueError(f"tolerance_mm={tolerance_mm}: give a finite distance >= 0 in mm.")
    to_truth, to_prediction = boundary_distances(prediction, truth, spacing)
    total = to_truth.size + to_prediction.size
    if total == 0:
        return float("nan")
    within = np.count_nonzero(to_truth <= tolerance_mm) + np.count_nonzero(
        to_prediction <= tolerance_mm)
    return float(within / total)


def _distances(source: np.ndarray, target: np.ndarray, spacing: tuple[float, ...]) -> np.ndarray:
    if not source.any():
        return np.zeros(0)
    if not target.any():
        return np.full(int(source.sum()), np.inf)
    return ndimage.distance_transform_edt(~target, sampling=spacing)[source]


def _spacing(mask: np.ndarray, spacing: Sequence[float] | None) -> tuple[float, ...]:
    if spacing is None:
        return (1.0,) * mask.ndim
    spacing = tuple(float(s) for s in spacing)
    if len(spacing) != mask.ndim or min(spacing) <= 0:
        raise ValueError(f"spacing {spacing} must give one positive mm value per axis of the "
                         f"{mask.ndim}D mask (slice, row, col order for volumes).")
    return spacing
