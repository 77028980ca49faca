"""What the model has said about each image: results, and where each image stands.

Every result is tagged with the image id and the model version that made it.
``Predictions`` keeps the newest results of the model in use (a small LRU; the
masks are also stored in the workspace) and a status per image:

- PENDING: asked for, not come back yet (the list and status bar can say so);
- READY: a result of the model in use is here, not on screen;
- SHOWN: that result is on screen;
- STALE: the image had a result of a model since replaced (predict again);
- FAILED: the model raised on it (annotate by hand).

Images never asked about have no status (None).
"""

from __future__ import annotations

import enum
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from qtseg_app.state.events import Event

if TYPE_CHECKING:
    from qtseg_core.inference import Prediction


class PredictionStatus(str, enum.Enum):
    PENDING = "pending"
    READY = "ready"
    SHOWN = "shown"
    STALE = "stale"
    FAILED = "failed"


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


class Predictions:
    """Results of the model in use (LRU of ``cache_size``) and each image's status.

    ``status_changed((image_id, status))`` fires on every status change.
    """

    def __init__(self, cache_size: int = 12) -> None:
        self.model_version = ""
        self._results: OrderedDict[int, PredictionResult] = OrderedDict()
        self._status: dict[int, PredictionStatus] = {}
        self._cache_size = cache_size
        self.status_changed: Event[tuple[int, PredictionStatus | None]] = Event()

    def status(self, image_id: int) -> PredictionStatus | None:
        return self._status.get(image_id)

    def result(self, image_id: int) -> PredictionResult | None:
        """The cached result of the model in use, or None."""
        result = self._results.get(image_id)
        if result is not None:
            self._results.move_to_end(image_id)
        return result

    def pending(self, image_id: int) -> None:
        if self.result(image_id) is None:
            self._set(image_id, PredictionStatus.PENDING)

    def store(self, result: PredictionResult) -> bool:
        """Keep a result of the model in use (READY); False (dropped) for another model's."""
        if result.model_version != self.model_version:
            return False
        self._results[result.image_id] = result
        while len(self._results) > self._cache_size:
            evicted, _ = self._results.popitem(last=False)
            if self._status.get(evicted) is PredictionStatus.READY:
                self._set(evicted, None)  # in the workspace; asked for again when opened
        if self._status.get(result.image_id) is not PredictionStatus.SHOWN:
            self._set(result.image_id, PredictionStatus.READY)
        return True

    def shown(self, image_id: int) -> None:
        self._set(image_id, PredictionStatus.SHOWN)

    def hidden(self, image_id: int) -> None:
        """The image left the screen: a shown result is READY again."""
        if self._status.get(image_id) is PredictionStatus.SHOWN:
            self._set(image_id, PredictionStatus.READY)

    def forget(self, image_id: int) -> None:
        """Drop the image's result and status (its file was replaced)."""
        self._results.pop(image_id, None)
        self._set(image_id, None)

    def not_pending(self, image_ids: list[int]) -> None:
        """The queue dropped these images (skipped past, cancelled): no longer PENDING."""
        for image_id in image_ids:
            if self._status.get(image_id) is PredictionStatus.PENDING:
                self._set(image_id, None)

    def failed(self, image_id: int) -> None:
        self._set(image_id, PredictionStatus.FAILED)

    def new_model(self, model_version: str) -> None:
        """Another model is in use: its results are gone, those images are STALE."""
        self.model_version = model_version
        self._results.clear()
        for image_id, status in list(self._status.items()):
            if status in (PredictionStatus.READY, PredictionStatus.SHOWN):
                self._set(image_id, PredictionStatus.STALE)
            elif status is PredictionStatus.PENDING:
                self._set(image_id, None)  # the old model's queue is dropped

    def clear(self) -> None:
        """Forget the cached results (they are in the workspace)."""
        self._results.clear()

    def _set(self, image_id: int, status: PredictionStatus | None) -> None:
        if self._status.get(image_id) is status:
            return
        if status is None:
            self._status.pop(image_id, None)
        else:
            self._status[image_id] = status
        self.status_changed.emit((image_id, status))
