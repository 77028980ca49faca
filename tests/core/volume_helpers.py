"""Small volumes in every format, built in the tests (nibabel, pydicom, pynrrd, tifffile)."""

from __future__ import annotations

import copy
from pathlib import Path

import nibabel as nib
import numpy as np
import pydicom
from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.uid import generate_uid

#: An oblique RAS affine with negative x (as dcm2niix writes): 0.8 x 0.9 mm pixels, 2.5 mm slices.
RAS_AFFINE = np.array([
    [-0.8, 0.0, 0.1, 90.0],
    [0.0, 0.9, 0.0, -120.0],
    [0.0, -0.05, 2.5, -30.0],
    [0.0, 0.0, 0.0, 1.0],
])


def blob_volume(shape: tuple[int, int, int] = (20, 24, 6)) -> np.ndarray:
    """(I, J, K) int16 file-order voxels: a bright ellipse whose size changes along K."""
    i, j = np.mgrid[: shape[0], : shape[1]]
    data = np.zeros(shape, dtype=np.int16)
    for k in range(shape[2]):
        radius = 3 + k
        inside = ((i - shape[0] / 2) / radius) ** 2 + ((j - shape[1] / 3) / radius) ** 2 <= 1
        data[:, :, k] = np.where(inside, 200 + 10 * k, 20)
    return data


def write_nifti(path: Path, data: np.ndarray, affine: np.ndarray = RAS_AFFINE) -> Path:
    image = nib.Nifti1Image(data, affine)
    image.set_qform(affine, code=1)
    image.set_sform(affine, code=2)
    nib.save(image, str(path))
    return path


def ct_series(folder: Path, count: int = 5, *, spacing: float = 3.0, oblique: bool = False,
              seed: int = 0) -> list[float]:
    """A CT series from pydicom's CT_small: slice k filled with 100*k HU, written under
    shuffled file names with InstanceNumber running against the spatial order.
    Returns the slice positions along the normal in true order."""
    folder.mkdir(parents=True, exist_ok=True)
    template = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
    row, col = ([1, 0, 0], [0, np.cos(0.3), np.sin(0.3)]) if oblique else ([1, 0, 0], [0, 1, 0])
    normal = np.cross(row, col)
    uid, order = generate_uid(), np.random.default_rng(seed).permutation(count)
    for k in range(count):
        dataset = copy.deepcopy(template)
        dataset.SeriesInstanceUID, dataset.SOPInstanceUID = uid, generate_uid()
        dataset.ImageOrientationPatient = [*row, *[float(v) for v in col]]
        dataset.ImagePositionPatient = [float(v) for v in np.array([-50, -60, 10]) +
                                        k * spacing * normal]
        dataset.InstanceNumber = (k * 7919) % count + 1 if count > 2 else count - k
        pixels = np.full((dataset.Rows, dataset.Columns), 100 * k - int(dataset.RescaleIntercept),
                         dtype=np.int16)
        dataset.PixelData = pixels.tobytes()
        dataset.save_as(folder / f"IM{order[k]:04d}", enforce_file_format=True)
    return [10 * normal[2] + k * spacing for k in range(count)]


def multiframe(path: Path, count: int = 4, spacing: float = 2.0) -> Path:
    """An enhanced-CT-like multi-frame file whose frames are stored in reverse spatial order;
    frame k (spatially) holds the value 10*k."""
    template = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
    dataset = copy.deepcopy(template)
    dataset.NumberOfFrames = count
    dataset.SeriesInstanceUID = generate_uid()
    frames, per_frame = [], []
    for stored in range(count):
        spatial = count - 1 - stored
        frames.append(np.full((dataset.Rows, dataset.Columns), 10 * spatial + 1024,
                              dtype=np.int16))
        per_frame.append(_frame_item([0.0, 0.0, spatial * spacing]))
    dataset.PerFrameFunctionalGroupsSequence = Sequence(per_frame)
    shared = Dataset()
    orientation, measures = Dataset(), Dataset()
    orientation.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    measures.PixelSpacing, measures.SliceThickness = [0.5, 0.5], spacing
    shared.PlaneOrientationSequence = Sequence([orientation])
    shared.PixelMeasuresSequence = Sequence([measures])
    dataset.SharedFunctionalGroupsSequence = Sequence([shared])
    del dataset.ImagePositionPatient
    dataset.PixelData = np.stack(frames).tobytes()
    dataset.save_as(path, enforce_file_format=True)
    return path


def _frame_item(position: list[float]) -> Dataset:
    item, plane = Dataset(), Dataset()
    plane.ImagePositionPatient = position
    item.PlanePositionSequence = Sequence([plane])
    return item


def nnunet_3d(root: Path, cases: int = 3, shape: tuple[int, int, int] = (32, 32, 4)) -> Path:
    """An nnU-Net v2 raw folder: imagesTr/case_NNN_0000.nii.gz with labelsTr/case_NNN.nii.gz."""
    import json

    (root / "imagesTr").mkdir(parents=True)
    (root / "labelsTr").mkdir()
    for case in range(cases):
        data = blob_volume(shape)
        write_nifti(root / "imagesTr" / f"case_{case:03d}_0000.nii.gz", data)
        write_nifti(root / "labelsTr" / f"case_{case:03d}.nii.gz", (data > 100).astype(np.uint8))
    (root / "dataset.json").write_text(json.dumps({
        "channel_names": {"0": "MRI"}, "labels": {"background": 0, "lesion": 1},
        "numTraining": cases, "file_ending": ".nii.gz"}))
    return root
