"""NIfTI-1/2 (.nii, .nii.gz) through nibabel: read a volume, write a label volume."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from qtseg_core.io import atomic_write
from qtseg_core.volumes.geometry import VolumeGeometry, lps_to_ras, ras_to_lps
from qtseg_core.volumes.volume import (
    DisplayWindow,
    Volume,
    VolumeReadError,
    VolumeSource,
    from_file_order,
)


def read_nifti(path: Path) -> Volume:
    import nibabel as nib

    try:
        image = nib.load(str(path))
        data = np.asanyarray(image.dataobj)
    except Exception as error:  # nibabel raises many types for bad files
        raise VolumeReadError(
            path, f"not a readable NIfTI file ({type(error).__name__}: {error})."
        ) from error
    data = _three_dimensional(path, data)
    file_geometry = VolumeGeometry(ras_to_lps(image.affine))
    voxels, geometry, flips = from_file_order(_native_dtype(data), file_geometry)
    source = VolumeSource(
        path, "nifti", reversed_axes=True, flips=flips, file_geometry=file_geometry,
        header=image.header.copy(),
    )
    return Volume(voxels, geometry, source, window=_calibration_window(image.header))


def write_nifti(path: Path, labels: np.ndarray, volume: Volume) -> Path:
    """Write (slices, rows, cols) uint8 labels with the source's shape, affine and codes."""
    return write_nifti_voxels(path, labels.astype(np.uint8), volume)


def write_nifti_voxels(path: Path, voxels: np.ndarray, volume: Volume) -> Path:
    """Write (slices, rows, cols) voxels (labels, or the image itself) in ``volume``'s
    geometry and file layout, in their own dtype, as .nii or .nii.gz (by the name)."""
    import nibabel as nib

    data, lps_affine = _file_layout(voxels, volume)
    affine = lps_to_ras(lps_affine)
    header = volume.source.header if volume.source.format == "nifti" else None
    image = nib.Nifti1Image(data, affine, header=_voxel_header(header, data.dtype))
    if header is None:
        image.set_qform(affine, code=1)
        image.set_sform(affine, code=1)
    gzip = path.name.endswith(".gz")
    payload = image.to_bytes()
    if gzip:
        import gzip as gz

        payload = gz.compress(payload, compresslevel=6)
    return atomic_write(path, lambda stream: stream.write(payload))


def _file_layout(labels: np.ndarray, volume: Volume) -> tuple[np.ndarray, np.ndarray]:
    """(col, row, slice) data and its LPS affine: the source file's own layout when it
    stores voxels that way (NIfTI, NRRD, MetaImage), else the volume's (DICOM, TIFF)."""
    if volume.source.reversed_axes:
        return volume.to_file_order(labels), volume.file_geometry.affine
    return np.ascontiguousarray(labels.transpose(2, 1, 0)), volume.geometry.affine


def _voxel_header(source: object | None, dtype: np.dtype) -> object | None:
    """The source header made fit for the voxels written (no intensity scaling, no cal
    range: the values are stored as they are)."""
    if source is None:
        return None
    header = source.copy()
    header.set_data_dtype(dtype)
    header.set_slope_inter(1.0, 0.0)
    header["cal_min"], header["cal_max"] = 0, 0
    return header


def _three_dimensional(path: Path, data: np.ndarray) -> np.ndarray:
    while data.ndim > 3 and data.shape[-1] == 1:
        data = data[..., 0]
    if data.ndim == 2:
        return data[:, :, None]
    if data.ndim != 3:
        raise VolumeReadError(
            path,
            f"it holds a {data.ndim}D array of shape {data.shape}; QTSeg reads 3D volumes. "
            "Split time series or multi-channel images into one 3D file each.",
        )
    return data


def _native_dtype(data: np.ndarray) -> np.ndarray:
    if data.dtype in (np.uint8, np.int16, np.uint16, np.float32):
        return data
    if np.issubdtype(data.dtype, np.integer) and data.min() >= -32768 and data.max() <= 32767:
        return data.astype(np.int16)
    return data.astype(np.float32)


def _calibration_window(header: object) -> DisplayWindow | None:
    low, high = float(header["cal_min"]), float(header["cal_max"])
    return DisplayWindow((low + high) / 2, high - low) if high > low else None
