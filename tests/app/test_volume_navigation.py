"""The slice bar through the window: slider and spin box move through a volume, edits land
on the slice on screen, Predict volume fills only the slices nobody edited."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6 import QtCore

from qtseg_core.workspace import MaskKind, ReviewStatus, Workspace
from tests.app.helpers import drag_on_canvas, open_active
from tests.core.volume_helpers import blob_volume, write_nifti


def _volume_folder(tmp_path: Path, slices: int) -> Path:
    folder = tmp_path / "ws"
    folder.mkdir()
    write_nifti(folder / "brain.nii.gz", blob_volume((40, 36, slices)))
    return folder


def test_the_slider_shows_another_slice_and_an_edit_lands_on_that_slice(
        qtbot, tmp_path: Path, tiny_checkpoint: Path, no_dialogs) -> None:
    folder = _volume_folder(tmp_path, 6)
    window = open_active(qtbot, folder, tiny_checkpoint)
    session, ws, bar = window.session, window.ws, window.slice_bar
    slices = ws.volume_slices(ws.volumes()[0].id)
    session.open_image(slices[0].id)
    assert bar.isVisible() and bar.spin.value() == 1 and bar.slider.maximum() == 6
    assert bar.spin.text() == "1 / 6"
    first_image = session.document.image.copy()
    with qtbot.waitSignal(window.prediction_shown, timeout=20_000):
        bar.slider.setValue(4)  # what dragging the handle to the 4th position sends
    assert session.document.record.id == slices[3].id
    np.testing.assert_array_equal(session.document.image, ws.read_image(slices[3].id))
    assert not np.array_equal(session.document.image, first_image)  # the blob grew
    assert bar.spin.value() == 4
    window.session.tool_settings.set_radius(2)
    drag_on_canvas(window.canvas, [(6.0, 30.0), (20.0, 30.0), (34.0, 30.0)])
    painted = session.document.mask.copy()
    assert painted[30, 20] == 1
    qtbot.keyClick(window.canvas, QtCore.Qt.Key.Key_PageDown)  # keys move the slider too
    assert session.document.record.slice_index == 4 and bar.slider.value() == 5
    bar.spin.setValue(2)  # typed into the spin box
    assert session.document.record.slice_index == 1 and bar.slider.value() == 2
    expected = "brain: unreviewed · 1 / 6 slices reviewed (1 corrected)"  # 3 still are
    assert expected in window.filmstrip.counts_label.text()
    assert bar.status_label.text() == "volume: unreviewed · 1 / 6 slices reviewed (1 corrected)"
    window.close()
    with Workspace.open(folder) as reopened:
        corrected = [s.slice_index for s in slices
                     if reopened.latest_mask(s.id, MaskKind.CORRECTION) is not None]
        restored = reopened.read_mask(reopened.final_mask(slices[3].id))
    assert corrected == [3]
    np.testing.assert_array_equal(restored, painted)
    assert not no_dialogs


def _edited_volume(tmp_path: Path) -> tuple[Path, dict[int, np.ndarray]]:
    """A 12-slice volume whose slices 5 and 9 are corrected and 7 accepted; the app last
    showed slice 8. Returns the folder and the edited slices' masks by slice index."""
    folder = _volume_folder(tmp_path, 12)
    edited = {}
    with Workspace.open(folder) as ws:
        slices = ws.volume_slices(ws.volumes()[0].id)
        for index in (5, 7, 9):
            mask = np.zeros((36, 40), np.uint8)
            mask[index: index + 8, 4:12] = 1
            ws.save_correction(slices[index].id, mask, "Dr Test")
            edited[index] = mask
        ws.set_status(slices[7].id, ReviewStatus.ACCEPTED, "Dr Test")
        ws.last_image_id = slices[8].id
    return folder, edited


def test_predict_volume_fills_the_unedited_slices_only_nearest_first(
        qtbot, tmp_path: Path, tiny_checkpoint: Path, no_dialogs, monkeypatch) -> None:
    folder, edited = _edited_volume(tmp_path)
    window = open_active(qtbot, folder, tiny_checkpoint)
    ws, service = window.ws, window.service
    slices = ws.volume_slices(ws.volumes()[0].id)
    assert window.document.record.slice_index == 8
    qtbot.waitUntil(lambda: service.busy_count == 0, timeout=30_000)  # slice 8 + prefetch
    by_index = {s.id: s.slice_index for s in slices}
    predicted = [by_index[s.id] for s in slices if window.session.has_prediction(s.id)]
    assert predicted == [7, 8, 9, 10]  # prefetched: the neighbours either way
    queued: list[list[int]] = []
    batch = service.batch  # Predict volume queues a batch (kept behind the screen's image)
    monkeypatch.setattr(service, "batch", lambda ids: (queued.append(list(ids)), batch(ids)))
    with qtbot.waitSignal(window.models.predict_all_finished, timeout=60_000) as finished:
        qtbot.mouseClick(window.slice_bar.predict_button, QtCore.Qt.MouseButton.LeftButton)
    assert finished.args == [True]
    # the unedited rest, nearest to slice 8 first
    assert [by_index[i] for i in queued[0]] == [6, 11, 4, 3, 2, 1, 0]
    for record in slices:
        status = ws.image(record.id).status
        if record.slice_index in edited:
            np.testing.assert_array_equal(ws.read_mask(ws.final_mask(record.id)),
                                          edited[record.slice_index])
            assert status is (ReviewStatus.ACCEPTED if record.slice_index == 7
                              else ReviewStatus.CORRECTED)
        else:
            assert window.session.has_prediction(record.id) and \
                status is ReviewStatus.PREDICTED, record.slice_index
    assert window.statusBar().currentMessage() == "Predict volume: done."
    assert not no_dialogs
    window.close()


def test_predict_volume_shows_progress_and_cancel_stops_it(
        qtbot, tmp_path: Path, tiny_checkpoint: Path, no_dialogs) -> None:
    folder, _edited = _edited_volume(tmp_path)
    window = open_active(qtbot, folder, tiny_checkpoint)
    ws, bar = window.ws, window.slice_bar
    qtbot.waitUntil(lambda: window.service.busy_count == 0, timeout=30_000)
    bar.predict_volume()
    assert bar.progress.isVisible() and bar.cancel_button.isVisible()
    assert bar.progress.maximum() == 7 and not bar.predict_button.isVisible()
    with qtbot.waitSignal(window.models.predict_all_finished, timeout=10_000) as finished:
        qtbot.mouseClick(bar.cancel_button, QtCore.Qt.MouseButton.LeftButton)
    assert finished.args == [False]
    window.service.wait_idle()
    qtbot.wait(50)  # the running slice's result reaches the GUI thread
    unpredicted = [s for s in ws.volume_slices(ws.volumes()[0].id)
                   if ws.image(s.id).status is ReviewStatus.UNREVIEWED]
    assert len(unpredicted) >= 6  # at most the slice being predicted finished
    assert bar.predict_button.isVisible() and not bar.progress.isVisible()
    assert "Predict volume: cancelled." in window.statusBar().currentMessage()
    assert not no_dialogs
    window.close()
