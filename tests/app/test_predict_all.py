"""Cancelling "Predict all" stops the batch, not the prediction of the image on screen."""

from __future__ import annotations

import threading
from pathlib import Path

from PySide6 import QtCore

from tests.app.helpers import copy_real_images, open_active


class HeldPredictor:
    """The model in use, made to wait for ``gate`` (at most 10 s) before each image."""

    def __init__(self, inner: object, gate: threading.Event) -> None:
        self.inner, self.gate = inner, gate

    def predict(self, image):  # noqa: ANN001, ANN201
        self.gate.wait(10)
        return self.inner.predict(image)


def row_text(window, image_id: int) -> str:  # noqa: ANN001
    model = window.filmstrip.model
    return model.data(model.index_of(image_id))


def test_cancel_keeps_the_prediction_of_the_image_on_screen(
        qtbot, tmp_path: Path, tiny_checkpoint: Path, no_dialogs) -> None:
    copy_real_images(tmp_path / "ws" / "images", count_ct=6, count_mri=2)
    window = open_active(qtbot, tmp_path / "ws", tiny_checkpoint)
    qtbot.waitUntil(lambda: window.service.busy_count == 0, timeout=30_000)
    todo = [r.id for r in window.ws.images() if not window.models.has_prediction(r.id)]
    assert len(todo) >= 3
    gate = threading.Event()
    window.service.predictor = HeldPredictor(window.service.predictor, gate)

    qtbot.mouseClick(window.model_panel.predict_all_button, QtCore.Qt.MouseButton.LeftButton)
    window.session.open_image(todo[-1])  # queued behind the image being predicted
    assert "predicting…" in row_text(window, todo[-1])  # the list says it is pending
    qtbot.mouseClick(window.model_panel.cancel_button, QtCore.Qt.MouseButton.LeftButton)
    gate.set()

    qtbot.waitUntil(lambda: window.document.prediction is not None, timeout=20_000)
    assert window.document.image_id == todo[-1]
    assert window.models.has_prediction(todo[-1])
    assert "predicting…" not in row_text(window, todo[-1])
    window.close()
