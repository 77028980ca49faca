"""qtseg export: NIfTI with the source affine, DICOM-SEG, nnU-Net raw read back, COCO encodings."""

from __future__ import annotations

import json

import cv2
import nibabel as nib
import numpy as np
import pydicom
import pytest

from qtseg_core.cli import main
from qtseg_core.data import load_sample
from qtseg_core.data.layouts import open_dataset
from qtseg_core.io import read_image
from qtseg_core.workspace import Workspace
from qtseg_core.workspace.coco import encode_segmentation, rle_decode, string_to_counts
from qtseg_core.workspace.records import ReviewStatus
from tests.core.volume_helpers import RAS_AFFINE, blob_volume, ct_series, write_nifti


def _reviewed_volume_workspace(folder, slices=(0, 1, 2)):
    """A workspace on one NIfTI volume whose listed slices carry an accepted square mask."""
    folder.mkdir(parents=True)
    write_nifti(folder / "brain.nii.gz", blob_volume((20, 24, 3)))
    with Workspace.open(folder) as ws:
        (volume,) = ws.volumes()
        for image in ws.volume_slices(volume.id):
            if image.slice_index in slices:
                mask = np.zeros((24, 20), np.uint8)
                mask[2 + image.slice_index: 10, 3:12] = 1
                ws.save_correction(image.id, mask, "Dr Rossi")
                ws.set_status(image.id, ReviewStatus.ACCEPTED, "Dr Rossi")
    return folder


def test_nifti_export_keeps_the_source_affine(tmp_path):
    ws = _reviewed_volume_workspace(tmp_path / "ws", slices=(1,))
    assert main(["export", str(ws), "-o", str(tmp_path / "out"), "--format", "nifti"]) == 0
    labels = nib.load(str(tmp_path / "out" / "labels" / "brain.nii.gz"))
    np.testing.assert_allclose(labels.affine, RAS_AFFINE, atol=1e-6)
    assert labels.shape == (20, 24, 3)
    data = np.asanyarray(labels.dataobj)
    assert data[:, :, 1].sum() == 7 * 9 and data[:, :, [0, 2]].sum() == 0
    assert "1" in (tmp_path / "out" / "volumes.csv").read_text().splitlines()[1]


def test_nnunet_export_is_read_back_by_the_nnunet_layout(tmp_path):
    ws = _reviewed_volume_workspace(tmp_path / "ws")
    assert main(["export", str(ws), "-o", str(tmp_path / "nn"), "--format", "nnunet"]) == 0
    dataset = json.loads((tmp_path / "nn" / "dataset.json").read_text())
    assert dataset["file_ending"] == ".nii.gz" and dataset["numTraining"] == 1
    index = open_dataset(tmp_path / "nn")
    assert index.layout == "nnunet" and len(index.samples) == 3
    with Workspace.open(ws) as workspace:
        slice_1 = workspace.volume_slices(workspace.volumes()[0].id)[1]
        expected_image = workspace.read_image(slice_1.id)
        expected_mask = workspace.read_mask(workspace.final_mask(slice_1.id))
    image, mask = load_sample(index.samples[1], 2)
    np.testing.assert_array_equal(image, expected_image)
    np.testing.assert_array_equal(mask, expected_mask)


def test_nnunet_export_skips_volumes_with_unreviewed_slices(tmp_path, capsys):
    ws = _reviewed_volume_workspace(tmp_path / "ws", slices=(0,))
    assert main(["export", str(ws), "-o", str(tmp_path / "nn"), "--format", "nnunet"]) == 2
    assert "1 of 3 slices reviewed" in capsys.readouterr().err


def test_dicom_seg_export_references_the_series(tmp_path):
    ct_series(tmp_path / "ws" / "ct", count=3)
    with Workspace.open(tmp_path / "ws") as ws:
        (volume,) = ws.volumes()
        first = ws.volume_slices(volume.id)[0]
        mask = np.zeros((128, 128), np.uint8)
        mask[10:30, 40:90] = 1
        ws.save_correction(first.id, mask, "Dr Rossi")
        ws.set_status(first.id, ReviewStatus.ACCEPTED, "Dr Rossi")
        uid = volume.series_uid
    assert main(["export", str(tmp_path / "ws"), "-o", str(tmp_path / "seg"),
                 "--format", "dicom-seg"]) == 0
    (written,) = (tmp_path / "seg" / "labels").glob("*.seg.dcm")
    seg = pydicom.dcmread(written)
    assert seg.ReferencedSeriesSequence[0].SeriesInstanceUID == uid
    assert int(seg.NumberOfFrames) == 3


def test_generic_export_writes_volume_slices_as_tiff_in_their_units(tmp_path):
    ws = _reviewed_volume_workspace(tmp_path / "ws", slices=(2,))
    assert main(["export", str(ws), "-o", str(tmp_path / "gen")]) == 0
    image = read_image(tmp_path / "gen" / "images" / "brain_z002.tif")
    assert image.dtype == np.float32 and image.shape == (24, 20) and image.max() == 220


def test_coco_export_with_compressed_rle_decodes_to_the_masks(tmp_path):
    ws = _reviewed_volume_workspace(tmp_path / "ws", slices=(1,))
    assert main(["export", str(ws), "-o", str(tmp_path / "coco"), "--format", "coco"]) == 0
    coco = json.loads((tmp_path / "coco" / "coco.json").read_text())
    (annotation,) = coco["annotations"]
    rle = annotation["segmentation"]
    assert isinstance(rle["counts"], str)
    decoded = rle_decode({"size": rle["size"], "counts": string_to_counts(rle["counts"])})
    assert decoded.sum() == annotation["area"] == 7 * 9


def test_compressed_rle_matches_pycocotools_on_a_known_mask():
    mask = np.zeros((6, 5), bool)
    mask[1:4, 1:3] = True
    mask[5, 4] = True
    # pycocotools 2.0 mask.encode gives counts b"7330:N" for this mask (checked once by hand)
    assert encode_segmentation(mask, "compressed-rle")["counts"] == "7330:N"


@pytest.mark.parametrize("shape", ["square", "ring"])
def test_polygons_fill_back_to_the_mask_outline(shape):
    mask = np.zeros((30, 30), np.uint8)
    cv2.circle(mask, (15, 15), 9, 1, -1)
    if shape == "ring":
        cv2.circle(mask, (15, 15), 4, 0, -1)  # a hole: COCO polygons cannot keep it
    (polygon,) = encode_segmentation(mask.astype(bool), "polygon")
    filled = np.zeros_like(mask)
    cv2.fillPoly(filled, [np.array(polygon).reshape(-1, 2).astype(np.int32)], 1)
    outer = np.zeros_like(mask)
    cv2.circle(outer, (15, 15), 9, 1, -1)
    np.testing.assert_array_equal(filled, outer)
