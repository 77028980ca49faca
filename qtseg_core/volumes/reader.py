"""``read_volume`` and the folder scan that tells volumes, 2D images and unreadable files apart."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from qtseg_core.io import SUPPORTED_SUFFIXES, is_dicom, is_image_file
from qtseg_core.volumes.dicom_series import DicomSeries, read_series, scan_series
from qtseg_core.volumes.nifti import read_nifti
from qtseg_core.volumes.nrrd_itk import read_metaimage, read_nrrd
from qtseg_core.volumes.tiff_stack import read_tiff_stack, tiff_pages
from qtseg_core.volumes.volume import Volume, VolumeReadError

#: File name endings of volume formats (besides DICOM series and multi-page TIFF).
VOLUME_SUFFIXES = {
    ".nii": "nifti", ".nii.gz": "nifti", ".nrrd": "nrrd", ".nhdr": "nrrd",
    ".mha": "metaimage", ".mhd": "metaimage",
}
_FORMATS_HELP = ("NIfTI (.nii, .nii.gz), NRRD, MetaImage (.mha/.mhd), a DICOM series folder, "
                 "multi-frame DICOM, a multi-page TIFF, or 2D PNG, JPEG, BMP, TIFF, DICOM")
_READERS = {"nifti": read_nifti, "nrrd": read_nrrd, "metaimage": read_metaimage}


def volume_suffix(path: str | os.PathLike) -> str:
    """The name's format ending, two parts for '.nii.gz' (lower case), '' when none."""
    name = Path(path).name.lower()
    return ".nii.gz" if name.endswith(".nii.gz") else Path(name).suffix


def is_volume_file(path: str | os.PathLike) -> bool:
    """A NIfTI/NRRD/MetaImage file, a multi-page TIFF or a multi-frame DICOM."""
    path = Path(path)
    if not path.is_file() or path.name.startswith("."):
        return False
    if volume_suffix(path) in VOLUME_SUFFIXES:
        return True
    if path.suffix.lower() in (".tif", ".tiff"):
        return tiff_pages(path) > 1
    return is_dicom(path) and _dicom_frames(path) > 1


def read_volume(path: str | os.PathLike, series_uid: str | None = None) -> Volume:
    """Read a volume file or a DICOM series folder: voxels (slice, row, col) + geometry.

    ``series_uid`` picks one series when a folder holds several. Raises
    :class:`VolumeReadError` naming the file and what to do.
    """
    path = Path(path)
    if path.is_dir():
        return _read_series_folder(path, series_uid)
    if not path.is_file():
        raise VolumeReadError(path, "it does not exist; check the path and the file name.")
    kind = VOLUME_SUFFIXES.get(volume_suffix(path))
    if kind is not None:
        return _READERS[kind](path)
    if path.suffix.lower() in (".tif", ".tiff"):
        return read_tiff_stack(path)
    if is_dicom(path):
        found = scan_series([path])
        if not found.series:
            raise VolumeReadError(path, found.unreadable[path])
        return read_series(found.series[0], path)
    raise VolumeReadError(path, f"'{volume_suffix(path)}' is not a volume format; give "
                          f"{_FORMATS_HELP}.")


@dataclass
class FolderScan:
    """What a folder holds. volumes: files and DICOM series (``SeriesRef``) to read with
    ``read_volume``; images: 2D files for ``read_image``; unreadable: path -> reason."""

    volumes: list[Path | SeriesRef] = field(default_factory=list)
    images: list[Path] = field(default_factory=list)
    unreadable: dict[Path, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SeriesRef:
    """A DICOM series inside ``folder``: read it with ``read_volume(folder, uid)``."""

    folder: Path
    uid: str
    description: str
    num_files: int
    shares_folder: bool = False  # other series in the same folder: name it by its UID

    def read(self) -> Volume:
        return read_volume(self.folder, self.uid)


def scan_folder(folder: str | os.PathLike) -> FolderScan:
    """Sort a folder's files (not recursive, hidden ones left out) into volumes, 2D images
    and unreadable files with their reason. A DICOM series of 2+ files is one volume."""
    folder, scan, dicoms = Path(folder), FolderScan(), []
    for path in sorted(p for p in Path(folder).iterdir() if not p.name.startswith(".")):
        if path.is_dir():
            continue
        if is_volume_file(path):
            scan.volumes.append(path)
        elif is_dicom(path):
            dicoms.append(path)
        elif is_image_file(path):
            scan.images.append(path)
        else:
            scan.unreadable[path] = _unsupported(path)
    _add_series(folder, dicoms, scan)
    return scan


def _add_series(folder: Path, dicoms: list[Path], scan: FolderScan) -> None:
    found = scan_series(dicoms)
    scan.unreadable.update(found.unreadable)
    for series in found.series:
        if len(series.files) == 1:
            scan.images.append(series.files[0])
        else:
            scan.volumes.append(SeriesRef(folder, series.uid, series.description,
                                          len(series.files)))
    scan.images.sort()


def _read_series_folder(folder: Path, series_uid: str | None) -> Volume:
    files = [p for p in sorted(folder.iterdir()) if p.is_file() and not p.name.startswith(".")
             and is_dicom(p)]
    found = scan_series(files)
    chosen = _choose_series(folder, found.series, series_uid, found.unreadable)
    return read_series(chosen, folder)


def _choose_series(folder: Path, series: list[DicomSeries], uid: str | None,
                   unreadable: dict[Path, str]) -> DicomSeries:
    if uid is not None:
        match = [s for s in series if s.uid == uid]
        if not match:
            raise VolumeReadError(folder, f"no series with SeriesInstanceUID {uid} here.")
        return match[0]
    if len(series) == 1:
        return series[0]
    if not series:
        detail = "; ".join(f"{p.name}: {r}" for p, r in list(unreadable.items())[:3])
        raise VolumeReadError(folder, "the folder holds no readable DICOM series"
                              + (f" ({detail})." if detail else "."))
    listed = ", ".join(f"{s.uid} ({s.description}, {len(s.files)} files)" for s in series)
    raise VolumeReadError(folder, f"it holds {len(series)} DICOM series: {listed}; "
                          "give one SeriesInstanceUID or put each series in its own folder.")


def _dicom_frames(path: Path) -> int:
    import pydicom

    try:
        header = pydicom.dcmread(path, stop_before_pixels=True)
    except Exception:  # not DICOM after all: the reader says so
        return 0
    return int(header.get("NumberOfFrames", 1) or 1)


def _unsupported(path: Path) -> str:
    suffix = volume_suffix(path) or "(no extension)"
    known = ", ".join(sorted(set(SUPPORTED_SUFFIXES) | set(VOLUME_SUFFIXES)))
    return f"'{suffix}' is not a format QTSeg reads ({known}); convert it to {_FORMATS_HELP}."
