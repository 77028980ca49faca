"""Exported files keep the source geometry: DICOM-SEG frames sit on their source slices,
nnU-Net images and labels carry the source affine, and what was painted is where it was."""

from __future__ import annotations

import nibabel as nib
import numpy as np
import pydicom

from qtseg_core.io import read_volume
from qtseg_core.workspace import Workspace
from qtseg_core.workspace.export_formats import export_workspace
from qtseg_core.workspace.records import ReviewStatus
from tests.core.volume_helpers import RAS_AFFINE, blob_volume, ct_series, write_nifti


def _accept(ws: Workspace, image_id: int, mask: np.ndarray) -> None:
    ws.save_correction(image_id, mask, "Dr Rossi")
    ws.set_status(image_id, ReviewStatus.ACCEPTED, "Dr Rossi")


def test_dicom_seg_frames_lie_on_their_source_slices_and_hold_the_mask(tmp_path):
    ct_series(tmp_path / "ws" / "ct", count=4, oblique=True)
    mask = np.zeros((128, 128), np.uint8)
    mask[10:30, 40:90] = 1
    with Workspace.open(tmp_path / "ws") as ws:
        (volume,) = ws.volumes()
        _accept(ws, ws.volume_slices(volume.id)[2].id, mask)  # third slice in space
        export_workspace(ws, tmp_path / "seg", "dicom-seg")
    (written,) = (tmp_path / "seg" / "labels").glob("*.seg.dcm")
    seg = pydicom.dcmread(written)
    sources = {}
    for path in (tmp_path / "ws" / "ct").iterdir():
        source = pydicom.dcmread(path)
        sources[source.SOPInstanceUID] = source
    normal = np.cross(*np.reshape(next(iter(sources.values())).ImageOrientationPatient, (2, 3)))
    painted = []
    for frame, group in zip(seg.pixel_array, seg.PerFrameFunctionalGroupsSequence, strict=True):
        referenced = group.DerivationImageSequence[0].SourceImageSequence[0]
        source = sources[referenced.ReferencedSOPInstanceUID]
        position = [float(v) for v in group.PlanePositionSequence[0].ImagePositionPatient]
        np.testing.assert_allclose(position, [float(v) for v in source.ImagePositionPatient])
        if frame.any():
            np.testing.assert_array_equal(frame, mask)
            painted.append(float(np.dot(position, normal)))
    along = sorted(float(np.dot([float(v) for v in s.ImagePositionPatient], normal))
                   for s in sources.values())
    np.testing.assert_allclose(painted, [along[2]], atol=1e-3)  # the third slice in space


def test_nnunet_images_and_labels_carry_the_source_affine_and_voxels(tmp_path):
    folder = tmp_path / "ws"
    folder.mkdir()
    voxels = blob_volume((20, 24, 3))
    write_nifti(folder / "brain.nii.gz", voxels)
    masks = []
    with Workspace.open(folder) as ws:
        for image in ws.volume_slices(ws.volumes()[0].id):
            mask = np.zeros((24, 20), np.uint8)
            mask[image.slice_index: 10, 3:12] = 1
            _accept(ws, image.id, mask)
            masks.append(mask)
        export_workspace(ws, tmp_path / "nn", "nnunet")
    image = nib.load(str(tmp_path / "nn" / "imagesTr" / "brain_0000.nii.gz"))
    labels = nib.load(str(tmp_path / "nn" / "labelsTr" / "brain.nii.gz"))
    for written in (image, labels):
        np.testing.assert_allclose(written.affine, RAS_AFFINE, atol=1e-6)
        assert written.shape == voxels.shape
    np.testing.assert_array_equal(np.asanyarray(image.dataobj), voxels)
    # read back as the product reads volumes: each slice's mask where it was painted
    back = read_volume(tmp_path / "nn" / "labelsTr" / "brain.nii.gz").voxels
    np.testing.assert_array_equal(back, np.stack(masks))
