"""Comments reach statuses.csv; corrections made before a reviewer name is set are
attributed when it is (issue 16, item 22)."""

from __future__ import annotations

import csv

from qtseg_core.workspace import MaskKind, ReviewStatus, Workspace
from qtseg_core.workspace.export import export_training_set
from tests.core.workspace_helpers import demo_folder, square_mask

NAMES = ("brain1_z011", "lung1_z032")


def test_flag_comments_are_in_statuses_csv(tmp_path) -> None:
    with Workspace.open(demo_folder(tmp_path, NAMES)) as ws:
        brain, lung = (image.id for image in ws.images())
        ws.save_correction(brain, square_mask(256, 256, 20, 20, 10), "Ana")
        ws.set_status(brain, ReviewStatus.FLAGGED, "Ana", "edge unclear, ask Dr Rossi")
        ws.add_comment(brain, "Dr Rossi", "agree: resect margin")
        out = export_training_set(ws, tmp_path / "export", include_corrected=True)
    rows = {row["image_id"]: row for row in csv.DictReader(open(out / "statuses.csv"))}
    assert rows[str(brain)]["comments"] == ("Ana: edge unclear, ask Dr Rossi | "
                                            "Dr Rossi: agree: resect margin")
    assert rows[str(lung)]["comments"] == ""


def test_corrections_before_a_name_is_set_are_attributed_when_it_is(tmp_path) -> None:
    with Workspace.open(demo_folder(tmp_path, NAMES)) as ws:
        brain, lung = (image.id for image in ws.images())
        ws.save_correction(brain, square_mask(256, 256, 20, 20, 10), None)  # no name yet
        ws.reviewer_name = "Ana"
        assert ws.latest_mask(brain, MaskKind.CORRECTION).author == "Ana"
        assert [e.actor for e in ws.history(brain) if e.kind == "correction"] == ["Ana"]
        ws.save_correction(lung, square_mask(512, 512, 10, 10, 10), "Ana")
        ws.reviewer_name = "Dr Rossi"  # the name changed: Ana's work stays hers
        assert ws.latest_mask(brain, MaskKind.CORRECTION).author == "Ana"
        assert ws.latest_mask(lung, MaskKind.CORRECTION).author == "Ana"
        assert ws.reviewer_name == "Dr Rossi"
        ws.reviewer_name = None
        assert ws.reviewer_name is None


def test_an_edit_keeps_a_flag_and_its_comment(tmp_path) -> None:
    """A flag asks a person to look: editing the mask does not answer it."""
    with Workspace.open(demo_folder(tmp_path, NAMES)) as ws:
        brain, lung = (image.id for image in ws.images())
        ws.set_status(brain, ReviewStatus.FLAGGED, "Dr Rossi", "edge unclear")
        ws.save_correction(brain, square_mask(256, 256, 20, 20, 10), "Ana")
        ws.save_correction(brain, square_mask(256, 256, 30, 30, 10), "Ana", amend=True)
        assert ws.image(brain).status is ReviewStatus.FLAGGED
        assert [c.text for c in ws.comments(brain)] == ["edge unclear"]
        assert brain not in {item.image_id for item in ws.training_items()}
        ws.set_status(lung, ReviewStatus.REJECTED, "Dr Rossi")
        ws.save_correction(lung, square_mask(512, 512, 10, 10, 10), "Ana")
        assert ws.image(lung).status is ReviewStatus.CORRECTED  # a rejection is answered
