"""The keys keep working after the tool bar's spin boxes and the dock buttons (issue 16, 19)."""

from __future__ import annotations

from pathlib import Path

from PySide6 import QtCore, QtWidgets

from qtseg_app.state import Tool
from qtseg_core.workspace import Workspace
from tests.app.helpers import open_active

Key = QtCore.Qt.Key


def _brush_box(window) -> QtWidgets.QSpinBox:  # noqa: ANN001
    boxes = window.toolbar.findChildren(QtWidgets.QSpinBox)
    return next(box for box in boxes if "Brush radius" in box.toolTip())


def _type_into(qtbot, box: QtWidgets.QAbstractSpinBox, text: str) -> None:
    qtbot.mouseClick(box, QtCore.Qt.MouseButton.LeftButton)  # a person clicks, then types
    box.setFocus()
    box.selectAll()
    qtbot.keyClicks(box, text)


def test_a_tool_key_after_typing_a_brush_size_takes_the_size_and_the_tool(
        qtbot, image_folder: Path, no_dialogs) -> None:
    window = open_active(qtbot, image_folder)
    window.tools.set_tool(Tool.ERASER)
    box = _brush_box(window)
    _type_into(qtbot, box, "12")
    qtbot.keyClick(QtWidgets.QApplication.focusWidget(), Key.Key_B)
    assert window.tools.tool is Tool.BRUSH  # the key was not swallowed by the spin box
    assert window.tools.radius == 12.0
    assert QtWidgets.QApplication.focusWidget() is window.canvas
    window.close()


def test_enter_in_a_spin_box_gives_the_keys_back_to_the_canvas(
        qtbot, image_folder: Path, no_dialogs) -> None:
    window = open_active(qtbot, image_folder)
    box = _brush_box(window)
    _type_into(qtbot, box, "9")
    qtbot.keyClick(box, Key.Key_Return)
    assert window.tools.radius == 9.0
    assert QtWidgets.QApplication.focusWidget() is window.canvas
    qtbot.keyClick(QtWidgets.QApplication.focusWidget(), Key.Key_E)
    assert window.tools.tool is Tool.ERASER


def test_the_keys_work_after_roll_back(qtbot, image_folder: Path, tiny_checkpoint: Path,
                                       no_dialogs) -> None:
    with Workspace.open(image_folder) as ws:
        ws.register_model(tiny_checkpoint)
        ws.register_model(tiny_checkpoint, parent="v1", make_current=True)
    window = open_active(qtbot, image_folder)
    panel = window.finetune_panel
    panel.versions.setCurrentItem(panel.versions.topLevelItem(1))  # v1
    qtbot.mouseClick(panel.rollback_button, QtCore.Qt.MouseButton.LeftButton)
    assert window.ws.current_model().version == "v1"
    assert QtWidgets.QApplication.focusWidget() is window.canvas  # the click kept the keys
    qtbot.keyClick(QtWidgets.QApplication.focusWidget(), Key.Key_L)
    assert window.tools.tool is Tool.POLYGON
    window.close()


def test_the_keys_work_while_a_floating_dock_is_active(qtbot, image_folder: Path,
                                                      no_dialogs) -> None:
    window = open_active(qtbot, image_folder)
    dock = next(d for d in window.docks if d.windowTitle() == "Display")
    dock.setFloating(True)
    dock.activateWindow()
    qtbot.waitUntil(dock.isActiveWindow, timeout=3000)
    qtbot.keyClick(dock, Key.Key_E)
    assert window.tools.tool is Tool.ERASER
    window.close()
