"""The app's prediction queue while Predict all waits: the cost of opening an image.

    QT_QPA_PLATFORM=offscreen python benchmarks/prediction_queue.py [--images 1000 100000]

For each ``--images`` count, queues a Predict all of that many images behind
one image being predicted (held, so the queue stays full), then opens 200
images far down the list the way the window does (``request`` for the image
on screen, ``prefetch`` for the next two) and prints the mean time per image
opened. The queue's steps do not depend on how many images wait, so the
figures should match at every count (the list it replaced scanned and rebuilt
the whole batch at each step: 177 ms per image opened at 10^5 queued, at a
load of 12).
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from pathlib import Path

import numpy as np
from PySide6 import QtCore

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from qtseg_app.services.prediction import PredictionService  # noqa: E402
from qtseg_core.inference import Prediction, prediction_from_probabilities  # noqa: E402

OPENS = 200


class HeldPredictor:
    """Predicts the background, once ``release`` is set: the first image holds the queue."""

    def __init__(self) -> None:
        self.release = threading.Event()

    def predict(self, image: np.ndarray) -> Prediction:
        self.release.wait(120)
        probabilities = np.zeros((2, *image.shape[:2]), np.float32)
        probabilities[0] = 1.0
        return prediction_from_probabilities(probabilities)


def ms_per_image_opened(images: int) -> float:
    service = PredictionService(lambda image_id: np.zeros((4, 4), np.uint8))
    predictor = HeldPredictor()
    service.set_predictor(predictor, "v1")
    service.batch(list(range(images)))
    start = time.perf_counter()
    for k in range(OPENS):
        image = images - 1 - (37 * k) % images
        service.request(image, urgent=True)
        service.prefetch([image - 1, image - 2])
    seconds = time.perf_counter() - start
    predictor.release.set()
    service.shutdown()
    return 1000 * seconds / OPENS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=int, nargs="+", default=[1_000, 100_000])
    args = parser.parse_args()
    app = QtCore.QCoreApplication.instance() or QtCore.QCoreApplication([])  # noqa: F841
    for images in args.images:
        print(f"Predict all of {images} images waiting: {ms_per_image_opened(images):.3f} ms "
              f"per image opened (request + prefetch; load {os.getloadavg()[0]:.1f})")


if __name__ == "__main__":
    main()
