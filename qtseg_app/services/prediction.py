"""Background prediction: one worker thread, a priority queue, prefetch.

Every result is tagged with the image id and the model version it was computed
for. The service drops results of a model that has since been replaced, and the
session (:mod:`qtseg_app.state`) keeps results for the model in use and shows
only the one for the image on screen, so a stale mask never lands on the wrong
image. The worker never touches state or widgets: it emits a typed signal that
Qt queues to the GUI thread, where the result is written into the session.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable

import numpy as np
from PySide6 import QtCore

from qtseg_app.services.prediction_queue import PredictionQueue
from qtseg_app.services.worker_pool import worker_pool
from qtseg_app.state.predictions import PredictionResult, result_from_prediction

ImageLoader = Callable[[int], np.ndarray]


class ImageCache:
    """A thread-safe LRU of recently read images, shared by the worker and the window.

    The worker reads each image it predicts ahead, so opening that image later
    costs no decoding (a 2048² PNG takes ~90 ms to decode).
    """

    def __init__(self, loader: ImageLoader, size: int = 8,
                 stamp: Callable[[int], object] | None = None) -> None:
        self._loader = loader
        self._size = size
        self._stamp = stamp or (lambda _image_id: None)  # e.g. the file's mtime and size
        self._images: OrderedDict[int, tuple[object, np.ndarray]] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, image_id: int) -> np.ndarray:
        """The image's pixels, read again when its file changed since it was cached."""
        stamp = self._stamp(image_id)
        with self._lock:
            cached = self._images.get(image_id)
            if cached is not None and cached[0] == stamp:
                self._images.move_to_end(image_id)
                return cached[1]
        image = self._loader(image_id)
        image.setflags(write=False)  # shared: nobody may change it
        with self._lock:
            self._images[image_id] = (stamp, image)
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
    """Runs a predictor on images in the background: the image on screen first, then its
    prefetch, then a batch (Predict all).

    Each request for the image on screen drops the previous one and the previous
    prefetch (``dropped`` names them, so the list stops saying "predicting…"):
    images skipped quickly are never predicted behind the one the user looks at.
    Batch images stay queued until predicted or cancelled.
    """

    prediction_ready = QtCore.Signal(object)  # PredictionResult
    prediction_failed = QtCore.Signal(int, str)  # image id, message
    queue_changed = QtCore.Signal(int)  # images waiting or running
    dropped = QtCore.Signal(list)  # image ids no longer queued (skipped, cancelled)
    worker_finished = QtCore.Signal(int, object)  # internal: generation, result
    worker_failed = QtCore.Signal(int, int, str)  # internal: generation, image id, message

    def __init__(self, loader: ImageLoader, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self.loader = loader
        self.predictor: object | None = None
        self.model_version = ""
        self.generation = 0
        self._pending = PredictionQueue()  # on screen, prefetch, then batch
        self._running: int | None = None
        self._running_generation = 0
        self._pool = worker_pool(self)
        self.worker_finished.connect(self._on_worker_finished)
        self.worker_failed.connect(self._on_worker_failed)

    # ---- model ---------------------------------------------------------------------------
    @property
    def has_model(self) -> bool:
        return self.predictor is not None

    def set_predictor(self, predictor: object | None, model_version: str) -> None:
        """Use a new predictor; everything queued for the old one is dropped."""
        self.cancel_pending()
        self.predictor = predictor
        self.model_version = model_version if predictor is not None else ""
        self.generation += 1

    # ---- requests ------------------------------------------------------------------------
    def request(self, image_id: int, *, urgent: bool = True) -> None:
        """Queue a prediction (``prediction_ready`` brings it).

        ``urgent``: the image on screen, put at the head of the queue; the earlier
        on-screen request and prefetch are dropped. Otherwise it waits behind the others
        like a batch image.
        """
        if self.predictor is None or self._predicting_now(image_id):
            return
        if urgent:
            self._report_dropped(self._pending.show(image_id))
        elif image_id not in self._pending:
            self._pending.add([image_id])
        self._start_next()

    def prefetch(self, image_ids: list[int]) -> None:
        """The images that will probably be opened next: queued right after the image on
        screen (the urgent request just before, if any), replacing the previous prefetch."""
        if self.predictor is None:
            return
        wanted = [i for i in image_ids if not self._predicting_now(i)]
        self._report_dropped(self._pending.prefetch(wanted))
        self._start_next()

    def batch(self, image_ids: list[int]) -> None:
        """Queue many images (Predict all) behind the image on screen and its prefetch."""
        if self.predictor is None:
            return
        self._pending.add(i for i in image_ids if not self._predicting_now(i))
        self._start_next()

    def cancel_pending(self) -> None:
        """Forget everything queued; the image being predicted finishes and is reported."""
        self._report_dropped(self._pending.clear())
        self.queue_changed.emit(self.busy_count)

    def _report_dropped(self, image_ids: list[int]) -> None:
        if image_ids:
            self.dropped.emit(list(image_ids))

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
        self._running = self._pending.take()
        self._running_generation = self.generation
        self._pool.start(_PredictTask(self, self._running, self.generation))
        self.queue_changed.emit(self.busy_count)

    def _on_worker_finished(self, generation: int, result: PredictionResult | None) -> None:
        self._running = None
        if result is not None and generation == self.generation:
            self.prediction_ready.emit(result)
        self._start_next()

    def _on_worker_failed(self, generation: int, image_id: int, message: str) -> None:
        self._running = None
        if generation == self.generation:
            self.prediction_failed.emit(image_id, message)
        self._start_next()
