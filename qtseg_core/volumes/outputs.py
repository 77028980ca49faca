"""Label volume files: one writer per format, and the file names they get."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from qtseg_core.io import write_png_atomic
from qtseg_core.volumes.dicom_seg import write_dicom_seg
from qtseg_core.volumes.nifti import write_nifti
from qtseg_core.volumes.reader import SeriesRef, volume_suffix
from qtseg_core.volumes.volume import Volume

#: --format choices for volumes; "png" writes one 2D mask per slice.
VOLUME_FORMATS = ("nifti", "dicom-seg", "png")
_ENDINGS = {"nifti": ".nii.gz", "dicom-seg": ".seg.dcm"}


def volume_name(entry: Path | SeriesRef) -> str:
    """A volume's output name: the file name without its format ending, or the series folder's
    name (with the series UID's tail when the folder holds several series)."""
    if isinstance(entry, SeriesRef):
        return f"{entry.folder.name}-{entry.uid[-12:]}" if entry.shares_folder else \
            entry.folder.name
    return entry.name[: len(entry.name) - len(volume_suffix(entry))] or entry.name


def write_labels(
    folder: Path, name: str, labels: np.ndarray, volume: Volume, format: str, *,
    class_names: Sequence[str], model_version: str = "unknown",
) -> Path:
    """Write ``labels`` (slices, rows, cols) uint8 class indices as ``format``; returns the
    file written (the first slice's PNG for "png")."""
    if format == "nifti":
        return write_nifti(folder / f"{name}.nii.gz", labels, volume)
    if format == "dicom-seg":
        return write_dicom_seg(folder / f"{name}.seg.dcm", labels, volume, class_names,
                               model_version=model_version)
    if format == "png":
        return write_slice_pngs(folder, name, labels, volume, binary=len(class_names) == 2)[0]
    raise ValueError(f"format '{format}': choose one of {', '.join(VOLUME_FORMATS)}.")


def write_slice_pngs(folder: Path, name: str, labels: np.ndarray, volume: Volume, *,
                     binary: bool) -> list[Path]:
    """One PNG per slice: named after each DICOM file of a series (as 2D prediction names
    them), else ``<name>_z<slice>.png``. 0/255 for a binary model, class indices otherwise."""
    stems = [f.stem for f in volume.source.files] if len(volume.source.files) == len(labels) \
        else [f"{name}_z{index:03d}" for index in range(len(labels))]
    scale = np.uint8(255) if binary else np.uint8(1)
    return [write_png_atomic(folder / f"{stem}.png", plane * scale)
            for stem, plane in zip(stems, labels, strict=True)]


def write_probabilities(folder: Path, name: str, probabilities: np.ndarray, volume: Volume,
                        class_names: Sequence[str]) -> Path:
    """``<name>_probabilities.npz``: ``probabilities`` (slices, N, rows, cols) float32 and the
    ``affine`` (LPS, (col, row, slice)) and ``class_names`` to place them."""
    path = folder / f"{name}_probabilities.npz"
    np.savez_compressed(path, probabilities=probabilities.astype(np.float32),
                        affine=volume.geometry.affine, class_names=np.array(class_names))
    return path
