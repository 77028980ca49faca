"""Which model assists the annotator: loading, registering, predicting all.

Loading goes through the product's one checkpoint reader
(``qtseg_core.checkpoint.load_model``) and the one prediction path
(``qtseg_core.inference.Predictor``). A model loaded by the user is registered
in the workspace (copied into ``<ws>/models``, made current) so every saved
prediction names the model version that made it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from PySide6 import QtCore

from qtseg_app.prediction import PredictionResult, PredictionService
from qtseg_core.checkpoint import load_model, read_metadata
from qtseg_core.inference import Predictor
from qtseg_core.workspace import MaskKind, ModelVersion, Workspace

NO_MODEL_HINT = (
    "No model: annotate by hand, or load a checkpoint (Model ▸ Load model…, Ctrl+M). "
    "Train one with: qtseg train FOLDER -o runs/my_model"
)


@dataclass(frozen=True)
class ModelInfo:
    """What the window shows about the loaded model."""

    version: str
    name: str | None
    device: str
    class_names: tuple[str, ...]
    class_colors: tuple[tuple[int, int, int], ...]

    @property
    def label(self) -> str:
        """'v3' or 'v3 · lung starter' when the checkpoint names itself."""
        return f"{self.version} · {self.name}" if self.name else self.version

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def binary(self) -> bool:
        return self.num_classes == 2


def file_digest(path: Path) -> str:
    """SHA-256 of a file (checkpoints are small enough to hash at load time)."""
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class ModelController(QtCore.QObject):
    """Loads models into the prediction service and runs "Predict all"."""

    model_changed = QtCore.Signal(object)  # ModelInfo or None
    predict_all_progress = QtCore.Signal(int, int)  # done, total
    predict_all_finished = QtCore.Signal(bool)  # True when completed, False when cancelled

    def __init__(self, ws: Workspace, service: PredictionService,
                 parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self.ws = ws
        self.service = service
        self.info: ModelInfo | None = None
        self._batch_left: set[int] = set()
        self._batch_total = 0
        service.prediction_ready.connect(self._on_prediction)
        service.prediction_failed.connect(lambda image_id, _m: self._on_done(image_id))

    # ---- loading --------------------------------------------------------------------------
    def load_current(self) -> ModelInfo | None:
        """Load the workspace's current model, if it has one (errors propagate)."""
        current = self.ws.current_model()
        if current is None:
            self.model_changed.emit(None)
            return None
        return self._load(current)

    def load_checkpoint(self, path: str | Path) -> ModelInfo:
        """Register a checkpoint in the workspace (once per file content) and use it."""
        path = Path(path)
        read_metadata(path)  # a clear error before anything is copied
        digest = file_digest(path)
        for version in self.ws.models():
            if version.path.exists() and file_digest(version.path) == digest:
                return self._load(self.ws.set_current_model(version.version))
        version = self.ws.register_model(path, make_current=True,
                                         note=f"loaded in the app from {path}")
        return self._load(version)

    def _load(self, version: ModelVersion) -> ModelInfo:
        model = load_model(version.path)
        predictor = Predictor(model)
        metadata = model.metadata
        name = metadata.provenance.get("name")
        self.info = ModelInfo(version.version, str(name) if name else None, str(predictor.device),
                              tuple(metadata.class_names), tuple(metadata.class_colors))
        self.service.set_predictor(predictor, version.version)
        self.model_changed.emit(self.info)
        return self.info

    # ---- predict all ----------------------------------------------------------------------
    def predict_all(self) -> int:
        """Queue every readable image without a prediction by this model; returns the count."""
        if self.info is None:
            return 0
        todo = [r.id for r in self.ws.images() if r.readable and not self.has_prediction(r.id)]
        return self.predict_images(todo)

    def predict_images(self, image_ids: list[int]) -> int:
        """Predict these images in the background with progress (predict all, re-predict
        after a fine-tune or rollback); skips those this model already predicted."""
        if self.info is None:
            return 0
        todo = [image_id for image_id in image_ids if not self.has_prediction(image_id)]
        self._batch_left = set(todo)
        self._batch_total = len(todo)
        self.service.prefetch(todo)
        self.predict_all_progress.emit(0, self._batch_total)
        if not todo:
            self.predict_all_finished.emit(True)
        return len(todo)

    def cancel_predict_all(self) -> None:
        if self._batch_total:
            self.service.cancel_pending()
            self._batch_left.clear()
            self._batch_total = 0
            self.predict_all_finished.emit(False)

    def has_prediction(self, image_id: int) -> bool:
        """True when the workspace holds this model's prediction for the image."""
        latest = self.ws.latest_mask(image_id, MaskKind.PREDICTION)
        return latest is not None and self.info is not None \
            and latest.model_version == self.info.version

    def _on_prediction(self, result: PredictionResult) -> None:
        """Persist each new prediction once (it keeps the model's original beside corrections)."""
        if self.info is not None and result.model_version == self.info.version:
            if not self.has_prediction(result.image_id):
                self.ws.save_prediction(result.image_id, result.mask, result.model_version,
                                        result.uncertainty_score)
        self._on_done(result.image_id)

    def _on_done(self, image_id: int) -> None:
        if image_id in self._batch_left:
            self._batch_left.discard(image_id)
            done = self._batch_total - len(self._batch_left)
            self.predict_all_progress.emit(done, self._batch_total)
            if not self._batch_left:
                self._batch_total = 0
                self.predict_all_finished.emit(True)
