"""Multi-page (and OME-) TIFF stacks through tifffile: each page one slice."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from qtseg_core.volumes.geometry import VolumeGeometry
from qtseg_core.volumes.volume import Volume, VolumeReadError, VolumeSource


def tiff_pages(path: Path) -> int:
    """Number of images in a TIFF (series pages), 0 when tifffile cannot open it."""
    import tifffile

    try:
        with tifffile.TiffFile(path) as tiff:
            series = tiff.series[0]
            return int(np.prod(series.shape[:-2])) if len(series.shape) > 2 and \
                series.shape[-1] not in (3, 4) else len(tiff.pages)
    except Exception:  # tifffile raises many types on broken files
        return 0


def read_tiff_stack(path: Path) -> Volume:
    """(pages, rows, cols) voxels; spacing from OME PhysicalSize when present, else 1 mm."""
    import tifffile

    try:
        with tifffile.TiffFile(path) as tiff:
            data = tiff.series[0].asarray()
            spacing = _ome_spacing(tiff)
    except Exception as error:  # tifffile raises many types on broken files
        raise VolumeReadError(path, f"not a readable TIFF stack ({type(error).__name__}: "
                              f"{error}).") from error
    if data.ndim == 2:
        data = data[None]
    if data.ndim > 3 and data.shape[-1] not in (3, 4):
        data = data.reshape(-1, *data.shape[-2:])
    geometry = VolumeGeometry.from_parts(spacing, (0.0, 0.0, 0.0))
    warnings = () if spacing != (1.0, 1.0, 1.0) else (
        "the TIFF stores no voxel size; 1 mm is assumed, so areas and volumes are in voxels.",)
    return Volume(np.ascontiguousarray(data), geometry, VolumeSource(path, "tiff"),
                  warnings=warnings)


def _ome_spacing(tiff: object) -> tuple[float, float, float]:
    """(slice, row, col) mm from OME-XML PhysicalSizeZ/Y/X (µm), else 1 mm each."""
    if not tiff.is_ome or not tiff.ome_metadata:
        return (1.0, 1.0, 1.0)
    from xml.etree import ElementTree

    root = ElementTree.fromstring(tiff.ome_metadata)
    pixels = next((e for e in root.iter() if e.tag.endswith("Pixels")), None)
    if pixels is None:
        return (1.0, 1.0, 1.0)
    sizes = [pixels.get(f"PhysicalSize{axis}") for axis in "ZYX"]
    return tuple(float(s) / 1000.0 if s else 1.0 for s in sizes)
