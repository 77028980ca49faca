"""Volumes in a workspace: one volume, N slice images; edits per slice survive a restart;
the label volume is written with the source geometry; old workspaces are upgraded."""

from __future__ import annotations

import sqlite3

import nibabel as nib
import numpy as np

from qtseg_core.io import read_volume
from qtseg_core.workspace import Workspace
from qtseg_core.workspace.records import ReviewStatus
from qtseg_core.workspace.schema import SCHEMA_VERSION
from tests.core.volume_helpers import RAS_AFFINE, blob_volume, ct_series, write_nifti


def test_a_folder_with_only_a_nifti_opens_as_one_volume_of_slices(tmp_path):
    write_nifti(tmp_path / "brain.nii.gz", blob_volume((20, 24, 5)))
    with Workspace.open(tmp_path) as ws:
        (volume,) = ws.volumes()
        slices = ws.volume_slices(volume.id)
        assert volume.name == "brain" and volume.slices == 5 and len(slices) == 5
        assert [s.name for s in slices][:2] == ["brain_z000", "brain_z001"]
        assert all(s.readable and s.group == "brain" for s in slices)
        source = read_volume(tmp_path / "brain.nii.gz")
        np.testing.assert_array_equal(ws.read_image(slices[3].id), source.slice(3))
        assert (slices[3].width, slices[3].height) == (20, 24)


def test_an_edit_on_slice_k_is_back_after_reopening_and_in_the_label_volume(tmp_path):
    data = blob_volume((20, 24, 5))
    write_nifti(tmp_path / "brain.nii.gz", data)
    with Workspace.open(tmp_path) as ws:
        (volume,) = ws.volumes()
        slice_2 = ws.volume_slices(volume.id)[2]
        edit = np.zeros((24, 20), np.uint8)
        edit[3:9, 4:15] = 1
        ws.save_correction(slice_2.id, edit, "Dr Rossi")
    with Workspace.open(tmp_path) as ws:
        (volume,) = ws.volumes()
        slices = ws.volume_slices(volume.id)
        np.testing.assert_array_equal(ws.read_mask(ws.final_mask(slices[2].id)), edit)
        assert slices[2].status == ReviewStatus.CORRECTED
        assert ws.volume_counts(volume.id)[ReviewStatus.CORRECTED] == 1
        assert ws.volume_status(volume.id) == ReviewStatus.UNREVIEWED
        written = nib.load(str(ws.write_label_volume(volume.id, tmp_path / "out")))
    np.testing.assert_allclose(written.affine, RAS_AFFINE, atol=1e-6)
    labels = np.asanyarray(written.dataobj)
    assert labels.shape == data.shape and labels.sum() == edit.sum()
    assert labels[:, :, 2].sum() == edit.sum()  # on slice 2, nowhere else


def test_a_dicom_series_folder_is_one_volume_in_spatial_order(tmp_path):
    ct_series(tmp_path / "ct", count=4)
    with Workspace.open(tmp_path) as ws:
        (volume,) = ws.volumes()
        assert volume.format == "dicom" and volume.slices == 4 and len(ws.images()) == 4
        values = [int(ws.read_image(s.id)[0, 0]) for s in ws.volume_slices(volume.id)]
        assert values == [0, 100, 200, 300]


def test_a_schema_1_workspace_is_upgraded_on_open_and_keeps_its_images(tmp_path):
    db = sqlite3.connect(tmp_path / "workspace.sqlite")
    db.executescript("""
        CREATE TABLE schema_version (version INTEGER NOT NULL);
        INSERT INTO schema_version VALUES (1);
        CREATE TABLE images (id INTEGER PRIMARY KEY, path TEXT NOT NULL UNIQUE,
            name TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'unreviewed', width INTEGER,
            height INTEGER, group_id TEXT, split TEXT, read_error TEXT, added_at TEXT NOT NULL);
        INSERT INTO images (path, name, status, added_at)
            VALUES ('old.png', 'old.png', 'accepted', '2026-01-01');
    """)
    db.commit()
    db.close()
    write_nifti(tmp_path / "new.nii.gz", blob_volume((16, 16, 2)))
    with Workspace.open(tmp_path) as ws:
        names = sorted(image.name for image in ws.images())
        assert names == ["new_z000", "new_z001", "old.png"]
        assert ws.image(1).status == ReviewStatus.ACCEPTED and ws.image(1).volume_id is None
        assert ws.counts()[ReviewStatus.ACCEPTED] == 1  # counted once at the upgrade
        assert ws.counts()[ReviewStatus.UNREVIEWED] == 2
    version = sqlite3.connect(tmp_path / "workspace.sqlite").execute(
        "SELECT version FROM schema_version").fetchone()[0]
    assert version == SCHEMA_VERSION


def test_an_unreadable_volume_is_listed_with_the_reason(tmp_path):
    (tmp_path / "broken.nii.gz").write_bytes(b"\x1f\x8bnot really gzip")
    with Workspace.open(tmp_path) as ws:
        (image,) = ws.images()
        assert not image.readable and "NIfTI" in image.read_error
