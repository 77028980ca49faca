"""Window/level is kept per image and per kind, CT presets only on CT, right-drag sets it
(issue 16, item 24)."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pydicom.data
from PySide6 import QtCore, QtWidgets

from qtseg_app.state.levels import CT_PRESETS, WindowLevel
from tests.app.helpers import _send_mouse, copy_real_images, open_active

Key = QtCore.Qt.Key


def _open(window, name: str) -> None:  # noqa: ANN001
    window.session.open_image(next(r.id for r in window.ws.images() if r.name == name))


def test_the_users_window_is_kept_per_image_and_for_images_of_the_same_kind(
        qtbot, tmp_path: Path, no_dialogs) -> None:
    names = [p.name for p in copy_real_images(tmp_path / "ws" / "mri", count_ct=0, count_mri=2)]
    copy_real_images(tmp_path / "ws" / "ct", count_ct=1, count_mri=0)
    window = open_active(qtbot, tmp_path / "ws")
    _open(window, names[0])
    window.display.width_box.setValue(37.0)  # the user's window on one MRI slice
    window.display.center_box.setValue(90.0)
    mine = WindowLevel(90.0, 37.0)
    assert window.session.display.window == mine
    _open(window, names[1])  # the next MRI slice of that folder starts from it
    assert window.session.display.window == mine
    qtbot.keyClick(window.canvas, Key.Key_W)  # Automatic: this image's own window again
    automatic = window.session.display.window
    assert automatic != mine
    ct = next(r.name for r in window.ws.images() if "mri" not in str(r.path.parent))
    _open(window, ct)  # another folder: another kind, its own automatic window
    assert window.session.display.window != mine
    _open(window, names[0])  # back on the first slice: what the user set there
    assert window.session.display.window == mine
    assert tuple(window.canvas.image_item.getLevels()) == mine.levels
    window.close()


def test_ct_presets_apply_to_ct_images_only(qtbot, tmp_path: Path, no_dialogs) -> None:
    images = tmp_path / "ws" / "images"
    copy_real_images(images, count_ct=0, count_mri=1)
    shutil.copy(pydicom.data.get_testdata_file("CT_small.dcm"), images / "z_ct.dcm")
    window = open_active(qtbot, tmp_path / "ws")
    mri = window.document.record.name
    mri_window = window.session.display.window
    _open(window, "z_ct.dcm")
    window.display.preset_box.setCurrentText("Lung")
    assert window.session.display.window == CT_PRESETS["Lung"]
    _open(window, mri)  # an 8-bit MRI never gets a Hounsfield window
    assert window.session.display.window == mri_window
    assert window.display.preset_box.currentText() == "Automatic"
    window.display.preset_box.setCurrentText("Bone")  # refused, with the reason
    assert window.session.display.window == mri_window
    assert window.display.preset_box.currentText() == "Automatic"
    assert "not a CT image" in window.statusBar().currentMessage()
    _open(window, "z_ct.dcm")  # the CT keeps its preset
    assert window.session.display.window == CT_PRESETS["Lung"]
    window.close()


def _right_drag(canvas, start: QtCore.QPoint, moves: list[QtCore.QPoint]) -> None:  # noqa: ANN001
    viewport, right = canvas.viewport(), QtCore.Qt.MouseButton.RightButton
    _send_mouse(viewport, QtCore.QEvent.Type.MouseButtonPress, start, right, right)
    for point in moves:
        _send_mouse(viewport, QtCore.QEvent.Type.MouseMove, point,
                    QtCore.Qt.MouseButton.NoButton, right)
        time.sleep(0.011)  # pyqtgraph's mouse rate limit
        QtWidgets.QApplication.processEvents()
    _send_mouse(viewport, QtCore.QEvent.Type.MouseButtonRelease, moves[-1], right,
                QtCore.Qt.MouseButton.NoButton)
    QtWidgets.QApplication.processEvents()


def test_right_drag_sets_window_and_level_and_does_not_pan(qtbot, image_folder: Path,
                                                           no_dialogs) -> None:
    window = open_active(qtbot, image_folder)
    before = window.session.display.window
    view_range = window.canvas.view.viewRange()
    start = window.canvas.widget_pos_of_pixel(100, 100)
    _right_drag(window.canvas, start, [start + QtCore.QPoint(20 * k, 0) for k in range(1, 11)])
    wider = window.session.display.window
    assert wider.width > before.width * 1.5 and abs(wider.center - before.center) < 1e-6
    _right_drag(window.canvas, start, [start + QtCore.QPoint(0, 10 * k) for k in range(1, 11)])
    assert window.session.display.window.center > wider.center  # down raises the level
    assert window.display.width_box.value() == round(wider.width, 1)  # the dock shows it
    assert window.canvas.view.viewRange() == view_range  # no pan
    window.close()
