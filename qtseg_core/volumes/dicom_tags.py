"""Geometry and display window from DICOM attributes (plain or functional-group)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from qtseg_core.volumes.geometry import VolumeGeometry
from qtseg_core.volumes.volume import DisplayWindow, VolumeReadError

#: Relative spread of slice gaps above which a series is flagged (missing slice, tilt).
GAP_TOLERANCE = 0.05


def slice_geometry(
    dataset: object, positions: Sequence[np.ndarray], where: Path, *,
    orientation: Sequence[float] | None = None, pixel_spacing: Sequence[float] | None = None,
) -> tuple[VolumeGeometry, tuple[str, ...]]:
    """The affine of slices at ``positions`` (LPS mm of each slice's first pixel, in order).

    Columns: row direction x column spacing, column direction x row spacing, and the
    mean step between slices (along the normal x SliceThickness for one slice)."""
    orientation = orientation if orientation is not None else dataset.get(
        "ImageOrientationPatient", [1, 0, 0, 0, 1, 0])
    spacing = pixel_spacing if pixel_spacing is not None else _pixel_spacing(dataset, where)
    row_dir, col_dir = np.array(orientation, dtype=np.float64).reshape(2, 3)
    affine = np.eye(4)
    affine[:3, 0] = row_dir * float(spacing[1])  # along a row: the column index grows
    affine[:3, 1] = col_dir * float(spacing[0])
    affine[:3, 2], warnings = _slice_step(dataset, positions, np.cross(row_dir, col_dir))
    affine[:3, 3] = positions[0]
    return VolumeGeometry(affine), warnings


def _slice_step(dataset: object, positions: Sequence[np.ndarray], normal: np.ndarray
                ) -> tuple[np.ndarray, tuple[str, ...]]:
    if len(positions) == 1:
        thickness = float(dataset.get("SpacingBetweenSlices") or dataset.get("SliceThickness")
                          or 1.0)
        return normal * thickness, ()
    steps = np.diff(np.asarray(positions), axis=0)
    gaps = np.linalg.norm(steps, axis=1)
    warnings: tuple[str, ...] = ()
    if gaps.max() - gaps.min() > GAP_TOLERANCE * gaps.mean():
        warnings = (f"slice gaps vary from {gaps.min():.2f} to {gaps.max():.2f} mm (a missing "
                    "slice?); the volume uses their mean, so distances in mm are approximate.",)
    return (positions[-1] - positions[0]) / (len(positions) - 1), warnings


def _pixel_spacing(dataset: object, where: Path) -> tuple[float, float]:
    """(row spacing, column spacing) mm: PixelSpacing, else ImagerPixelSpacing, else 1."""
    for keyword in ("PixelSpacing", "ImagerPixelSpacing"):
        value = dataset.get(keyword)
        if value:
            row, col = (float(v) for v in value)
            if row <= 0 or col <= 0:
                raise VolumeReadError(where, f"{keyword} {list(value)} is not positive.")
            return row, col
    return 1.0, 1.0


def dicom_window(dataset: object) -> DisplayWindow | None:
    """The first WindowCenter/WindowWidth pair (the scanner's default view), if any."""
    center, width = _first(dataset.get("WindowCenter")), _first(dataset.get("WindowWidth"))
    if center is None or width is None or width <= 0:
        return None
    return DisplayWindow(center, width)


def _first(value: object) -> float | None:
    if value is None or value == "":
        return None
    try:
        return float(value[0] if isinstance(value, Sequence) and not isinstance(value, str)
                     else value)
    except (TypeError, ValueError, IndexError):
        return None
