"""A folder holding only a NIfTI volume opens in the app, predicts, and keeps slice edits."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from qtseg_core.workspace import ReviewStatus, Workspace
from tests.app.helpers import drag_on_canvas, open_active
from tests.core.volume_helpers import blob_volume, write_nifti


def test_nifti_only_folder_opens_predicts_and_keeps_a_slice_edit(
        qtbot, tmp_path: Path, tiny_checkpoint: Path, no_dialogs) -> None:
    folder = tmp_path / "ws"
    folder.mkdir()
    write_nifti(folder / "brain.nii.gz", blob_volume((40, 36, 4)))
    window = open_active(qtbot, folder, tiny_checkpoint)
    assert window.filmstrip.model.rowCount() == 4  # one entry per slice
    (volume,) = window.ws.volumes()
    with qtbot.waitSignal(window.models.predict_all_finished, timeout=60_000):
        window.model_panel.predict_all()
    assert window.ws.counts()[ReviewStatus.PREDICTED] == 4
    third = window.ws.volume_slices(volume.id)[2]
    with qtbot.waitSignal(window.prediction_shown, timeout=20_000):
        window.session.open_image(third.id)
    assert window.document.record.slice_index == 2
    assert window.document.image.shape[:2] == (36, 40)
    window.session.tool_settings.set_radius(2)
    drag_on_canvas(window.canvas, [(8.0, 18.0), (20.0, 18.0), (32.0, 18.0)])
    painted = window.document.mask.copy()
    assert painted[18, 20] == 1
    area = int(painted.sum()) * 0.8 * np.hypot(0.9, 0.05)  # the NIfTI's pixel spacing
    assert f"mask: {area:.1f} mm²" in window.statusBar().currentMessage()
    window.close()
    with Workspace.open(folder) as ws:
        assert ws.image(third.id).status == ReviewStatus.CORRECTED
        restored = ws.read_mask(ws.final_mask(third.id))
        others = [ws.image(s.id).status for s in ws.volume_slices(volume.id) if s.id != third.id]
    np.testing.assert_array_equal(restored, painted)
    assert others == [ReviewStatus.PREDICTED] * 3
    assert not no_dialogs


def test_page_down_walks_the_slices_keeping_the_window_from_the_dicom_tags(
        qtbot, tmp_path: Path, tiny_checkpoint: Path, no_dialogs) -> None:
    import pydicom
    from PySide6 import QtCore

    from tests.core.volume_helpers import ct_series

    folder = tmp_path / "ws"
    ct_series(folder / "ct", count=3)
    for path in (folder / "ct").iterdir():
        dataset = pydicom.dcmread(path)
        dataset.WindowCenter, dataset.WindowWidth = 40, 400
        dataset.save_as(path)
    window = open_active(qtbot, folder, tiny_checkpoint)
    session = window.session
    (volume,) = window.ws.volumes()
    first = window.ws.volume_slices(volume.id)[0]
    session.open_image(first.id)
    assert session.display.window.levels == (-160.0, 240.0)  # the scanner's soft-tissue view
    qtbot.keyClick(window.canvas, QtCore.Qt.Key.Key_PageDown)
    assert session.document.record.slice_index == 1
    assert "slice 2 / 3" in window.statusBar().currentMessage()
    from qtseg_app.state.levels import WindowLevel

    session.display.window = WindowLevel(100.0, 50.0)  # the user's own window
    qtbot.keyClick(window.canvas, QtCore.Qt.Key.Key_PageDown)
    assert session.document.record.slice_index == 2
    assert session.display.window == WindowLevel(100.0, 50.0)  # kept across slices
    qtbot.keyClick(window.canvas, QtCore.Qt.Key.Key_PageUp)
    assert session.document.record.slice_index == 1
    _shift_wheel(window.canvas, down=True)  # Shift + wheel towards the user: next slice
    assert session.document.record.slice_index == 2
    assert not no_dialogs
    window.close()


def test_copy_to_the_next_slice_then_fill_between_two_edited_slices(
        qtbot, tmp_path: Path, tiny_checkpoint: Path, no_dialogs) -> None:
    from PySide6 import QtCore

    from qtseg_app.editing.geometry import change_from_arrays

    folder = tmp_path / "ws"
    folder.mkdir()
    write_nifti(folder / "brain.nii.gz", blob_volume((40, 36, 5)))
    window = open_active(qtbot, folder, tiny_checkpoint)
    session, ws = window.session, window.ws
    slices = ws.volume_slices(ws.volumes()[0].id)
    session.open_image(slices[0].id)
    square = np.zeros((36, 40), np.uint8)
    square[10:20, 10:20] = 1
    session.tools.apply(change_from_arrays(session.document.mask, square), "test square")
    qtbot.keyClick(window.canvas, QtCore.Qt.Key.Key_PageDown,
                   QtCore.Qt.KeyboardModifier.ControlModifier)  # copy to slice 1
    assert session.document.record.slice_index == 1
    np.testing.assert_array_equal(ws.read_mask(ws.final_mask(slices[1].id)), square)
    session.open_image(slices[4].id)
    big = np.zeros((36, 40), np.uint8)
    big[6:26, 6:26] = 1
    session.tools.apply(change_from_arrays(session.document.mask, big), "test big square")
    session.slices.fill_between_slices()
    areas = [int(ws.read_mask(ws.final_mask(s.id)).sum()) for s in slices[1:5]]
    assert areas[0] == 100 and areas[-1] == 400 and areas == sorted(areas)
    assert all(ws.image(s.id).status == ReviewStatus.CORRECTED for s in slices[1:5])
    assert not no_dialogs
    window.close()


def _shift_wheel(canvas, down: bool) -> None:
    from PySide6 import QtCore, QtGui, QtWidgets

    viewport = canvas.viewport()
    center = QtCore.QPointF(viewport.width() / 2, viewport.height() / 2)
    event = QtGui.QWheelEvent(
        center, viewport.mapToGlobal(center), QtCore.QPoint(0, 0),
        QtCore.QPoint(0, -120 if down else 120), QtCore.Qt.MouseButton.NoButton,
        QtCore.Qt.KeyboardModifier.ShiftModifier, QtCore.Qt.ScrollPhase.NoScrollPhase, False)
    QtWidgets.QApplication.sendEvent(viewport, event)
