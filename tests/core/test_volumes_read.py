"""read_volume: geometry round trips, DICOM series order, multi-frame, window tags, errors."""

from __future__ import annotations

import nibabel as nib
import numpy as np
import pytest
from pydicom.data import get_testdata_file

from qtseg_core.io import ImageReadError, read_image, read_volume
from qtseg_core.volumes import VolumeReadError, scan_folder
from qtseg_core.volumes.nifti import write_nifti as write_label_nifti
from tests.core.volume_helpers import (
    RAS_AFFINE,
    blob_volume,
    ct_series,
    multiframe,
    write_nifti,
)


@pytest.mark.parametrize("name", ["brain.nii.gz", "brain.nii"])
def test_nifti_labels_come_back_with_the_source_shape_and_affine(tmp_path, name):
    data = blob_volume()
    volume = read_volume(write_nifti(tmp_path / name, data))
    assert volume.voxels.shape == (6, 24, 20)  # (slice, row, col)
    assert volume.spacing == pytest.approx(tuple(np.linalg.norm(RAS_AFFINE[:3, :3], axis=0))[::-1])
    labels = (volume.voxels > 100).astype(np.uint8)
    written = nib.load(str(write_label_nifti(tmp_path / f"label_{name}", labels, volume)))
    np.testing.assert_allclose(written.affine, RAS_AFFINE, atol=1e-6)
    np.testing.assert_array_equal(np.asanyarray(written.dataobj), (data > 100).astype(np.uint8))
    assert written.header.get_data_dtype() == np.uint8


def test_nifti_slices_are_shown_with_anterior_up_and_patient_right_on_the_left(tmp_path):
    volume = read_volume(write_nifti(tmp_path / "v.nii.gz", blob_volume()))
    col_axis, row_axis = volume.geometry.affine[:3, 0], volume.geometry.affine[:3, 1]
    assert col_axis[0] > 0 and row_axis[1] > 0  # LPS: +x Left, +y Posterior


def test_dicom_series_is_ordered_by_position_not_name_or_instance_number(tmp_path):
    ct_series(tmp_path / "ct", count=6, spacing=2.5, oblique=True)
    volume = read_volume(tmp_path / "ct")
    assert volume.voxels.shape == (6, 128, 128)
    assert volume.voxels[:, 0, 0].tolist() == [0, 100, 200, 300, 400, 500]
    assert volume.spacing[0] == pytest.approx(2.5)
    assert volume.spacing[1:] == pytest.approx((0.661468, 0.661468))
    assert volume.geometry.origin == pytest.approx((-50, -60, 10))
    by_name = sorted(volume.source.files)
    assert list(volume.source.files) != by_name  # the order came from the positions


def test_multiframe_dicom_frames_in_spatial_order(tmp_path):
    volume = read_volume(multiframe(tmp_path / "enhanced.dcm", count=4, spacing=2.0))
    assert volume.voxels[:, 5, 5].tolist() == [0, 10, 20, 30]  # 1024 intercept applied
    assert volume.spacing == pytest.approx((2.0, 0.5, 0.5))


def test_dicom_window_tags_are_kept():
    volume = read_volume(get_testdata_file("MR_small.dcm"))
    assert (volume.window.center, volume.window.width) == (600, 1600)
    assert volume.num_slices == 1 and volume.modality == "MR"


def test_nrrd_geometry_in_lps(tmp_path):
    import nrrd

    directions = np.array([[0.7, 0, 0], [0, 0.7, 0], [0, 0, 3.0]])
    header = {"space": "left-posterior-superior", "space directions": directions,
              "space origin": np.array([1.0, 2.0, 3.0])}
    nrrd.write(str(tmp_path / "ct.nrrd"), blob_volume(), header)
    volume = read_volume(tmp_path / "ct.nrrd")
    assert volume.voxels.shape == (6, 24, 20)
    assert volume.spacing == pytest.approx((3.0, 0.7, 0.7))
    assert volume.geometry.origin == pytest.approx((1, 2, 3))


def test_metaimage_reads_with_simpleitk(tmp_path):
    sitk = pytest.importorskip("SimpleITK")
    image = sitk.GetImageFromArray(blob_volume().transpose(2, 1, 0))
    image.SetSpacing((0.5, 0.6, 2.0))
    image.SetOrigin((10.0, 20.0, 30.0))
    sitk.WriteImage(image, str(tmp_path / "v.mha"))
    volume = read_volume(tmp_path / "v.mha")
    assert volume.voxels.shape == (6, 24, 20)
    assert volume.spacing == pytest.approx((2.0, 0.6, 0.5))
    np.testing.assert_array_equal(volume.voxels, blob_volume().transpose(2, 1, 0))


def test_metaimage_without_simpleitk_says_how_to_install(tmp_path, monkeypatch):
    import sys

    (tmp_path / "v.mha").write_text("ObjectType = Image\n")
    monkeypatch.setitem(sys.modules, "SimpleITK", None)
    with pytest.raises(VolumeReadError, match=r'qtseg-studio\[itk\]'):
        read_volume(tmp_path / "v.mha")


def test_multipage_tiff_is_a_stack_not_its_first_page(tmp_path):
    import tifffile

    stack = np.arange(3 * 8 * 10, dtype=np.uint16).reshape(3, 8, 10)
    tifffile.imwrite(tmp_path / "stack.tif", stack, photometric="minisblack")
    np.testing.assert_array_equal(read_volume(tmp_path / "stack.tif").voxels, stack)
    with pytest.raises(ImageReadError, match="stack of 3 pages"):
        read_image(tmp_path / "stack.tif")


def test_folder_of_only_unsupported_files_lists_each_with_the_reason(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    (tmp_path / "scan.gz").write_bytes(b"\x1f\x8b")
    scan = scan_folder(tmp_path)
    assert not scan.volumes and not scan.images
    assert set(scan.unreadable) == {tmp_path / "notes.txt", tmp_path / "scan.gz"}
    assert all("not a format QTSeg reads" in r for r in scan.unreadable.values())


def test_folder_scan_finds_series_volume_files_and_bad_dicom(tmp_path):
    ct_series(tmp_path, count=3)
    write_nifti(tmp_path / "mri.nii.gz", blob_volume())
    (tmp_path / "broken.dcm").write_bytes(b"not dicom at all")
    scan = scan_folder(tmp_path)
    assert tmp_path / "mri.nii.gz" in scan.volumes
    series = [v for v in scan.volumes if not hasattr(v, "suffix")]
    assert len(series) == 1 and series[0].num_files == 3
    assert series[0].read().num_slices == 3
    assert "broken.dcm" in {p.name for p in scan.unreadable}


def test_two_slices_at_one_position_are_refused_with_the_reason(tmp_path):
    ct_series(tmp_path / "a", count=3, seed=1)
    import pydicom

    first = sorted((tmp_path / "a").iterdir())
    dataset = pydicom.dcmread(first[0])
    dataset.ImagePositionPatient = pydicom.dcmread(first[1]).ImagePositionPatient
    dataset.save_as(first[0])
    with pytest.raises(VolumeReadError, match="same position"):
        read_volume(tmp_path / "a")
