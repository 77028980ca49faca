"""The export dialog offers the volume formats and writes them with the core exporter."""

from __future__ import annotations

import json
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from qtseg_app.qt.export_dialog import ExportDialog
from qtseg_core.workspace import ReviewStatus, Workspace
from tests.core.volume_helpers import RAS_AFFINE, blob_volume, write_nifti


def _enabled(dialog: ExportDialog) -> dict[str, bool]:
    model = dialog.format_box.model()
    return {dialog.format_box.itemData(row): model.item(row).isEnabled()
            for row in range(dialog.format_box.count())}


def _accepted_volume(folder: Path) -> Workspace:
    folder.mkdir()
    write_nifti(folder / "brain.nii.gz", blob_volume((20, 24, 3)))
    ws = Workspace.open(folder)
    for image in ws.volume_slices(ws.volumes()[0].id):
        mask = np.zeros((24, 20), np.uint8)
        mask[2:10, 3:12] = 1
        ws.save_correction(image.id, mask, "Dr Test")
        ws.set_status(image.id, ReviewStatus.ACCEPTED, "Dr Test")
    return ws


def test_nifti_and_nnunet_from_the_dialog_keep_the_source_affine(
        qtbot, tmp_path: Path, no_dialogs) -> None:
    ws = _accepted_volume(tmp_path / "ws")
    dialog = ExportDialog(ws)
    qtbot.addWidget(dialog)
    assert _enabled(dialog) == {"generic": True, "coco": True, "nifti": True,
                                "dicom-seg": False, "nnunet": True}  # no DICOM here
    dialog.set_format("nifti")
    assert "affine" in dialog.detail.text() and not dialog.encoding_box.isVisibleTo(dialog)
    dialog.folder_edit.setText(str(tmp_path / "nifti"))
    dialog.accept()
    assert dialog.result() == ExportDialog.DialogCode.Accepted, no_dialogs
    labels = nib.load(str(tmp_path / "nifti" / "labels" / "brain.nii.gz"))
    np.testing.assert_allclose(labels.affine, RAS_AFFINE, atol=1e-6)
    assert dialog.outcome() == f"Exported 1 item(s) as nifti to {tmp_path / 'nifti'}"
    again = ExportDialog(ws)
    qtbot.addWidget(again)
    again.set_format("nnunet")
    again.folder_edit.setText(str(tmp_path / "nn"))
    again.accept()
    dataset = json.loads((tmp_path / "nn" / "dataset.json").read_text())
    assert dataset["numTraining"] == 1 and dataset["file_ending"] == ".nii.gz"
    image = nib.load(str(tmp_path / "nn" / "imagesTr" / "brain_0000.nii.gz"))
    np.testing.assert_allclose(image.affine, RAS_AFFINE, atol=1e-6)
    assert not no_dialogs
    ws.close()


def test_a_workspace_without_volumes_greys_out_the_volume_formats(
        qtbot, image_folder: Path) -> None:
    with Workspace.open(image_folder) as ws:
        dialog = ExportDialog(ws)
        qtbot.addWidget(dialog)
        assert _enabled(dialog) == {"generic": True, "coco": True, "nifti": False,
                                    "dicom-seg": False, "nnunet": True}
        dialog.set_format("coco")
        assert dialog.encoding_box.isVisibleTo(dialog)


@pytest.fixture
def volume_dialog(qtbot, tmp_path: Path):  # noqa: ANN201
    """The export dialog of a workspace holding one NIfTI volume, nothing reviewed."""
    folder = tmp_path / "ws"
    folder.mkdir()
    write_nifti(folder / "brain.nii.gz", blob_volume((20, 24, 3)))
    with Workspace.open(folder) as ws:
        dialog = ExportDialog(ws)
        qtbot.addWidget(dialog)
        yield dialog


def test_nothing_accepted_is_said_and_the_dialog_stays_open(
        volume_dialog, tmp_path: Path, no_dialogs) -> None:
    volume_dialog.set_format("nifti")
    volume_dialog.folder_edit.setText(str(tmp_path / "out"))
    volume_dialog.accept()
    assert volume_dialog.result() != ExportDialog.DialogCode.Accepted
    ((title, problem),) = no_dialogs
    assert title == "Export failed" and "brain: no slice accepted yet" in problem


def test_a_training_set_of_nothing_accepted_says_why_in_the_status_line(
        volume_dialog, tmp_path: Path, no_dialogs) -> None:
    volume_dialog.folder_edit.setText(str(tmp_path / "out"))
    volume_dialog.accept()  # generic: statuses.csv only
    assert volume_dialog.result() == ExportDialog.DialogCode.Accepted, no_dialogs
    assert "no image is accepted yet" in volume_dialog.outcome()
