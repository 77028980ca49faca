"""Polygon, flood fill, eraser, clean-up keys and brush size, through the real window."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6 import QtCore

from qtseg_core.workspace import MaskKind
from tests.app.helpers import (
    drag_on_canvas,
    hover_canvas,
    open_active,
    press_and_move,
    release_on_canvas,
)

Key = QtCore.Qt.Key


def _click(qtbot, window, x: float, y: float) -> None:
    qtbot.mouseClick(window.canvas.viewport(), QtCore.Qt.MouseButton.LeftButton,
                     pos=window.canvas.widget_pos_of_pixel(x, y))


def test_tools_without_model(qtbot, image_folder: Path, no_dialogs) -> None:
    window = open_active(qtbot, image_folder)  # no model: manual annotation still works
    assert "qtseg train" in window.model_panel.model_label.text()
    assert not window.model_panel.fine_tune_button.isEnabled()
    assert "accepted and corrected" in window.model_panel.fine_tune_button.toolTip()
    canvas, mask = window.canvas, window.document.mask

    # polygon: click three corners, Enter fills
    qtbot.keyClick(canvas, Key.Key_L)
    for x, y in ((50, 50), (150, 50), (150, 150)):
        _click(qtbot, window, x, y)
    qtbot.keyClick(canvas, Key.Key_Return)
    assert mask[60, 140] == 1 and mask[140, 60] == 0

    # flood fill inside a drawn ring fills the inside only
    qtbot.keyClick(canvas, Key.Key_B)
    window.session.tool_settings.set_radius(2)
    ring = [(190 + 30 * np.cos(t), 190 + 30 * np.sin(t)) for t in np.linspace(0, 2 * np.pi, 80)]
    drag_on_canvas(canvas, ring)
    assert mask[190, 190] == 0 and mask[190, 220] == 1
    qtbot.keyClick(canvas, Key.Key_G)
    _click(qtbot, window, 190, 190)
    assert mask[190, 190] == 1 and mask[190, 150] == 0

    # delete the component under the cursor, then undo it
    hover_canvas(canvas, 190, 190)
    qtbot.keyClick(canvas, Key.Key_Delete)
    assert mask[190, 190] == 0 and mask[60, 140] == 1
    qtbot.keyClick(canvas, Key.Key_Z, QtCore.Qt.KeyboardModifier.ControlModifier)
    assert mask[190, 190] == 1

    # a class the task does not have is refused with a message
    qtbot.keyClick(canvas, Key.Key_2)
    assert window.tools.label == 1

    # grow class 1 with one key
    before = int((mask == 1).sum())
    qtbot.keyClick(canvas, Key.Key_G, QtCore.Qt.KeyboardModifier.ShiftModifier)
    assert (mask == 1).sum() > before

    # brush size keys, then erase a stroke across the polygon
    radius = window.tools.radius
    qtbot.keyClick(canvas, Key.Key_BracketRight)
    assert window.tools.radius > radius
    qtbot.keyClick(canvas, Key.Key_E)
    drag_on_canvas(canvas, [(60, 100), (100, 100), (140, 100)])
    assert mask[100, 100] == 0

    # every committed edit is in the workspace
    ws = window.ws
    saved = ws.read_mask(ws.latest_mask(window.current_id, MaskKind.CORRECTION))
    assert np.array_equal(saved, mask)
    window.close()


def test_help_lists_every_shortcut(qtbot, image_folder: Path, no_dialogs) -> None:
    from PySide6 import QtWidgets

    from qtseg_app.qt.shortcuts import SHORTCUTS, HelpDialog

    window = open_active(qtbot, image_folder)
    qtbot.keyClick(window.canvas, Key.Key_F1)
    dialogs = window.findChildren(HelpDialog)
    assert dialogs and dialogs[0].isVisible()
    table = dialogs[0].table
    assert table.rowCount() >= len(SHORTCUTS)
    groups = [table.item(row, 0).text() for row in range(table.rowCount())]
    runs = [group for index, group in enumerate(groups) if index == 0 or groups[index - 1] != group]
    assert len(runs) == len(set(runs)), runs  # "by group": each group's keys together
    QtWidgets.QApplication.processEvents()
    assert table.horizontalScrollBar().maximum() == 0  # every action readable, no scrolling
    width = table.columnWidth(2)
    for row in range(table.rowCount()):  # long actions wrap inside their row
        text = table.item(row, 2).text()
        needed = table.fontMetrics().boundingRect(0, 0, width - 8, 10_000,
                                                  QtCore.Qt.TextFlag.TextWordWrap, text)
        assert table.rowHeight(row) >= needed.height(), text
    window.close()


def test_class_box_snaps_back_when_the_class_does_not_exist(qtbot, image_folder: Path,
                                                            no_dialogs) -> None:
    from PySide6 import QtWidgets

    window = open_active(qtbot, image_folder)
    box = next(b for b in window.findChildren(QtWidgets.QSpinBox)
               if "Class painted" in b.toolTip())
    box.setValue(3)  # a binary task has only class 1
    assert window.tools.label == 1
    assert box.value() == 1
    assert "Class 3 does not exist" in window.statusBar().currentMessage()
    window.close()


def test_labels_dock_adds_renames_and_recolours_a_class_the_brush_paints(
        qtbot, image_folder: Path, no_dialogs, monkeypatch) -> None:
    from qtseg_app.qt import dialogs

    window = open_active(qtbot, image_folder)  # no model: the workspace is binary
    labels = window.label_table
    qtbot.mouseClick(labels.add_button, QtCore.Qt.MouseButton.LeftButton)
    assert labels.table.rowCount() == 3 and window.tools.label == 2  # ready to paint it
    labels.table.item(2, 2).setText("cyst")  # what typing a new name does
    monkeypatch.setattr(dialogs, "choose_color", lambda parent, current: (10, 200, 30))
    labels.table.cellDoubleClicked.emit(2, 1)
    names, colors = window.ws.classes()
    assert names == ["background", "foreground", "cyst"] and colors[2] == (10, 200, 30)

    window.session.tool_settings.set_radius(4)
    drag_on_canvas(window.canvas, [(100.0, 100.0), (130.0, 100.0), (160.0, 100.0)])
    assert window.document.mask[100, 130] == 2
    assert tuple(window.canvas.overlay_item.image[100, 130, :3]) == (10, 200, 30)
    saved = window.ws.read_mask(window.ws.latest_mask(window.current_id, MaskKind.CORRECTION))
    assert saved[100, 130] == 2
    window.close()


def test_a_quick_brush_flick_paints_from_press_to_release(qtbot, image_folder: Path,
                                                         no_dialogs) -> None:
    """A press and a release with every move between dropped (pyqtgraph keeps at most one
    move per 10 ms): a straight stroke, not a dot at the press."""
    window = open_active(qtbot, image_folder)
    window.session.tool_settings.set_radius(2)
    press_and_move(window.canvas, [(60.0, 100.0)])
    release_on_canvas(window.canvas, 140.0, 100.0)
    mask = window.document.mask
    assert mask[100, 60] == 1 and mask[100, 100] == 1 and mask[100, 140] == 1
    assert window.document.editor.history.undo_count == 1  # one stroke
    window.close()
