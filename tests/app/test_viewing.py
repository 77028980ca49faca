"""Viewing on native values (16-bit, DICOM HU), CT presets, layers, threshold, stale results."""

from __future__ import annotations

import shutil
from pathlib import Path

import cv2
import numpy as np
import pydicom.data
from PySide6 import QtCore

from qtseg_app.state import PredictionResult
from qtseg_app.state.levels import CT_PRESETS
from tests.app.helpers import open_active

Key = QtCore.Qt.Key


def test_native_16bit_and_dicom_windows(qtbot, tmp_path: Path, no_dialogs) -> None:
    images = tmp_path / "ws" / "images"
    images.mkdir(parents=True)
    ramp = (np.arange(96 * 96, dtype=np.uint32).reshape(96, 96) * 7).astype(np.uint16)
    cv2.imwrite(str(images / "a_sixteen.png"), ramp)
    shutil.copy(pydicom.data.get_testdata_file("CT_small.dcm"), images / "b_ct.dcm")
    window = open_active(qtbot, tmp_path / "ws")

    shown = window.canvas.image_item.image
    assert shown.dtype == np.uint16 and shown.max() == ramp.max()  # not an 8-bit copy
    low, high = window.canvas.image_item.getLevels()
    assert high > 255

    qtbot.keyClick(window.canvas, Key.Key_N)  # next image: the CT in Hounsfield units
    assert window.canvas.image_item.image.dtype == np.int16
    assert window.canvas.image_item.image.min() < -800
    window.display.apply_preset("Lung")
    assert tuple(window.canvas.image_item.getLevels()) == CT_PRESETS["Lung"].levels
    window.display.width_box.setValue(80.0)  # window width typed by hand
    low, high = window.canvas.image_item.getLevels()
    assert high - low == 80.0
    window.display.contrast_slider.setValue(100)  # brightness/contrast act on HU too
    low, high = window.canvas.image_item.getLevels()
    assert abs((high - low) - 8.0) < 1e-6
    window.display.brightness_slider.setValue(50)
    assert window.canvas.image_item.getLevels()[0] < low
    window.close()


def test_layers_threshold_and_stale_results(qtbot, image_folder: Path, tiny_checkpoint: Path,
                                            no_dialogs) -> None:
    window = open_active(qtbot, image_folder, tiny_checkpoint)
    if window.document.prediction is None:
        with qtbot.waitSignal(window.prediction_shown, timeout=20_000):
            pass
    document = window.document
    prediction = document.prediction

    # threshold: an uncorrected image follows the slider
    window.model_panel.threshold_slider.setValue(5)
    assert np.array_equal(document.mask, (prediction.foreground >= 0.05).astype(np.uint8))
    window.model_panel.threshold_slider.setValue(50)

    # uncertainty map and the model's own mask as layers
    qtbot.keyClick(window.canvas, Key.Key_Y)
    assert window.canvas.uncertainty_item.isVisible()
    qtbot.keyClick(window.canvas, Key.Key_T)
    assert window.tools.document is None  # the prediction is shown read-only
    qtbot.keyClick(window.canvas, Key.Key_T)
    assert window.tools.document is document
    qtbot.keyClick(window.canvas, Key.Key_O)
    assert window.canvas.overlay_item.style.outline

    # a result for another image, or from a replaced model, never lands on this one
    other = next(r.id for r in window.ws.images() if r.id != document.image_id)
    mask = np.ones_like(document.mask)
    stale = PredictionResult(other, window.service.model_version, mask, None,
                             np.zeros(mask.shape, np.float16), 0.0, 0.0)
    window.session.receive_prediction(stale)
    old_model = PredictionResult(document.image_id, "v0-replaced", mask, None,
                                 np.zeros(mask.shape, np.float16), 0.0, 0.0)
    window.session.receive_prediction(old_model)
    assert document.prediction is prediction and not document.mask.all()

    # predict all can be cancelled; then the list sorts by the model's uncertainty
    window.session.predictions.clear()
    with qtbot.waitSignal(window.models.predict_all_finished, timeout=10_000) as finished:
        window.model_panel.predict_all()
        window.model_panel.cancel_button.click()
    assert finished.args == [False] and not window.model_panel.progress.isVisible()
    with qtbot.waitSignal(window.models.predict_all_finished, timeout=30_000):
        window.model_panel.predict_all()
    window.filmstrip.set_order("Most uncertain first")
    expected = [r.id for r in window.ws.images(order="uncertainty")]
    assert window.filmstrip.visible_ids() == expected
    window.close()


def test_a_new_model_ends_the_read_only_prediction_view(qtbot, image_folder: Path,
                                                        tiny_checkpoint: Path,
                                                        no_dialogs) -> None:
    from tests.app.helpers import drag_on_canvas

    window = open_active(qtbot, image_folder, tiny_checkpoint)
    if window.document.prediction is None:
        with qtbot.waitSignal(window.prediction_shown, timeout=20_000):
            pass
    window.session.tool_settings.set_radius(4)
    drag_on_canvas(window.canvas, [(100.0, 100.0), (130.0, 105.0), (160.0, 110.0)])
    qtbot.keyClick(window.canvas, Key.Key_T)  # compare with the model's mask, read-only
    assert window.tools.document is None

    with qtbot.waitSignal(window.models.model_changed, timeout=30_000):
        window.load_model(str(tiny_checkpoint))  # e.g. a fine-tune finished in the background
    # the correction is on screen again and edits land where the user sees them
    assert not window.display.prediction_box.isChecked()
    assert window.tools.document is window.document
    shown = window.canvas.overlay_item.image[..., 3] > 0
    assert np.array_equal(shown, window.document.mask > 0)
    window.close()


def test_a_failed_prediction_names_the_image_and_what_to_do(qtbot, image_folder: Path,
                                                             no_dialogs) -> None:
    window = open_active(qtbot, image_folder)
    record = window.document.record
    window.service.prediction_failed.emit(record.id, "RuntimeError: out of memory")
    message = window.statusBar().currentMessage()
    assert record.name in message and "out of memory" in message
    assert "by hand" in message and "Ctrl+M" in message
    window.close()
