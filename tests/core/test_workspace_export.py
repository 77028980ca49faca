"""Export: a training set `qtseg train` reads, with the split plan, a review table and COCO."""

from __future__ import annotations

import csv
import json

import cv2
import numpy as np
import pytest

from qtseg_core.cli import main
from qtseg_core.resources import resource_path
from qtseg_core.workspace import ExportError, ReviewStatus, Workspace
from qtseg_core.workspace.coco import rle_decode, rle_encode
from qtseg_core.workspace.demo import build_demo_workspace
from qtseg_core.workspace.export import export_training_set
from tests.core.workspace_helpers import demo_folder, square_mask

NAMES = ("brain1_z011", "brain1_z012", "lung1_z032", "lung2_z015")


@pytest.fixture
def reviewed(tmp_path):
    """brain1_z011 accepted after a correction (Dice 0.8 by hand), lung1_z032 accepted as
    predicted, brain1_z012 corrected only, lung2_z015 untouched."""
    ws = Workspace.open(demo_folder(tmp_path, NAMES))
    ids = {image.name[:-4]: image.id for image in ws.images()}
    # prediction 10x10 = 100 px, correction 10x15 = 150 px, overlap 100:
    # Dice = 200 / 250 = 0.8, IoU = 100 / 150 = 0.6667
    ws.save_prediction(ids["brain1_z011"], square_mask(256, 256, 20, 20, 10), "v1")
    correction = np.zeros((256, 256), np.uint8)
    correction[20:30, 20:35] = 1
    ws.save_correction(ids["brain1_z011"], correction, "Ana")
    ws.set_status(ids["brain1_z011"], ReviewStatus.ACCEPTED, "Dr Rossi")
    ws.save_prediction(ids["lung1_z032"], square_mask(512, 512, 100, 100, 40), "v1")
    ws.set_status(ids["lung1_z032"], ReviewStatus.ACCEPTED, "Dr Rossi")
    ws.save_correction(ids["brain1_z012"], square_mask(256, 256, 0, 0, 5), "Ana")
    yield ws, ids
    ws.close()


def test_export_layout_reads_back(reviewed, tmp_path):
    ws, ids = reviewed
    out = export_training_set(ws, tmp_path / "export")
    assert sorted(p.name for p in (out / "images").iterdir()) == ["brain1_z011.png",
                                                                   "lung1_z032.png"]
    original = ws.image(ids["lung1_z032"]).path.read_bytes()
    assert (out / "images" / "lung1_z032.png").read_bytes() == original
    mask = cv2.imread(str(out / "masks" / "brain1_z011.png"), cv2.IMREAD_UNCHANGED)
    assert set(np.unique(mask)) == {0, 255} and (mask == 255).sum() == 150
    classes = json.loads((out / "classes.json").read_text())
    assert classes["names"] == ["background", "foreground"] and len(classes["colors"]) == 2
    splits = json.loads((out / "splits.json").read_text())
    assert sorted(splits["train"] + splits["val"]) == ["brain1_z011", "lung1_z032"]
    for name in ("brain1_z011", "lung1_z032"):
        side = "val" if ws.split_plan().sides[ids[name]] == "val" else "train"
        assert name in splits[side]


def test_statuses_csv_has_every_image_with_dice(reviewed, tmp_path):
    ws, _ = reviewed
    out = export_training_set(ws, tmp_path / "export")
    rows = {row["id"]: row for row in csv.DictReader(open(out / "statuses.csv"))}
    assert sorted(rows) == sorted(NAMES)
    brain = rows["brain1_z011"]
    assert (brain["status"], brain["reviewer"], brain["model_version"]) == (
        "accepted", "Dr Rossi", "v1")
    assert float(brain["dice"]) == pytest.approx(0.8, abs=1e-4)
    assert float(brain["iou"]) == pytest.approx(2 / 3, abs=1e-4)
    assert float(rows["lung1_z032"]["dice"]) == 1.0  # accepted as predicted
    assert rows["brain1_z012"]["dice"] == ""  # corrected, but there was no prediction
    assert rows["lung2_z015"]["status"] == "unreviewed" and rows["lung2_z015"]["time"] == ""


def test_coco_rle_decodes_back_to_the_masks(reviewed, tmp_path):
    ws, ids = reviewed
    out = export_training_set(ws, tmp_path / "export", include_corrected=True, coco=True)
    coco = json.loads((out / "coco.json").read_text())
    assert {c["name"] for c in coco["categories"]} == {"foreground"}
    assert len(coco["images"]) == len(coco["annotations"]) == 3
    for annotation in coco["annotations"]:
        expected = ws.read_mask(ws.final_mask(annotation["image_id"])) == 1
        decoded = rle_decode(annotation["segmentation"])
        np.testing.assert_array_equal(decoded, expected)
        assert annotation["area"] == expected.sum()
    assert "brain1_z012" in json.loads((out / "splits.json").read_text())["train"] + \
        json.loads((out / "splits.json").read_text())["val"]


def test_rle_round_trip_and_column_major_counts():
    mask = np.array([[0, 1, 1], [0, 1, 0]], bool)  # column-major: 0 0 1 1 1 0
    assert rle_encode(mask)["counts"] == [2, 3, 1]
    assert rle_encode(np.ones((2, 2), bool))["counts"] == [0, 4]
    random = np.random.default_rng(0).random((37, 53)) > 0.7
    np.testing.assert_array_equal(rle_decode(rle_encode(random)), random)


def test_export_refuses_a_foreign_folder_and_replaces_its_own(reviewed, tmp_path):
    ws, _ = reviewed
    foreign = tmp_path / "my_documents"
    foreign.mkdir()
    (foreign / "thesis.docx").write_text("precious")
    with pytest.raises(ExportError, match="not a previous QTSeg export"):
        export_training_set(ws, foreign)
    assert [p.name for p in foreign.iterdir()] == ["thesis.docx"]
    out = export_training_set(ws, tmp_path / "export")
    export_training_set(ws, out, include_corrected=True)
    assert len(list((out / "images").iterdir())) == 3
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".export")]


def test_export_is_read_by_the_generic_layout(reviewed, tmp_path):
    generic = pytest.importorskip("qtseg_core.data.layouts.generic")
    ws, _ = reviewed
    index = generic.read(export_training_set(ws, tmp_path / "export"))
    assert sorted(s.id for s in index.samples) == ["brain1_z011", "lung1_z032"]
    assert {s.group for s in index.samples} == {"brain1", "lung1"}


def test_demo_workspace_holds_the_real_images_with_groups(tmp_path):
    folder = build_demo_workspace(tmp_path / "demo", starter_model=tmp_path / "absent")
    demo = resource_path("demo")
    shipped = sorted(p.name for p in (demo / "images").glob("*.png"))
    with Workspace.open(folder) as ws:
        images = ws.images()
        assert sorted(image.name for image in images) == shipped
        assert all(image.readable for image in images)
        groups = {image.group for image in images}
    assert {"brain1", "brain2", "breast1", "lung1", "lung2"} <= groups
    assert sorted(p.name for p in (demo / "ground_truth").glob("*.png")) == shipped
    assert (demo / "LICENSES.md").is_file()
    size = sum(p.stat().st_size for p in demo.rglob("*") if p.is_file())
    assert size < 10e6


def test_re_export_refuses_a_previous_export_holding_files_the_user_added(reviewed, tmp_path):
    ws, _ = reviewed
    out = export_training_set(ws, tmp_path / "export")
    (out / "notes.txt").write_text("my notes")
    (out / "images" / "extra_case.png").write_bytes(b"mine")
    with pytest.raises(ExportError, match=r"2 file\(s\).*images/extra_case.png, notes.txt"):
        export_training_set(ws, out, include_corrected=True)
    assert (out / "notes.txt").read_text() == "my notes"
    assert (out / "images" / "extra_case.png").read_bytes() == b"mine"
    assert len(list((out / "masks").iterdir())) == 2  # the old export stays as it was


def test_a_stray_export_marker_does_not_make_a_folder_an_export(reviewed, tmp_path):
    ws, _ = reviewed
    folder = tmp_path / "my_documents"
    (folder / "images").mkdir(parents=True)
    (folder / "images" / "holiday.png").write_bytes(b"photo")
    (folder / "qtseg_export.json").write_text('{"format": "qtseg-generic", "version": 1}')
    with pytest.raises(ExportError, match="not a previous QTSeg export"):
        export_training_set(ws, folder)
    assert (folder / "images" / "holiday.png").read_bytes() == b"photo"




def test_nothing_accepted_says_what_to_do_and_nifti_of_2d_images_names_other_formats(
        tmp_path, capsys):
    """From the user test: `qtseg export` with corrections but nothing accepted failed with
    "[Errno 2] No such file or directory: '.../masks'"; nifti said "accept the masks first"
    of a folder of 2D images, which no acceptance can export as label volumes."""
    with Workspace.open(demo_folder(tmp_path, NAMES)) as ws:
        ws.save_correction(ws.images()[0].id, square_mask(256, 256, 20, 20, 10), "Ana")
    for format in ("generic", "coco"):  # statuses.csv alone, and why no image came
        assert main(["export", str(tmp_path / "ws"), "-o", str(tmp_path / format),
                     "--format", format]) == 0
        err = capsys.readouterr().err
        assert "no image is accepted yet" in err and "the 1 corrected image(s)" in err
        assert len((tmp_path / format / "statuses.csv").read_text().splitlines()) == 5
        assert not any((tmp_path / format / "masks").iterdir())
    assert main(["export", str(tmp_path / "ws"), "-o", str(tmp_path / "nn"),
                 "--format", "nnunet"]) == 2
    assert "the 1 corrected image(s)" in capsys.readouterr().err
    assert main(["export", str(tmp_path / "ws"), "-o", str(tmp_path / "nifti"),
                 "--format", "nifti"]) == 2
    err = capsys.readouterr().err
    assert "no volumes" in err and "accept the masks" not in err
    assert main(["export", str(tmp_path / "ws"), "-o", str(tmp_path / "out"),
                 "--include-corrected"]) == 0
    assert len(list((tmp_path / "out" / "masks").iterdir())) == 1
