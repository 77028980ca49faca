"""Multi-frame DICOM: enhanced CT/MR (per-frame functional groups) and legacy multi-frame."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from qtseg_core.io import dicom_to_units
from qtseg_core.volumes.dicom_tags import dicom_window, slice_geometry
from qtseg_core.volumes.volume import DisplayWindow, Volume, VolumeReadError, VolumeSource


def read_multiframe(path: Path) -> Volume:
    """Frames ordered by their PlanePositionSequence along the normal when the file has
    them (enhanced IODs), else in stored order with SpacingBetweenSlices."""
    import pydicom

    dataset = pydicom.dcmread(path)
    try:
        frames = dataset.pixel_array
    except Exception as error:  # compressed without a decoder, truncated...
        raise VolumeReadError(
            path, f"pixels not readable ({type(error).__name__}: {error}); if the file is "
            "compressed, install pylibjpeg or gdcm.") from error
    if frames.ndim != 3:
        raise VolumeReadError(path, f"multi-frame pixels of shape {frames.shape} are not "
                              "grey-level frames (colour or single frame); export as PNG.")
    shared = _group(dataset, "SharedFunctionalGroupsSequence", 0)
    orientation = _attribute(shared, "PlaneOrientationSequence", "ImageOrientationPatient") or \
        dataset.get("ImageOrientationPatient", [1, 0, 0, 0, 1, 0])
    spacing = _attribute(shared, "PixelMeasuresSequence", "PixelSpacing")
    positions = _frame_positions(dataset, len(frames))
    order = _order(positions, orientation)
    geometry, warnings = slice_geometry(
        _with_thickness(dataset, shared), [positions[i] for i in order], path,
        orientation=orientation, pixel_spacing=spacing)
    voxels = np.stack([_frame_units(dataset, frames[i], i, shared) for i in order])
    source = VolumeSource(path, "dicom", files=(path,), series_uid=str(dataset.SeriesInstanceUID),
                          frame_order=tuple(order))
    return Volume(voxels, geometry, source, window=_window(dataset, shared),
                  modality=dataset.get("Modality"), warnings=warnings)


def _group(dataset: object, keyword: str, index: int) -> object | None:
    sequence = dataset.get(keyword)
    return sequence[index] if sequence and len(sequence) > index else None


def _attribute(item: object | None, sequence: str, keyword: str) -> object | None:
    if item is None or not item.get(sequence):
        return None
    return item.get(sequence)[0].get(keyword)


def _frame_positions(dataset: object, count: int) -> list[np.ndarray]:
    per_frame = dataset.get("PerFrameFunctionalGroupsSequence") or []
    positions = [_attribute(item, "PlanePositionSequence", "ImagePositionPatient")
                 for item in per_frame]
    if len(positions) == count and all(p is not None for p in positions):
        return [np.array(p, dtype=np.float64) for p in positions]
    first = np.array(dataset.get("ImagePositionPatient", [0.0, 0.0, 0.0]), dtype=np.float64)
    row, col = np.array(dataset.get("ImageOrientationPatient", [1, 0, 0, 0, 1, 0]),
                        float).reshape(2, 3)
    step = float(dataset.get("SpacingBetweenSlices") or dataset.get("SliceThickness") or 1.0)
    return [first + i * step * np.cross(row, col) for i in range(count)]


def _order(positions: list[np.ndarray], orientation: object) -> list[int]:
    row, col = np.array(orientation, dtype=np.float64).reshape(2, 3)
    normal = np.cross(row, col)
    return sorted(range(len(positions)), key=lambda i: float(np.dot(normal, positions[i])))


def _with_thickness(dataset: object, shared: object | None) -> object:
    thickness = _attribute(shared, "PixelMeasuresSequence", "SliceThickness")
    if thickness and "SliceThickness" not in dataset:
        dataset.SliceThickness = thickness
    return dataset


def _frame_units(dataset: object, frame: np.ndarray, index: int, shared: object | None
                 ) -> np.ndarray:
    item = _group(dataset, "PerFrameFunctionalGroupsSequence", index)
    slope = _attribute(item, "PixelValueTransformationSequence", "RescaleSlope") or \
        _attribute(shared, "PixelValueTransformationSequence", "RescaleSlope")
    intercept = _attribute(item, "PixelValueTransformationSequence", "RescaleIntercept") or \
        _attribute(shared, "PixelValueTransformationSequence", "RescaleIntercept")
    return dicom_to_units(frame, dataset, slope=slope, intercept=intercept)


def _window(dataset: object, shared: object | None) -> DisplayWindow | None:
    center = _attribute(shared, "FrameVOILUTSequence", "WindowCenter")
    width = _attribute(shared, "FrameVOILUTSequence", "WindowWidth")
    if center is not None and width is not None:
        return dicom_window({"WindowCenter": center, "WindowWidth": width})
    return dicom_window(dataset)
