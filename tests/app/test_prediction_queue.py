"""Images skipped quickly are not predicted behind the one on screen (issue 16, item 21)."""

from __future__ import annotations

import time
from pathlib import Path

from PySide6 import QtCore

from qtseg_app.state import PredictionStatus
from tests.app.helpers import copy_real_images, open_active


class SlowPredictor:
    """The real predictor, 0.3 s slower per image (a big model on a busy CPU)."""

    def __init__(self, predictor: object) -> None:
        self.predictor = predictor

    def predict(self, image):  # noqa: ANN001, ANN201
        time.sleep(0.3)
        return self.predictor.predict(image)


def test_the_image_on_screen_is_predicted_first_and_skipped_ones_are_dropped(
        qtbot, tmp_path: Path, tiny_checkpoint: Path, no_dialogs) -> None:
    copy_real_images(tmp_path / "ws" / "images", count_ct=14, count_mri=2)
    window = open_active(qtbot, tmp_path / "ws", tiny_checkpoint)
    service, session = window.service, window.session
    qtbot.waitUntil(lambda: service.busy_count == 0, timeout=30_000)
    service.set_predictor(SlowPredictor(service.predictor), service.model_version)
    predicted: list[int] = []
    service.prediction_ready.connect(lambda result: predicted.append(result.image_id))

    skipped = []
    for _ in range(15):  # a person pressing N quickly through the list
        skipped.append(window.current_id)
        qtbot.keyClick(window.canvas, QtCore.Qt.Key.Key_N)
    on_screen = window.current_id
    qtbot.waitUntil(lambda: on_screen in predicted, timeout=30_000)
    assert predicted.index(on_screen) <= 1  # at most the one already running came first
    still_waiting = [i for i in skipped if session.predictions.status(i)
                     is PredictionStatus.PENDING]
    assert still_waiting == []  # the list no longer says "predicting…" for skipped images
    qtbot.waitUntil(lambda: service.busy_count == 0, timeout=30_000)
    assert len(set(predicted) & set(skipped)) <= 1  # skipped images were never predicted
    window.close()
