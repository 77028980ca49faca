"""The background prediction service when the model changes while an image is predicted."""

from __future__ import annotations

import threading

import numpy as np

from qtseg_app.services.prediction import PredictionService
from qtseg_app.state import PredictionResult
from qtseg_core.inference import Prediction, prediction_from_probabilities

SHAPE = (16, 16)


class SlowPredictor:
    """Predicts class ``label`` everywhere, but only once ``release`` is set."""

    def __init__(self, label: int, release: threading.Event | None = None) -> None:
        self.label = label
        self.started = threading.Event()
        self.release = release

    def predict(self, image: np.ndarray) -> Prediction:
        self.started.set()
        if self.release is not None:
            self.release.wait(10)
        probabilities = np.zeros((2, *SHAPE), np.float32)
        probabilities[self.label] = 1.0
        return prediction_from_probabilities(probabilities)


def test_model_replaced_mid_prediction_still_predicts_the_image_on_screen(qtbot) -> None:
    service = PredictionService(lambda image_id: np.zeros(SHAPE, np.uint8))
    release = threading.Event()
    old = SlowPredictor(0, release)
    service.set_predictor(old, "v1")
    service.request(7)
    assert old.started.wait(10)

    service.set_predictor(SlowPredictor(1), "v2")  # never waits for v1's prediction
    release.set()
    shown: list[PredictionResult] = []
    service.prediction_ready.connect(shown.append)
    with qtbot.waitSignal(service.prediction_ready, timeout=10_000,
                          check_params_cb=lambda result: result.model_version == "v2"):
        service.request(7, urgent=True)  # the window asks again for the new model
    assert [(r.image_id, r.model_version) for r in shown] == [(7, "v2")]  # v1's is dropped
    assert shown[0].mask.all()  # v2's mask, not v1's
    service.shutdown()
