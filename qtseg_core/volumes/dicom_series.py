"""DICOM series (one file per slice) and multi-frame DICOM through pydicom.

A folder's files are grouped by SeriesInstanceUID; a series' slices are
ordered by ImagePositionPatient projected on the slice normal (the cross
product of the ImageOrientationPatient row and column directions), never by
file name or InstanceNumber, which scanners and anonymisers scramble.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qtseg_core.io import dicom_to_units
from qtseg_core.volumes.dicom_tags import dicom_window, slice_geometry
from qtseg_core.volumes.volume import Volume, VolumeReadError, VolumeSource


@dataclass(frozen=True)
class DicomSeries:
    """A series found in a folder: its UID, its files (unordered) and a description."""

    uid: str
    files: tuple[Path, ...]
    description: str


@dataclass(frozen=True)
class SeriesScan:
    series: list[DicomSeries]
    unreadable: dict[Path, str]


def scan_series(files: list[Path]) -> SeriesScan:
    """Group DICOM files by SeriesInstanceUID from their headers (no pixels decoded)."""
    import pydicom

    groups: dict[str, list[Path]] = defaultdict(list)
    descriptions: dict[str, str] = {}
    unreadable: dict[Path, str] = {}
    for path in files:
        try:
            header = pydicom.dcmread(path, stop_before_pixels=True)
        except Exception as error:  # pydicom raises many types for bad files
            unreadable[path] = f"not a readable DICOM file ({type(error).__name__}: {error})"
            continue
        if "SeriesInstanceUID" not in header or "Rows" not in header:
            unreadable[path] = "a DICOM file without image pixels (DICOMDIR, report, ...)"
            continue
        uid = str(header.SeriesInstanceUID)
        groups[uid].append(path)
        descriptions.setdefault(uid, _describe(header))
    series = [DicomSeries(uid, tuple(sorted(p)), descriptions[uid]) for uid, p in groups.items()]
    return SeriesScan(sorted(series, key=lambda s: s.files[0]), unreadable)


def read_series(series: DicomSeries, folder: Path) -> Volume:
    """The series' slices stacked in spatial order, with their geometry and window."""
    import pydicom

    if len(series.files) == 1:
        return read_multiframe(series.files[0]) if _frames(series.files[0]) > 1 else _single(
            series.files[0], folder)
    datasets = [pydicom.dcmread(path) for path in series.files]
    ordered = _spatial_order(datasets, series, folder)
    positions = [np.array(d.ImagePositionPatient, dtype=np.float64) for d in ordered]
    geometry, warnings = slice_geometry(ordered[0], positions, folder)
    voxels = _stack([_pixels(d, folder) for d in ordered], folder)
    source = VolumeSource(
        folder, "dicom", files=tuple(Path(d.filename) for d in ordered), series_uid=series.uid)
    return Volume(voxels, geometry, source, window=dicom_window(ordered[0]),
                  modality=ordered[0].get("Modality"), warnings=warnings)


def read_multiframe(path: Path) -> Volume:
    """A multi-frame DICOM (enhanced CT/MR or legacy) as a volume, frames in spatial order."""
    from qtseg_core.volumes.dicom_multiframe import read_multiframe as read

    return read(path)


def _single(path: Path, folder: Path) -> Volume:
    import pydicom

    dataset = pydicom.dcmread(path)
    position = np.array(dataset.get("ImagePositionPatient", [0.0, 0.0, 0.0]), dtype=np.float64)
    geometry, warnings = slice_geometry(dataset, [position], path)
    voxels = _pixels(dataset, path)[None]
    source = VolumeSource(path, "dicom", files=(path,), series_uid=str(dataset.SeriesInstanceUID))
    return Volume(voxels, geometry, source, window=dicom_window(dataset),
                  modality=dataset.get("Modality"), warnings=warnings)


def _spatial_order(datasets: list, series: DicomSeries, folder: Path) -> list:
    missing = [Path(d.filename).name for d in datasets if "ImagePositionPatient" not in d]
    if missing:
        raise VolumeReadError(
            folder, f"series {series.uid}: {len(missing)} file(s) ({', '.join(missing[:3])}) "
            "lack ImagePositionPatient, so the slice order is unknown; re-export the series "
            "from the scanner or PACS with its geometry.")
    orientations = {tuple(np.round(np.array(d.ImageOrientationPatient, float), 4))
                    for d in datasets}
    if len(orientations) > 1:
        raise VolumeReadError(
            folder, f"series {series.uid} mixes {len(orientations)} slice orientations "
            "(a localizer?); move the odd files into their own folder.")
    row, col = np.array(datasets[0].ImageOrientationPatient, float).reshape(2, 3)
    normal = np.cross(row, col)
    depth = {id(d): float(np.dot(normal, np.array(d.ImagePositionPatient, float)))
             for d in datasets}
    ordered = sorted(datasets, key=lambda d: depth[id(d)])
    _check_distinct(ordered, depth, series, folder)
    return ordered


def _check_distinct(ordered: list, depth: dict, series: DicomSeries, folder: Path) -> None:
    values = np.array([depth[id(d)] for d in ordered])
    same = np.flatnonzero(np.diff(values) < 1e-3)
    if same.size:
        names = [Path(ordered[i].filename).name for i in same[:2]]
        raise VolumeReadError(
            folder, f"series {series.uid} has {same.size + 1} slices at the same position "
            f"({', '.join(names)}, at {values[same[0]]:.2f} mm along the normal): several "
            "echoes, phases or time points. Split them into one folder each.")


def _pixels(dataset: object, where: Path) -> np.ndarray:
    try:
        return dicom_to_units(dataset.pixel_array, dataset)
    except Exception as error:  # compressed without a decoder, truncated...
        raise VolumeReadError(
            where, f"{Path(dataset.filename).name}: pixels not readable ({type(error).__name__}: "
            f"{error}); if the series is compressed, install pylibjpeg or gdcm.") from error


def _stack(slices: list[np.ndarray], folder: Path) -> np.ndarray:
    shapes = {s.shape for s in slices}
    if len(shapes) > 1:
        raise VolumeReadError(
            folder, f"the slices differ in size ({sorted(shapes)}); they are not one volume.")
    dtype = np.result_type(*{s.dtype for s in slices})
    dtype = dtype if dtype in (np.uint8, np.uint16, np.int16) else np.float32
    return np.stack([s.astype(dtype, copy=False) for s in slices])


def _frames(path: Path) -> int:
    import pydicom

    return int(pydicom.dcmread(path, stop_before_pixels=True).get("NumberOfFrames", 1) or 1)


def _describe(header: object) -> str:
    parts = [header.get("Modality", ""), header.get("SeriesDescription", "")]
    return " ".join(str(p) for p in parts if p) or str(header.SeriesInstanceUID)
