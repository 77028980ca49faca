"""Corrupt, unreadable and huge files are listed as such and do not stop the rest."""

from __future__ import annotations

from pathlib import Path

from PySide6 import QtCore

from qtseg_core.workspace import ReviewStatus
from tests.app.helpers import copy_real_images, open_active, write_huge_png_header


def test_bad_files_listed_and_rest_works(qtbot, image_folder: Path, tiny_checkpoint: Path,
                                         no_dialogs) -> None:
    images = image_folder / "images"
    (images / "a_corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\n this is not an image")
    (images / "a_empty.png").write_bytes(b"")
    (images / "a_text.dcm").write_text("not a DICOM file")
    write_huge_png_header(images / "a_huge.png")

    window = open_active(qtbot, image_folder, tiny_checkpoint)
    records = {r.name: r for r in window.ws.images()}
    bad = {"a_corrupt.png", "a_empty.png", "a_text.dcm", "a_huge.png"}
    assert {name for name, r in records.items() if not r.readable} == bad
    assert "too large" in records["a_huge.png"].read_error

    # the list shows them as unreadable, with the reason in the tooltip
    model = window.filmstrip.model
    rows = {model.data(model.index(i)): model.index(i) for i in range(model.rowCount())}
    assert "a_huge.png  —  unreadable" in rows
    tooltip = model.data(rows["a_huge.png  —  unreadable"], QtCore.Qt.ItemDataRole.ToolTipRole)
    assert "too large" in tooltip
    # the window opened the first readable image, not a broken one
    assert window.document is not None and window.document.record.readable

    # clicking a broken file shows why instead of crashing; the next good one still works
    window.session.open_image(records["a_corrupt.png"].id)
    assert window.document is None
    assert "cannot be shown" in window.canvas.notice.toPlainText()
    notice_width = window.canvas.notice.textItem.boundingRect().width()
    assert notice_width <= window.canvas.viewport().width()  # wrapped: all of it readable
    qtbot.keyClick(window.canvas, QtCore.Qt.Key.Key_U)  # next image to review
    assert window.document is not None
    # its prediction may already be in hand (predicted ahead) and shown at once
    qtbot.waitUntil(lambda: window.session.has_prediction(window.current_id), timeout=20_000)

    # "Unreadable" filter lists exactly the bad files
    window.filmstrip.set_filter("Unreadable")
    shown = {window.filmstrip.row_text(i).split()[0] for i in range(model.rowCount())}
    assert shown == bad

    # predict all skips them and finishes
    with qtbot.waitSignal(window.models.predict_all_finished, timeout=30_000):
        window.model_panel.predict_all()
    counts = window.ws.counts()
    assert counts[ReviewStatus.PREDICTED] == 5  # the 5 real images
    window.close()


def test_a_damaged_image_predicted_ahead_is_listed_unreadable_not_a_model_failure(
        qtbot, tmp_path: Path, tiny_checkpoint: Path, no_dialogs, monkeypatch) -> None:
    from qtseg_app.state.session import ReviewSession

    said: list[str] = []
    say = ReviewSession.say
    monkeypatch.setattr(ReviewSession, "say", lambda self, text, timeout_ms=8000: (
        said.append(text), say(self, text, timeout_ms))[1])
    images = tmp_path / "ws" / "images"
    good = copy_real_images(images, count_ct=1, count_mri=1)
    # a sound header with its pixels cut off: the scan lists it readable, decoding fails
    (images / "zz_damaged.png").write_bytes(good[0].read_bytes()[:300])
    window = open_active(qtbot, tmp_path / "ws", tiny_checkpoint)
    damaged = next(r.id for r in window.ws.images() if r.name == "zz_damaged.png")
    qtbot.waitUntil(lambda: not window.ws.image(damaged).readable, timeout=20_000)
    qtbot.waitUntil(lambda: "zz_damaged.png  —  unreadable" in {
        window.filmstrip.row_text(i) for i in range(window.filmstrip.model.rowCount())},
        timeout=5000)
    second = next(r.id for r in window.ws.images() if r.name == good[1].name)
    window.session.open_image(second)  # its prefetch would ask for the damaged one again
    qtbot.wait(500)
    assert not [text for text in said if "Prediction failed" in text]
    window.close()


def test_the_list_summary_counts_an_unreadable_file_once(qtbot, image_folder: Path,
                                                         tiny_checkpoint: Path, no_dialogs) -> None:
    (image_folder / "images" / "a_corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\n not an image")
    window = open_active(qtbot, image_folder, tiny_checkpoint)
    readable = sum(record.readable for record in window.ws.images())
    summary = window.filmstrip.counts_label.text().splitlines()[0]
    statuses = dict(part.split(": ") for part in summary.split(" · "))
    assert statuses.pop("unreadable") == "1"
    assert sum(int(n) for n in statuses.values()) == readable  # not readable + 1
    qtbot.waitUntil(lambda: window.service.busy_count == 0, timeout=30_000)
    window.close()
