"""Review mode: minimal view, one key per decision, reviewer asked once, prefetched next."""

from __future__ import annotations

from pathlib import Path

from PySide6 import QtCore

from qtseg_app.qt import dialogs
from qtseg_core.workspace import ReviewStatus
from tests.app.helpers import open_active


def test_review_mode_keys_and_prefetch(qtbot, image_folder: Path, tiny_checkpoint: Path,
                                       no_dialogs, monkeypatch) -> None:
    asked: list[str] = []
    monkeypatch.setattr(dialogs, "ask_reviewer_name",
                        lambda parent: asked.append("name") or "Dr Rossi")
    window = open_active(qtbot, image_folder, tiny_checkpoint)
    qtbot.keyClick(window.canvas, QtCore.Qt.Key.Key_F2)
    assert window.review_mode and window.review_bar.isVisible()
    assert not any(dock.isVisible() for dock in window.docks)
    assert asked == ["name"] and window.ws.setting("reviewer_name") == "Dr Rossi"
    qtbot.waitUntil(lambda: window.service.busy_count == 0, timeout=30_000)

    decisions = [(QtCore.Qt.Key.Key_A, ReviewStatus.ACCEPTED),
                 (QtCore.Qt.Key.Key_R, ReviewStatus.REJECTED),
                 (QtCore.Qt.Key.Key_F, ReviewStatus.FLAGGED)]
    for key, status in decisions:
        image_id = window.current_id
        qtbot.keyClick(window.canvas, key)
        assert window.ws.image(image_id).status is status
        assert window.current_id != image_id
        # the next image's prediction was computed ahead: it is on screen at once
        assert window.document.prediction is not None
        qtbot.waitUntil(lambda: window.service.busy_count == 0, timeout=30_000)

    assert asked == ["name"]  # asked once, for every decision
    flagged = [e for e in window.ws.history() if e.new_status is ReviewStatus.FLAGGED]
    assert flagged[0].actor == "Dr Rossi" and flagged[0].comment == "needs an expert"
    assert "left to review" in window.review_bar.left_label.text()
    qtbot.keyClick(window.canvas, QtCore.Qt.Key.Key_F2)
    assert not window.review_mode and window.docks[0].isVisible()
    window.close()


def test_left_to_review_counts_only_images_that_can_be_opened(
        qtbot, image_folder: Path, tiny_checkpoint: Path, no_dialogs) -> None:
    (image_folder / "images" / "a_corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\n not an image")
    window = open_active(qtbot, image_folder, tiny_checkpoint)
    readable = sum(record.readable for record in window.ws.images())
    assert readable < len(window.ws.images())
    qtbot.keyClick(window.canvas, QtCore.Qt.Key.Key_F2)
    assert window.review_bar.left_label.text() == f"{readable} left to review"
    qtbot.waitUntil(lambda: window.service.busy_count == 0, timeout=30_000)
    window.close()
