"""A volume read from disk: voxels, their geometry, the display window, where it came from."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from qtseg_core.io import ImageReadError
from qtseg_core.volumes.geometry import VolumeGeometry

_AXIS = {"slice": 0, "row": 1, "col": 2}


class VolumeReadError(ImageReadError):
    """A volume file or series that cannot be used; the message names it and the fix."""

    def __init__(self, path: str | Path, reason: str) -> None:
        super().__init__(path, reason)
        self.args = (f"Cannot read volume '{self.path}': {reason}",)

    def __str__(self) -> str:
        return self.args[0]


@dataclass(frozen=True)
class DisplayWindow:
    """Window centre and width in the voxels' units (Hounsfield units for CT)."""

    center: float
    width: float

    @property
    def limits(self) -> tuple[float, float]:
        return self.center - self.width / 2, self.center + self.width / 2


@dataclass(frozen=True, eq=False)
class VolumeSource:
    """What a writer needs to give a label volume the source's own layout and references.

    format: "nifti", "dicom", "nrrd", "metaimage" or "tiff". files: the DICOM files,
    one per slice in slice order (a multi-frame file once; frame_order then gives the
    stored frame index of each slice). reversed_axes/flips: how to turn
    (slice, row, col) voxels back into the file's axis order: the axes reversed
    after ``flips`` (when the file stores (col, row, slice) like NIfTI and NRRD).
    file_geometry: the affine of the voxels in the file's own order. header: the
    format's own header (nibabel's for NIfTI) to copy into written label volumes.
    """

    path: Path
    format: str
    files: tuple[Path, ...] = ()
    series_uid: str | None = None
    frame_order: tuple[int, ...] = ()
    reversed_axes: bool = False
    flips: tuple[str, ...] = ()
    file_geometry: VolumeGeometry | None = None
    header: object | None = None


@dataclass(frozen=True, eq=False)
class Volume:
    """voxels: (slices, rows, cols) or (slices, rows, cols, C) in native units (int16 HU for
    CT, uint8/uint16/float32 otherwise); geometry maps them to the patient (LPS mm)."""

    voxels: np.ndarray
    geometry: VolumeGeometry
    source: VolumeSource
    window: DisplayWindow | None = None
    modality: str | None = None
    warnings: tuple[str, ...] = field(default=())

    @property
    def num_slices(self) -> int:
        return int(self.voxels.shape[0])

    @property
    def spacing(self) -> tuple[float, float, float]:
        """mm along (slice, row, col)."""
        return self.geometry.spacing

    def slice(self, index: int) -> np.ndarray:
        """Slice ``index`` as a 2D image (rows, cols[, C]), what the 2D model segments."""
        if not 0 <= index < self.num_slices:
            raise IndexError(
                f"slice {index} of a {self.num_slices}-slice volume ({self.source.path}).")
        return self.voxels[index]

    def to_file_order(self, labels: np.ndarray) -> np.ndarray:
        """A (slices, rows, cols) array laid out like the source file's voxels."""
        if labels.shape[:3] != self.voxels.shape[:3]:
            raise ValueError(
                f"labels of shape {labels.shape} do not match the volume {self.voxels.shape[:3]}."
            )
        for axis in self.source.flips:
            labels = np.flip(labels, axis=_AXIS[axis])
        if self.source.reversed_axes:
            labels = labels.transpose(2, 1, 0)
        return np.ascontiguousarray(labels)

    @property
    def file_geometry(self) -> VolumeGeometry:
        return self.source.file_geometry or self.geometry


def from_file_order(
    data: np.ndarray, file_geometry: VolumeGeometry
) -> tuple[np.ndarray, VolumeGeometry, tuple[str, ...]]:
    """(col, row, slice) voxels as stored by NIfTI/NRRD/ITK -> (slice, row, col) shown the
    radiological way (rows run towards Posterior, cols towards Left) by flipping in-plane
    axes that point the other way. Slices stay as acquired (no resampling)."""
    voxels = np.ascontiguousarray(np.asarray(data).transpose(2, 1, 0))
    geometry, flips = file_geometry, []
    for axis, column in (("col", 0), ("row", 1)):
        vector = geometry.affine[:3, column]
        if vector[np.argmax(np.abs(vector))] < 0:
            voxels = np.flip(voxels, axis=_AXIS[axis])
            geometry = geometry.flipped(axis, voxels.shape[_AXIS[axis]])
            flips.append(axis)
    return np.ascontiguousarray(voxels), geometry, tuple(reversed(flips))
