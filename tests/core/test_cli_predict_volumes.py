"""``qtseg predict`` on volumes: NIfTI in -> NIfTI out with the same geometry, DICOM series
in spatial order, DICOM-SEG referencing the series, PNG slices, probability maps."""

from __future__ import annotations

import nibabel as nib
import numpy as np
import pydicom
import pytest
import torch

from qtseg_core.checkpoint import save_model
from qtseg_core.cli import main
from qtseg_core.inference import Predictor
from qtseg_core.io import read_image, read_volume
from qtseg_core.models import build_model
from qtseg_core.resources import STARTER_MODEL, resource_path
from tests.core.test_training_fixtures import TINY_MODEL
from tests.core.volume_helpers import RAS_AFFINE, blob_volume, ct_series, write_nifti


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    torch.manual_seed(3)
    model = build_model("qtseg", **TINY_MODEL)
    path = tmp_path_factory.mktemp("model") / "tiny.safetensors"
    save_model(model, path, class_names=["background", "lesion"], input_size=64)
    return path


def _predict(checkpoint, *inputs, extra=()):
    return main(["predict", str(checkpoint), *map(str, inputs), *extra])


def test_nifti_in_nifti_label_volume_out_with_the_same_shape_and_affine(checkpoint, tmp_path):
    source = write_nifti(tmp_path / "brain.nii.gz", blob_volume((40, 36, 5)))
    assert _predict(checkpoint, source, extra=["-o", str(tmp_path / "out")]) == 0
    labels = nib.load(str(tmp_path / "out" / "brain.nii.gz"))
    assert labels.shape == (40, 36, 5)
    np.testing.assert_allclose(labels.affine, RAS_AFFINE, atol=1e-6)
    assert labels.get_data_dtype() == np.uint8


def test_shuffled_dicom_series_gives_one_label_volume_in_spatial_order(tmp_path):
    checkpoint = resource_path(STARTER_MODEL)  # trained: its masks follow the discs
    ct_series(tmp_path / "ct", count=4, spacing=3.0)
    _disc_per_slice(tmp_path / "ct")
    assert _predict(checkpoint, tmp_path / "ct",
                    extra=["-o", str(tmp_path / "out"), "--size", "128"]) == 0
    written = nib.load(str(tmp_path / "out" / "ct.nii.gz"))
    labels = np.asanyarray(written.dataobj).transpose(2, 1, 0)  # -> (slice, row, col)
    volume = read_volume(tmp_path / "ct")
    predictor = Predictor(_load(checkpoint), size=128)
    expected = np.stack([predictor.predict(volume.slice(k)).mask for k in range(4)])
    np.testing.assert_array_equal(labels, expected)
    assert len({plane.tobytes() for plane in expected}) > 1  # slices differ: order matters
    assert written.affine[2, 2] == pytest.approx(3.0)  # slices 3 mm apart, increasing z


def test_dicom_seg_references_the_series_with_a_frame_on_each_slice(checkpoint, tmp_path):
    ct_series(tmp_path / "ct", count=3, spacing=2.0)
    _disc_per_slice(tmp_path / "ct")
    assert _predict(checkpoint, tmp_path / "ct",
                    extra=["-o", str(tmp_path / "out"), "--format", "dicom-seg"]) == 0
    seg = pydicom.dcmread(tmp_path / "out" / "ct.seg.dcm")
    volume = read_volume(tmp_path / "ct")
    sources = [pydicom.dcmread(f) for f in volume.source.files]
    assert seg.Modality == "SEG"
    assert seg.ReferencedSeriesSequence[0].SeriesInstanceUID == sources[0].SeriesInstanceUID
    assert int(seg.NumberOfFrames) == 3  # one segment x three slices
    assert seg.SegmentSequence[0].SegmentLabel == "lesion"  # the checkpoint's class name
    by_uid = {s.SOPInstanceUID: s for s in sources}
    for frame in seg.PerFrameFunctionalGroupsSequence:
        referenced = frame.DerivationImageSequence[0].SourceImageSequence[0]
        source = by_uid[referenced.ReferencedSOPInstanceUID]
        position = frame.PlanePositionSequence[0].ImagePositionPatient
        assert [float(v) for v in position] == pytest.approx(
            [float(v) for v in source.ImagePositionPatient])


def test_png_format_writes_one_mask_per_dicom_file_as_before(checkpoint, tmp_path):
    ct_series(tmp_path / "ct", count=2)
    assert _predict(checkpoint, tmp_path / "ct",
                    extra=["-o", str(tmp_path / "out"), "--format", "png"]) == 0
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == sorted(f"{p.name}.png" for p in (tmp_path / "ct").iterdir())
    assert read_image(tmp_path / "out" / names[0]).shape == (128, 128)


def test_probabilities_are_float_maps_in_npz(checkpoint, tmp_path):
    source = write_nifti(tmp_path / "v.nii", blob_volume((32, 32, 3)))
    assert _predict(checkpoint, source,
                    extra=["-o", str(tmp_path / "out"), "--probabilities"]) == 0
    maps = np.load(tmp_path / "out" / "v_probabilities.npz")
    assert maps["probabilities"].shape == (3, 2, 32, 32)
    assert maps["probabilities"].dtype == np.float32
    np.testing.assert_allclose(maps["probabilities"].sum(axis=1), 1.0, atol=1e-5)


def test_dicom_seg_of_a_nifti_is_refused_with_the_reason(checkpoint, tmp_path, capsys):
    source = write_nifti(tmp_path / "v.nii.gz", blob_volume((32, 32, 2)))
    assert _predict(checkpoint, source,
                    extra=["-o", str(tmp_path / "out"), "--format", "dicom-seg"]) == 1
    assert "must reference DICOM source images" in capsys.readouterr().out


def test_folder_of_only_unsupported_files_says_so(checkpoint, tmp_path, capsys):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "notes.txt").write_text("x")
    assert _predict(checkpoint, tmp_path / "in", extra=["-o", str(tmp_path / "out")]) == 2
    captured = capsys.readouterr()
    assert "notes.txt" in captured.out and "not a format QTSeg reads" in captured.out
    assert "no images or volumes" in captured.err


def _disc_per_slice(folder):
    """Give each slice (by its position) a bright disc of a different size."""
    for path in folder.iterdir():
        dataset = pydicom.dcmread(path)
        k = int(round(float(dataset.ImagePositionPatient[2]) - 10))
        rows, cols = np.mgrid[: dataset.Rows, : dataset.Columns]
        disc = (rows - 64) ** 2 + (cols - 50) ** 2 <= (6 + 4 * k) ** 2
        dataset.PixelData = np.where(disc, 1200, 0).astype(np.int16).tobytes()
        dataset.save_as(path)


def _load(checkpoint):
    from qtseg_core.checkpoint import load_model

    return load_model(checkpoint)


def test_dicom_seg_on_a_source_highdicom_refuses_is_skipped_with_the_reason(
        checkpoint, tmp_path, capsys):
    from tests.core.volume_helpers import multiframe

    source = multiframe(tmp_path / "frames.dcm")  # no top-level geometry: not a valid SEG source
    assert _predict(checkpoint, source,
                    extra=["-o", str(tmp_path / "out"), "--format", "dicom-seg"]) == 1
    assert "highdicom cannot build a DICOM-SEG" in capsys.readouterr().out


def test_two_series_in_one_folder_give_two_label_volumes(checkpoint, tmp_path):
    ct_series(tmp_path / "ct", count=2, seed=1)
    ct_series(tmp_path / "other", count=3, seed=2)
    for path in (tmp_path / "other").iterdir():
        path.rename(tmp_path / "ct" / f"B_{path.name}")
    assert _predict(checkpoint, tmp_path / "ct", extra=["-o", str(tmp_path / "out")]) == 0
    written = sorted((tmp_path / "out").glob("ct-*.nii.gz"))
    assert sorted(nib.load(str(p)).shape[2] for p in written) == [2, 3]
