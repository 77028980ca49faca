"""NRRD through pynrrd (small, pure Python) and MetaImage .mha/.mhd through SimpleITK.

SimpleITK is a large download (~260 MB installed), so it is an extra:
``pip install "qtseg-studio[itk]"``; without it a MetaImage file is reported
with that command rather than skipped.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from qtseg_core.volumes.geometry import VolumeGeometry
from qtseg_core.volumes.nifti import _native_dtype, _three_dimensional
from qtseg_core.volumes.volume import Volume, VolumeReadError, VolumeSource, from_file_order

_SPACE_SIGNS = {  # NRRD 'space' -> signs that turn its axes into LPS
    "left-posterior-superior": (1, 1, 1), "lps": (1, 1, 1),
    "right-anterior-superior": (-1, -1, 1), "ras": (-1, -1, 1),
    "left-anterior-superior": (1, -1, 1), "las": (1, -1, 1),
}
ITK_MISSING = ("reading .mha/.mhd needs SimpleITK, an optional extra: run "
               "pip install \"qtseg-studio[itk]\" (or pip install SimpleITK), or convert the "
               "file to NIfTI or NRRD.")


def read_nrrd(path: Path) -> Volume:
    import nrrd

    try:
        data, header = nrrd.read(str(path))
    except Exception as error:  # pynrrd raises NRRDError, OSError, ValueError...
        raise VolumeReadError(path, f"not a readable NRRD file ({type(error).__name__}: "
                              f"{error}).") from error
    data = _three_dimensional(path, data)
    file_geometry = VolumeGeometry(_nrrd_affine(header, path))
    voxels, geometry, flips = from_file_order(_native_dtype(data), file_geometry)
    source = VolumeSource(path, "nrrd", reversed_axes=True, flips=flips,
                          file_geometry=file_geometry)
    return Volume(voxels, geometry, source)


def _nrrd_affine(header: dict, path: Path) -> np.ndarray:
    affine = np.eye(4)
    directions = header.get("space directions")
    if directions is None:  # no world space: spacings only
        spacings = [float(s) for s in header.get("spacings", [1.0, 1.0, 1.0])[:3]]
        affine[:3, :3] = np.diag(spacings + [1.0] * (3 - len(spacings)))
        return affine
    vectors = [np.asarray(v, dtype=np.float64) for v in directions
               if v is not None and not np.all(np.isnan(np.asarray(v, dtype=np.float64)))]
    space = str(header.get("space", "left-posterior-superior")).lower()
    if space not in _SPACE_SIGNS or len(vectors) != 3:
        raise VolumeReadError(path, f"NRRD space '{space}' with {len(vectors)} space "
                              "directions is not a 3D patient space; resave it as LPS or RAS.")
    signs = np.asarray(_SPACE_SIGNS[space], dtype=np.float64)
    affine[:3, :3] = np.stack(vectors, axis=1) * signs[:, None]
    affine[:3, 3] = np.asarray(header.get("space origin", [0, 0, 0]), float) * signs
    return affine


def read_metaimage(path: Path) -> Volume:
    try:
        import SimpleITK as sitk
    except ImportError as error:
        raise VolumeReadError(path, ITK_MISSING) from error
    try:
        image = sitk.ReadImage(str(path))
    except RuntimeError as error:
        raise VolumeReadError(path, f"SimpleITK cannot read it ({error}).") from error
    if image.GetDimension() != 3 or image.GetNumberOfComponentsPerPixel() != 1:
        raise VolumeReadError(path, f"a {image.GetDimension()}D image with "
                              f"{image.GetNumberOfComponentsPerPixel()} components; QTSeg reads "
                              "3D grey-level volumes.")
    direction = np.array(image.GetDirection(), dtype=np.float64).reshape(3, 3)
    file_geometry = VolumeGeometry.from_parts(
        image.GetSpacing()[::-1], image.GetOrigin(), direction)
    data = sitk.GetArrayFromImage(image).transpose(2, 1, 0)  # (z, y, x) -> file order
    voxels, geometry, flips = from_file_order(_native_dtype(data), file_geometry)
    source = VolumeSource(path, "metaimage", reversed_axes=True, flips=flips,
                          file_geometry=file_geometry)
    return Volume(voxels, geometry, source)
