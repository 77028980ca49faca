"""Flag comments are shown (review strip, list tooltip, history) and the reviewer name can
change; strokes made before a name is set are attributed when it is (issue 16, item 22)."""

from __future__ import annotations

from pathlib import Path

from PySide6 import QtCore, QtWidgets

from qtseg_app.qt import dialogs
from qtseg_app.qt.history_dialog import HistoryDialog
from qtseg_core.workspace import MaskKind, ReviewStatus
from tests.app.helpers import drag_on_canvas, open_active

Key = QtCore.Qt.Key


def test_a_flag_comment_is_shown_and_the_early_stroke_gets_the_name(
        qtbot, image_folder: Path, no_dialogs, monkeypatch) -> None:
    window = open_active(qtbot, image_folder)
    ws, flagged = window.ws, window.current_id
    assert ws.reviewer_name is None
    drag_on_canvas(window.canvas, [(60, 60), (90, 60), (120, 60)])  # before any name
    assert ws.latest_mask(flagged, MaskKind.CORRECTION).author is None
    qtbot.keyClick(window.canvas, Key.Key_F)  # asks the name (Dr Test), flags with a comment
    assert ws.latest_mask(flagged, MaskKind.CORRECTION).author == "Dr Test"

    model = window.filmstrip.model
    tooltip = model.data(model.index_of(flagged), QtCore.Qt.ItemDataRole.ToolTipRole)
    assert "Dr Test: needs an expert" in tooltip
    window.session.open_image(flagged)
    qtbot.keyClick(window.canvas, Key.Key_F2)  # review mode: the strip shows the comment
    assert "needs an expert" in window.review_bar.comment_label.text()
    assert "Dr Test" in window.review_bar.comment_label.text()

    qtbot.keyClick(window.canvas, Key.Key_H, QtCore.Qt.KeyboardModifier.ControlModifier)
    history = window.findChild(HistoryDialog)
    assert history is not None and history.isVisible()
    assert ["Dr Test", "flagged (was corrected)", "needs an expert"] in [
        row[1:] for row in history.rows()]
    history.close()

    monkeypatch.setattr(dialogs, "ask_reviewer_name", lambda parent: "Dr Rossi")
    window.actions_by_name["reviewer_name"].trigger()
    assert ws.reviewer_name == "Dr Rossi"
    assert "Dr Rossi" in window.review_bar.image_label.text()
    assert ws.latest_mask(flagged, MaskKind.CORRECTION).author == "Dr Test"  # still theirs
    assert not no_dialogs
    QtWidgets.QApplication.processEvents()
    window.close()


def test_painting_on_a_flagged_image_keeps_the_flag(qtbot, image_folder: Path,
                                                    no_dialogs) -> None:
    window = open_active(qtbot, image_folder)
    flagged = window.current_id
    qtbot.keyClick(window.canvas, Key.Key_F)  # flags with a comment, opens the next image
    window.session.open_image(flagged)
    drag_on_canvas(window.canvas, [(60, 60), (90, 60), (120, 60)])
    assert window.ws.latest_mask(flagged, MaskKind.CORRECTION) is not None
    assert window.ws.image(flagged).status is ReviewStatus.FLAGGED
    assert window.session.document.record.status is ReviewStatus.FLAGGED
    qtbot.keyClick(window.canvas, Key.Key_F2)
    assert "flagged" in window.review_bar.image_label.text()
    assert "needs an expert" in window.review_bar.comment_label.text()
    window.close()



def test_the_history_shows_a_run_of_strokes_as_one_row(qtbot, image_folder: Path,
                                                       no_dialogs) -> None:
    """Every stroke, undo and redo is saved as a correction: an afternoon's strokes made
    150 identical lines around the one decision that mattered (seen in the user test)."""
    window = open_active(qtbot, image_folder)
    ws, image = window.ws, window.current_id
    mask = window.document.mask.copy()
    for size in (4, 6, 8):
        mask[:size, :size] = 1
        ws.save_correction(image, mask, "Ana")
    ws.set_status(image, ReviewStatus.FLAGGED, "Ana", "needs an expert")
    ws.save_correction(image, mask, "Ana")
    qtbot.keyClick(window.canvas, Key.Key_H, QtCore.Qt.KeyboardModifier.ControlModifier)
    history = window.findChild(HistoryDialog)
    assert [row[1:] for row in history.rows()][-3:] == [
        ["Ana", "correction ×3", ""], ["Ana", "flagged (was corrected)", "needs an expert"],
        ["Ana", "correction", ""]]
    history.close()
    window.close()
