"""Status counts kept by the database, and the one query behind Predict all."""

from __future__ import annotations

import sqlite3
from collections import Counter

import numpy as np
import pytest

from qtseg_core.workspace import ReviewStatus, Workspace
from qtseg_core.workspace.schema import SCHEMA_VERSION
from tests.core.workspace_helpers import write_gray, write_huge_png_header


def recount(ws: Workspace) -> tuple[dict[ReviewStatus, int], int]:
    """The counts as a full scan finds them (what ws.counts() did before)."""
    records = ws.images()
    found = Counter(record.status for record in records)
    return ({status: found.get(status, 0) for status in ReviewStatus},
            sum(not record.readable for record in records))


def folder_of(tmp_path, count: int):
    folder = tmp_path / "ws"
    folder.mkdir(parents=True)
    for k in range(count):
        write_gray(folder / f"img{k:04d}.png")
    return folder


def test_counts_follow_every_kind_of_change(tmp_path):
    folder = folder_of(tmp_path, 6)
    write_huge_png_header(folder / "huge.png")  # listed, refused as too large
    (folder / "broken.png").write_bytes(write_gray(tmp_path / "x.png").read_bytes()[:60])
    mask = np.zeros((32, 48), np.uint8)
    with Workspace.open(folder) as ws:
        assert (ws.counts(), ws.unreadable_count()) == recount(ws)
        ids = {record.name: record.id for record in ws.images()}
        ws.save_prediction(ids["img0000.png"], mask, "v1")
        ws.save_prediction(ids["img0001.png"], mask, "v1")
        ws.save_correction(ids["img0001.png"], mask, "ann")
        ws.save_prediction(ids["img0002.png"], mask, "v1")
        ws.set_status(ids["img0002.png"], ReviewStatus.ACCEPTED, "rev")
        ws.set_status(ids["img0003.png"], ReviewStatus.FLAGGED, "rev")
        with pytest.raises(ValueError):
            ws.read_image(ids["broken.png"])  # the header read, the pixels fail: now unreadable
        ws.remove_image(ids["img0004.png"])
        counts, unreadable = recount(ws)
        assert (ws.counts(), ws.unreadable_count()) == (counts, unreadable)
        assert counts[ReviewStatus.CORRECTED] == 1 and unreadable >= 1
    with Workspace.open(folder) as ws:  # reopened: the same, nothing recounted wrongly
        assert (ws.counts(), ws.unreadable_count()) == (counts, unreadable)


def test_a_schema_3_workspace_gets_its_counts_on_open(tmp_path):
    folder = folder_of(tmp_path, 4)
    with Workspace.open(folder) as ws:
        first = ws.images()[0].id
        ws.set_status(first, ReviewStatus.FLAGGED, "rev")
    db = sqlite3.connect(folder / "workspace.sqlite")
    for trigger in ("insert", "delete", "update"):
        db.execute(f"DROP TRIGGER image_counts_{trigger}")
    db.execute("DROP TABLE image_counts")
    db.execute("UPDATE schema_version SET version = 3")
    db.commit()
    db.close()
    with Workspace.open(folder) as ws:
        assert ws.counts()[ReviewStatus.FLAGGED] == 1
        assert ws.counts()[ReviewStatus.UNREVIEWED] == 3
        ws.set_status(first, ReviewStatus.REJECTED, "rev")  # and the triggers keep them
        assert ws.counts()[ReviewStatus.FLAGGED] == 0
        assert ws.counts()[ReviewStatus.REJECTED] == 1
    db = sqlite3.connect(folder / "workspace.sqlite")
    assert db.execute("SELECT version FROM schema_version").fetchone()[0] == SCHEMA_VERSION


def test_predict_all_leaves_out_what_the_model_in_use_predicted_last(tmp_path):
    folder = folder_of(tmp_path, 4)
    (folder / "broken.png").write_bytes(b"not a png")
    mask = np.zeros((32, 48), np.uint8)
    with Workspace.open(folder) as ws:
        a, b, c, d = (record.id for record in ws.images() if record.readable)
        ws.save_prediction(a, mask, "v1")
        ws.save_prediction(b, mask, "v1")
        ws.save_prediction(b, mask, "v2")  # then a newer model: v1's is no longer the latest
        ws.save_prediction(c, mask, "v2")
        ws.save_prediction(c, mask, "v1")  # rolled back to v1 and predicted again
        assert ws.predicted_by("v1") == {a, c}
        assert ws.predicted_by("v2") == {b}
        assert ws.readable_ids() == [a, b, c, d]  # name order, the unreadable file left out


def _vm_steps(ws: Workspace, work) -> int:
    """SQLite virtual-machine steps (in thousands) spent on ``work``: the work a query does,
    independent of the machine's load."""
    steps = [0]

    def count() -> int:
        steps[0] += 1
        return 0

    ws._db.set_progress_handler(count, 1000)
    try:
        work()
    finally:
        ws._db.set_progress_handler(None, 1000)
    return steps[0]


@pytest.mark.slow
def test_a_status_change_and_its_counts_cost_the_same_at_ten_times_the_images(tmp_path):
    steps = []
    for count in (150, 1500):
        with Workspace.open(folder_of(tmp_path / str(count), count)) as ws:
            first = ws.images()[0].id

            def change_and_count(ws=ws, first=first):  # what each accept or prediction does
                ws.set_status(first, ReviewStatus.REJECTED, "rev")
                ws.counts(), ws.unreadable_count()

            steps.append(_vm_steps(ws, change_and_count))
            full = _vm_steps(ws, lambda ws=ws: ws._query(
                "SELECT status, COUNT(*) FROM images GROUP BY status"))
    assert full > 5 * max(steps[1], 1)  # a recount at 1500 images is the bigger work
    assert steps[1] <= steps[0] + 2  # the counts do not grow with the workspace


def test_readable_counts_leave_out_files_that_cannot_be_opened(tmp_path):
    folder = folder_of(tmp_path, 3)
    (folder / "broken.png").write_bytes(b"not a png")
    write_huge_png_header(folder / "huge.png")
    with Workspace.open(folder) as ws:
        assert ws.counts()[ReviewStatus.UNREVIEWED] == 5  # every listed file
        assert ws.readable_counts()[ReviewStatus.UNREVIEWED] == 3  # the ones one can review
        first = next(record.id for record in ws.images() if record.readable)
        ws.save_prediction(first, np.zeros((32, 48), np.uint8), "v1")
        ws.set_status(first, ReviewStatus.ACCEPTED, "rev")
        readable = ws.readable_counts()
        assert (readable[ReviewStatus.UNREVIEWED], readable[ReviewStatus.ACCEPTED]) == (2, 1)
        plan = " ".join(str(row[-1]) for row in ws._query(
            "EXPLAIN QUERY PLAN SELECT status, COUNT(*) FROM images "
            "WHERE read_error IS NOT NULL GROUP BY status"))
        assert "images_unreadable" in plan  # the few unreadable rows, not a scan of all
