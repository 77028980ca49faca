"""Where a volume's voxels sit in the patient: one 4x4 affine, DICOM's LPS convention.

Voxels are stored as numpy arrays ``(slice, row, col)``. The affine maps the
index column vector ``(col, row, slice, 1)`` to patient coordinates in mm, x to
the patient's Left, y to Posterior, z to Superior (LPS: DICOM and ITK; NIfTI's
RAS differs by the sign of x and y, see :func:`lps_to_ras`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

_LPS_TO_RAS = np.diag([-1.0, -1.0, 1.0, 1.0])


@dataclass(frozen=True, eq=False)
class VolumeGeometry:
    """affine: (4, 4) float64, ``(col, row, slice, 1)`` -> LPS mm."""

    affine: np.ndarray

    def __post_init__(self) -> None:
        affine = np.asarray(self.affine, dtype=np.float64)
        if affine.shape != (4, 4) or not np.all(np.isfinite(affine)):
            raise ValueError(f"a volume affine must be a finite 4x4 matrix, got {affine!r}.")
        if abs(np.linalg.det(affine[:3, :3])) < 1e-12:
            raise ValueError(f"the volume affine is singular (zero spacing?): {affine.tolist()}.")
        object.__setattr__(self, "affine", affine)

    @classmethod
    def from_parts(
        cls, spacing: Sequence[float], origin: Sequence[float], direction: np.ndarray | None = None
    ) -> VolumeGeometry:
        """spacing (slice, row, col) mm; origin LPS mm of voxel [0, 0, 0]; direction (3, 3)
        whose columns are the unit vectors of the col, row and slice axes (identity if None)."""
        direction = np.eye(3) if direction is None else np.asarray(direction, dtype=np.float64)
        affine = np.eye(4)
        affine[:3, :3] = direction * np.asarray(spacing[::-1], dtype=np.float64)
        affine[:3, 3] = origin
        return cls(affine)

    @property
    def spacing(self) -> tuple[float, float, float]:
        """Voxel size in mm along (slice, row, col), the voxel array's axis order."""
        col, row, slice_ = np.linalg.norm(self.affine[:3, :3], axis=0)
        return float(slice_), float(row), float(col)

    @property
    def origin(self) -> tuple[float, float, float]:
        """LPS position (mm) of the centre of voxel [0, 0, 0]."""
        return tuple(float(v) for v in self.affine[:3, 3])

    @property
    def direction(self) -> np.ndarray:
        """(3, 3): columns are the unit vectors of the col, row and slice axes in LPS."""
        return self.affine[:3, :3] / np.linalg.norm(self.affine[:3, :3], axis=0)

    @property
    def pixel_area_mm2(self) -> float:
        """Area of one in-plane pixel (row x col spacing), for mask areas in mm²."""
        _, row, col = self.spacing
        return row * col

    @property
    def voxel_volume_ml(self) -> float:
        """Volume of one voxel in millilitres (1 mL = 1000 mm³)."""
        return float(np.prod(self.spacing)) / 1000.0

    def slice_position(self, index: int) -> tuple[float, float, float]:
        """LPS position (mm) of the first pixel of slice ``index``."""
        return tuple(float(v) for v in self.affine @ np.array([0.0, 0.0, index, 1.0]))[:3]

    def flipped(self, axis: str, length: int) -> VolumeGeometry:
        """The geometry after reversing the "row" or "col" axis (``length`` voxels long)."""
        column = {"col": 0, "row": 1, "slice": 2}[axis]
        affine = self.affine.copy()
        affine[:3, 3] += (length - 1) * affine[:3, column]
        affine[:3, column] *= -1
        return VolumeGeometry(affine)

    def same_as(self, other: VolumeGeometry, tolerance_mm: float = 1e-3) -> bool:
        return bool(np.allclose(self.affine, other.affine, atol=tolerance_mm))


def lps_to_ras(affine: np.ndarray) -> np.ndarray:
    """An LPS affine as NIfTI's RAS affine (and back: the map is its own inverse)."""
    return _LPS_TO_RAS @ np.asarray(affine, dtype=np.float64)


ras_to_lps = lps_to_ras
