"""Accept never stores a mask the user has not seen (issue 10): pressing A before the
model's prediction has arrived waits for it, then stores the prediction, not an empty mask."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
from PySide6 import QtCore

from qtseg_app.qt import dialogs
from qtseg_app.state import PredictionStatus
from qtseg_core.inference import Predictor
from qtseg_core.workspace import MaskKind, ReviewStatus
from tests.app.helpers import open_active


def test_accept_before_the_prediction_arrives_stores_the_prediction(
        qtbot, image_folder: Path, tiny_checkpoint: Path, no_dialogs, monkeypatch) -> None:
    release = threading.Event()
    original = Predictor.predict
    monkeypatch.setattr(Predictor, "predict",
                        lambda self, image, **kw: release.wait(60) and original(self, image, **kw))
    monkeypatch.setattr(dialogs, "ask_reviewer_name", lambda parent: "Dr Rossi")
    window = open_active(qtbot, image_folder, tiny_checkpoint)
    image_id = window.current_id
    assert window.session.predictions.status(image_id) is PredictionStatus.PENDING
    assert "predicting" in window.filmstrip.current_text()
    qtbot.keyClick(window.canvas, QtCore.Qt.Key.Key_A)  # the screen shows no mask yet
    assert window.ws.image(image_id).status is not ReviewStatus.ACCEPTED
    assert window.ws.final_mask(image_id) is None
    release.set()
    qtbot.waitUntil(lambda: window.ws.image(image_id).status is ReviewStatus.ACCEPTED,
                    timeout=60_000)
    prediction = window.ws.latest_mask(image_id, MaskKind.PREDICTION)
    stored = window.ws.read_mask(window.ws.final_mask(image_id))
    assert prediction is not None and np.array_equal(stored, window.ws.read_mask(prediction))
    window.close()
