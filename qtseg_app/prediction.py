"""Background prediction: one worker thread, a priority queue, a result cache, prefetch.

Every result is tagged with the image id and the model version it was computed
for. The service drops results of a model that has since been replaced, and the
window drops results for an image it no longer shows, so a stale mask never
lands on the wrong image. The worker never touches widgets: it emits a typed
signal that Qt queues to the GUI thread.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from PySide6 import QtCore

if TYPE_CHECKING:
    from qtseg_core.inference import Prediction

ImageLoader = Callable[[int], np.ndarray]


@dataclass(frozen=True)
class PredictionResult:
    """A model's output for one image, at the image's size.

    mask: (H, W) uint8 class indices (argmax). foreground: (H, W) float16
    probability of class 1 for binary models (threshold control), else None.
    uncertainty: (H, W) float16 in [0, 1]. uncertainty_score: one number for sorting.
    """

    image_id: int
    model_version: str
    mask: np.ndarray
    foreground: np.ndarray | None
    uncertainty: np.ndarray
    uncertainty_score: float
    seconds: float

    def thresholded(self, threshold: float) -> np.ndarray:
        """The mask at another foreground threshold (binary models; else the argmax mask)."""
        if self.foreground is None or threshold == 0.5:
            return self.mask  # argmax of two classes is the 0.5 threshold
        return (self.foreground >= threshold).astype(np.uint8)


def result_from_prediction(image_id: int, model_version: str, prediction: Prediction,
                           seconds: float) -> PredictionResult:
    """Wrap the core ``Prediction``, keeping its uncertainty score (the one sort order)."""
    probabilities = np.asarray(prediction.probabilities)
    foreground = probabilities[1].astype(np.float16) if probabilities.shape[0] == 2 else None
    uncertainty = np.asarray(prediction.uncertainty, dtype=np.float16)
    return PredictionResult(image_id, model_version, np.asarray(prediction.mask, np.uint8),
                            foreground, uncertainty, float(prediction.uncertainty_score),
                            seconds)


class ImageCache:
    """A thread-safe LRU of recently read images, shared by the worker and the window.

    The worker reads each image it predicts ahead, so opening that image later
    costs no decoding (a 2048² PNG takes ~90 ms to decode).
    """

    def __init__(self, loader: ImageLoader, size: int = 8) -> None:
        self._loader = loader
        self._size = size
        self._images: OrderedDict[int, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, image_id: int) -> np.ndarray:
        with self._lock:
            image = self._images.get(image_id)
            if image is not None:
                self._images.move_to_end(image_id)
                return image
        image = self._loader(image_id)
        image.setflags(write=False)  # shared: nobody may change it
        with self._lock:
            self._images[image_id] = image
            while len(self._images) > self._size:
                self._images.popitem(last=False)
        return image


class _PredictTask(QtCore.QRunnable):
    """Reads one image and predicts it; reports through the service's signals.

    The predictor and its version are the ones current when the task was
    started: a model loaded meanwhile never waits for this task, and the
    result keeps the name of the model that really made it.
    """

    def __init__(self, service: PredictionService, image_id: int, generation: int) -> None:
        super().__init__()
        self._service = service
        self._image_id = image_id
        self._generation = generation
        self._predictor = service.predictor
        self._model_version = service.model_version

    def run(self) -> None:
        service = self._service
        try:
            if service.generation != self._generation:
                service.worker_finished.emit(self._generation, None)  # stale: skip
                return
            image = service.loader(self._image_id)
            started = time.perf_counter()
            prediction = self._predictor.predict(image)
            result = result_from_prediction(self._image_id, self._model_version, prediction,
                                            time.perf_counter() - started)
            service.worker_finished.emit(self._generation, result)
        except Exception as error:  # noqa: BLE001 - any failure is reported, never raised
            try:
                service.worker_failed.emit(self._generation, self._image_id,
                                           f"{type(error).__name__}: {error}")
            except RuntimeError:
                pass  # the window closed while this image was predicted


class PredictionService(QtCore.QObject):
    """Runs a predictor on images in the background, newest request first."""

    prediction_ready = QtCore.Signal(object)  # PredictionResult
    prediction_failed = QtCore.Signal(int, str)  # image id, message
    queue_changed = QtCore.Signal(int)  # images waiting or running
    worker_finished = QtCore.Signal(int, object)  # internal: generation, result
    worker_failed = QtCore.Signal(int, int, str)  # internal: generation, image id, message

    def __init__(self, loader: ImageLoader, cache_size: int = 12,
                 parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self.loader = loader
        self.predictor: object | None = None
        self.model_version = ""
        self.generation = 0
        self._cache: OrderedDict[int, PredictionResult] = OrderedDict()
        self._cache_size = cache_size
        self._pending: list[int] = []
        self._running: int | None = None
        self._running_generation = 0
        self._pool = QtCore.QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self.worker_finished.connect(self._on_worker_finished)
        self.worker_failed.connect(self._on_worker_failed)

    # ---- model ---------------------------------------------------------------------------
    @property
    def has_model(self) -> bool:
        return self.predictor is not None

    def set_predictor(self, predictor: object | None, model_version: str) -> None:
        """Use a new predictor; everything queued or cached for the old one is dropped."""
        self.cancel_pending()
        self.predictor = predictor
        self.model_version = model_version if predictor is not None else ""
        self.generation += 1
        self._cache.clear()

    # ---- requests ------------------------------------------------------------------------
    def cached(self, image_id: int) -> PredictionResult | None:
        """The cached result for the current model, or None."""
        result = self._cache.get(image_id)
        if result is not None:
            self._cache.move_to_end(image_id)
        return result

    def request(self, image_id: int, *, urgent: bool = True) -> PredictionResult | None:
        """Ask for a prediction; returns it at once when cached, else queues it.

        ``urgent`` puts the image at the head of the queue (the image on screen);
        otherwise it waits behind the others (prefetch, predict all).
        """
        if self.predictor is None:
            return None
        cached = self.cached(image_id)
        if cached is not None:
            return cached
        if self._predicting_now(image_id):
            return None
        if image_id in self._pending:
            self._pending.remove(image_id)
        if urgent:
            self._pending.insert(0, image_id)
        else:
            self._pending.append(image_id)
        self._start_next()
        return None

    def prefetch(self, image_ids: list[int]) -> None:
        """Queue images that will probably be opened next (kept behind urgent requests)."""
        if self.predictor is None:
            return
        for image_id in image_ids:
            if image_id not in self._cache and not self._predicting_now(image_id):
                if image_id not in self._pending:
                    self._pending.append(image_id)
        self._start_next()

    def cancel_pending(self) -> None:
        """Forget everything queued; the image being predicted finishes and is cached."""
        self._pending.clear()
        self.queue_changed.emit(self.busy_count)

    def shutdown(self, timeout_ms: int = 10_000) -> None:
        """Stop: drop the queue and the model, wait for the worker; late results are ignored."""
        self.set_predictor(None, "")
        self.wait_idle(timeout_ms)

    @property
    def busy_count(self) -> int:
        return len(self._pending) + (self._running is not None)

    def wait_idle(self, timeout_ms: int = 30_000) -> bool:
        """Block until the worker is done (for shutdown and tests)."""
        return self._pool.waitForDone(timeout_ms)

    # ---- worker plumbing -----------------------------------------------------------------
    def _predicting_now(self, image_id: int) -> bool:
        """True when the worker is predicting this image for the current model (a task of
        a replaced model still running does not count: its result will be dropped)."""
        return image_id == self._running and self._running_generation == self.generation

    def _start_next(self) -> None:
        if self._running is not None or not self._pending or self.predictor is None:
            self.queue_changed.emit(self.busy_count)
            return
        self._running = self._pending.pop(0)
        self._running_generation = self.generation
        self._pool.start(_PredictTask(self, self._running, self.generation))
        self.queue_changed.emit(self.busy_count)

    def _on_worker_finished(self, generation: int, result: PredictionResult | None) -> None:
        self._running = None
        if result is not None and generation == self.generation:
            self._cache[result.image_id] = result
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
            self.prediction_ready.emit(result)
        self._start_next()

    def _on_worker_failed(self, generation: int, image_id: int, message: str) -> None:
        self._running = None
        if generation == self.generation:
            self.prediction_failed.emit(image_id, message)
        self._start_next()
