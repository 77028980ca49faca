"""The order of background predictions while a Predict all of many images runs (issue 13)."""

from __future__ import annotations

import threading

import numpy as np

from qtseg_app.services.prediction import PredictionService
from qtseg_core.inference import Prediction, prediction_from_probabilities

SHAPE = (8, 8)
BATCH = 2_000  # images in the Predict all


class HeldPredictor:
    """Predicts the background everywhere; the first image waits for ``release``."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.started = threading.Event()

    def predict(self, image: np.ndarray) -> Prediction:
        self.started.set()
        self.release.wait(10)
        probabilities = np.zeros((2, *SHAPE), np.float32)
        probabilities[0] = 1.0
        return prediction_from_probabilities(probabilities)


def held_service() -> tuple[PredictionService, HeldPredictor, list[int], list[int]]:
    """A service whose first prediction is held; the ids predicted and dropped, in order."""
    service = PredictionService(lambda image_id: np.zeros(SHAPE, np.uint8))
    predictor = HeldPredictor()
    service.set_predictor(predictor, "v1")
    predicted: list[int] = []
    dropped: list[int] = []
    service.prediction_ready.connect(lambda result: predicted.append(result.image_id))
    service.dropped.connect(dropped.extend)
    return service, predictor, predicted, dropped


def finish(qtbot, service: PredictionService, predictor: HeldPredictor) -> None:  # noqa: ANN001
    predictor.release.set()
    qtbot.waitUntil(lambda: service.busy_count == 0, timeout=30_000)
    service.shutdown()


def test_the_image_opened_during_predict_all_is_predicted_next_then_every_image_once(
        qtbot) -> None:
    service, predictor, predicted, dropped = held_service()
    service.batch(list(range(1, BATCH + 1)))
    assert predictor.started.wait(10)  # image 1 is being predicted
    service.request(1500, urgent=True)  # the user opens an image far down the list
    service.prefetch([1501, 1502])
    service.batch(list(range(1, BATCH + 1)))  # and presses Predict all again
    assert service.busy_count == BATCH

    finish(qtbot, service, predictor)
    assert predicted[:4] == [1, 1500, 1501, 1502]
    assert sorted(predicted) == list(range(1, BATCH + 1))  # each image exactly once
    assert dropped == []  # batch images are never dropped by opening others


def test_images_skipped_past_are_dropped_but_batch_images_stay_queued(qtbot) -> None:
    service, predictor, predicted, dropped = held_service()
    service.batch(list(range(1, 101)))
    assert predictor.started.wait(10)
    service.request(500, urgent=True)  # not in the batch
    service.prefetch([501, 50])  # 50 is a batch image
    service.request(600, urgent=True)  # the user moves on
    service.prefetch([601])

    finish(qtbot, service, predictor)
    assert sorted(dropped) == [500, 501]
    assert predicted[:4] == [1, 600, 601, 50]  # 50 keeps its place ahead of the batch
    assert sorted(predicted) == sorted([*range(1, 101), 600, 601])


def test_cancel_drops_every_waiting_image_in_order(qtbot) -> None:
    service, predictor, predicted, dropped = held_service()
    service.batch(list(range(1, 6)))
    assert predictor.started.wait(10)
    service.request(9, urgent=True)
    service.cancel_pending()
    assert dropped == [9, 2, 3, 4, 5]
    finish(qtbot, service, predictor)
    assert predicted == [1]  # the running image finishes and is reported
