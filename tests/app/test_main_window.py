"""The real main window driven as a person would: open, wait, paint, undo, accept, export."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PySide6 import QtCore

from qtseg_app.qt.export_dialog import ExportDialog
from qtseg_core.workspace import MaskKind, ReviewStatus, Workspace
from tests.app.helpers import drag_on_canvas, open_active

STROKE = [(100.0, 100.0), (130.0, 105.0), (160.0, 110.0), (190.0, 115.0)]


def _wait_prediction(qtbot, window) -> None:
    if window.document is None or window.document.prediction is None:
        with qtbot.waitSignal(window.prediction_shown, timeout=20_000):
            pass


def test_review_session_end_to_end(qtbot, image_folder: Path, tiny_checkpoint: Path,
                                   no_dialogs, tmp_path: Path) -> None:
    window = open_active(qtbot, image_folder, tiny_checkpoint)
    assert "on cpu" in window.status.model.text()
    _wait_prediction(qtbot, window)
    first = window.current_id
    predicted = window.document.mask.copy()

    # paint a stroke: the mask changes along it and is saved as a correction at once
    window.session.tool_settings.set_radius(4)
    drag_on_canvas(window.canvas, STROKE)
    painted = window.document.mask.copy()
    assert painted[110, 160] == 1 and not np.array_equal(painted, predicted)
    ws = window.ws
    saved = ws.read_mask(ws.latest_mask(first, MaskKind.CORRECTION))
    assert np.array_equal(saved, painted)
    assert ws.image(first).status is ReviewStatus.CORRECTED

    # undo and redo with the keys
    qtbot.keyClick(window.canvas, QtCore.Qt.Key.Key_Z, QtCore.Qt.KeyboardModifier.ControlModifier)
    assert np.array_equal(window.document.mask, predicted)
    assert np.array_equal(ws.read_mask(ws.latest_mask(first, MaskKind.CORRECTION)), predicted)
    qtbot.keyClick(window.canvas, QtCore.Qt.Key.Key_Z, QtCore.Qt.KeyboardModifier.ControlModifier
                   | QtCore.Qt.KeyboardModifier.ShiftModifier)
    assert np.array_equal(window.document.mask, painted)

    # accept: stored with the reviewer, and the next image opens with its prediction
    qtbot.keyClick(window.canvas, QtCore.Qt.Key.Key_A)
    assert ws.image(first).status is ReviewStatus.ACCEPTED
    decision = [e for e in ws.history(first) if e.new_status is ReviewStatus.ACCEPTED][-1]
    assert decision.actor == "Dr Test"
    second = window.current_id
    assert second != first
    _wait_prediction(qtbot, window)
    assert window.document.prediction.image_id == second

    # export the accepted image as a training set
    dialog = ExportDialog(ws, window)
    dialog.folder_edit.setText(str(tmp_path / "export"))
    dialog.set_format("coco")
    dialog.accept()
    export = tmp_path / "export"
    assert (export / "images").is_dir() and (export / "coco.json").is_file()
    masks = sorted((export / "masks").glob("*.png"))
    assert len(masks) == 1
    assert json.loads((export / "splits.json").read_text())
    assert not no_dialogs

    # close and reopen: same image on screen, the accepted mask as left
    window.close()
    again = open_active(qtbot, image_folder)
    assert again.current_id == second
    assert again.ws.image(first).status is ReviewStatus.ACCEPTED
    final = again.ws.read_mask(again.ws.final_mask(first))
    assert np.array_equal(final, painted)
    assert "on cpu" in again.status.model.text()  # the workspace's model came back
    again.close()
    with Workspace.open(image_folder) as reopened:  # the lock was released
        assert reopened.image(first).status is ReviewStatus.ACCEPTED
