"""Volumes (CT, MRI): readers with geometry, label volume writers, per-slice prediction.

``read_volume(path)`` reads NIfTI, NRRD, MetaImage, DICOM series folders,
multi-frame DICOM and multi-page TIFF into a :class:`Volume`: voxels
(slice, row, col) in native units, a :class:`VolumeGeometry` (LPS affine,
spacing, origin, direction), the DICOM display window, and what writers need
to give a label volume the source's layout.
"""

from __future__ import annotations

from qtseg_core.volumes.geometry import VolumeGeometry
from qtseg_core.volumes.reader import (
    VOLUME_SUFFIXES,
    FolderScan,
    SeriesRef,
    is_volume_file,
    read_volume,
    scan_folder,
    volume_suffix,
)
from qtseg_core.volumes.volume import DisplayWindow, Volume, VolumeReadError, VolumeSource

__all__ = [
    "VOLUME_SUFFIXES", "DisplayWindow", "FolderScan", "SeriesRef", "Volume", "VolumeGeometry",
    "VolumeReadError", "VolumeSource", "is_volume_file", "read_volume", "scan_folder",
    "volume_suffix",
]
