"""DICOM-SEG label volumes through highdicom, referencing the source series."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from qtseg_core.io import atomic_write
from qtseg_core.volumes.volume import Volume

SOFTWARE = "QTSeg Studio"


class DicomSegError(ValueError):
    """A label volume that cannot be written as DICOM-SEG; the message says why and what to do."""


def write_dicom_seg(
    path: Path, labels: np.ndarray, volume: Volume, class_names: Sequence[str],
    *, model_version: str = "unknown",
) -> Path:
    """A binary DICOM-SEG, one segment per foreground class (class k -> segment k), its
    frames on the source slices (one per slice and segment, empty frames included)."""
    import highdicom as hd
    import pydicom

    if volume.source.format != "dicom":
        raise DicomSegError(
            f"{volume.source.path} is {volume.source.format}, not DICOM: a DICOM-SEG must "
            "reference DICOM source images; write NIfTI (--format nifti) instead.")
    sources = [pydicom.dcmread(f) for f in volume.source.files]
    frames = _source_order(labels, volume)
    segments = _segment_descriptions(class_names, model_version)
    try:
        seg = hd.seg.Segmentation(
            source_images=sources, pixel_array=frames,
            segmentation_type=hd.seg.SegmentationTypeValues.BINARY,
            segment_descriptions=segments, series_instance_uid=hd.UID(), series_number=9901,
            sop_instance_uid=hd.UID(), instance_number=1, manufacturer=SOFTWARE,
            manufacturer_model_name="QTSeg", software_versions=model_version,
            device_serial_number="none", series_description="QTSeg segmentation",
            omit_empty_frames=False,
        )
    except (AttributeError, KeyError, TypeError, ValueError) as error:  # highdicom's checks
        raise DicomSegError(
            f"highdicom cannot build a DICOM-SEG on {volume.source.path} ({type(error).__name__}:"
            f" {error}); the source lacks attributes a SEG must reference. Write NIfTI "
            "(--format nifti) instead.") from error
    return atomic_write(path, lambda stream: seg.save_as(stream, enforce_file_format=True))


def _source_order(labels: np.ndarray, volume: Volume) -> np.ndarray:
    """Labels laid out like the source: one frame per file, or per stored frame."""
    frames = np.ascontiguousarray(labels.astype(np.uint8))
    if volume.source.frame_order:  # multi-frame: back to the stored frame order
        stored = np.empty_like(frames)
        stored[list(volume.source.frame_order)] = frames
        return stored
    return frames


def _segment_descriptions(class_names: Sequence[str], model_version: str) -> list:
    import highdicom as hd
    from pydicom.sr.codedict import codes

    algorithm = hd.AlgorithmIdentificationSequence(
        name="QTSeg", version=model_version, family=codes.cid7162.ArtificialIntelligence)
    return [
        hd.seg.SegmentDescription(
            segment_number=number, segment_label=str(name)[:64],
            segmented_property_category=codes.SCT.Tissue,
            segmented_property_type=codes.SCT.Tissue,
            algorithm_type=hd.seg.SegmentAlgorithmTypeValues.AUTOMATIC,
            algorithm_identification=algorithm)
        for number, name in enumerate(class_names[1:], start=1)
    ]
