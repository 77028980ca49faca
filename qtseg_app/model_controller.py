"""Which model assists the annotator: loading, registering, predicting all.

Loading goes through the product's one checkpoint reader
(``qtseg_core.checkpoint.load_model``) and the one prediction path
(``qtseg_core.inference.Predictor``), in a background thread
(:mod:`qtseg_app.model_loading`): the model in use keeps predicting until the
new one is ready, and only the newest requested load is put in use. A model
loaded by the user is registered in the workspace (copied into ``<ws>/models``,
made current) so every saved prediction names the model version that made it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6 import QtCore

from qtseg_app.model_loading import LoadedModel, LoadTask, ModelLoad
from qtseg_app.prediction import PredictionResult, PredictionService
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


class ModelController(QtCore.QObject):
    """Loads models into the prediction service and runs "Predict all"."""

    model_changed = QtCore.Signal(object)  # ModelInfo or None
    predict_all_progress = QtCore.Signal(int, int)  # done, total
    predict_all_finished = QtCore.Signal(bool)  # True when completed, False when cancelled
    load_started = QtCore.Signal(object)  # ModelLoad: a model is being read in the background
    _load_done = QtCore.Signal(int, object)  # internal: ticket, LoadedModel | error | None

    def __init__(self, ws: Workspace, service: PredictionService,
                 parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self.ws = ws
        self.service = service
        self.info: ModelInfo | None = None
        self._batch_left: set[int] = set()
        self._batch_total = 0
        self._ticket = 0  # the newest load request; older results are dropped
        self._loads: dict[int, ModelLoad] = {}
        self._pool = QtCore.QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._load_done.connect(self._on_load_done)
        service.prediction_ready.connect(self._on_prediction)
        service.prediction_failed.connect(lambda image_id, _m: self._on_done(image_id))

    # ---- loading --------------------------------------------------------------------------
    @property
    def loading(self) -> bool:
        """True while the newest requested model is being read in the background."""
        return self._ticket in self._loads

    def load_current(self) -> ModelLoad | None:
        """Load the workspace's current model in the background (None: it has none)."""
        current = self.ws.current_model()
        if current is None:
            self.model_changed.emit(None)
            return None
        return self._start_load(current.path, current.version, registered=None,
                                version=current.version)

    def load_checkpoint(self, path: str | Path) -> ModelLoad:
        """Load a checkpoint in the background; once it is read, register it in the
        workspace (once per file content) and use it."""
        path = Path(path)
        registered = {version.version: version.path for version in self.ws.models()}
        return self._start_load(path, path.name, registered=registered)

    def shutdown(self, timeout_ms: int = 10_000) -> None:
        """Forget pending loads and wait for a running one (the window closes)."""
        self._ticket += 1
        self._loads.clear()
        self._pool.waitForDone(timeout_ms)

    def _start_load(self, path: Path, label: str, registered: dict[str, Path] | None,
                    version: str | None = None) -> ModelLoad:
        self._ticket += 1
        load = ModelLoad(self._ticket, label, version, parent=self)
        self._loads[load.ticket] = load
        self.load_started.emit(load)
        self._pool.start(LoadTask(self._load_done, load.ticket, path, registered,
                                  lambda ticket: ticket == self._ticket))
        return load

    def _on_load_done(self, ticket: int, result: LoadedModel | str | None) -> None:
        load = self._loads.pop(ticket, None)
        if load is None:
            return  # shut down meanwhile
        load.deleteLater()
        if ticket != self._ticket or result is None:
            return  # a newer load was requested meanwhile: it wins
        try:
            info = self._use(load, result) if isinstance(result, LoadedModel) else None
        except Exception as error:  # noqa: BLE001 - e.g. the workspace could not copy it
            result = str(error)
        if isinstance(result, str):
            load.failed.emit(result)
        else:
            load.loaded.emit(info)

    def _use(self, load: ModelLoad, loaded: LoadedModel) -> ModelInfo:
        """Put a loaded model in use (GUI thread): register a new file, then swap it in."""
        version = self._register(load, loaded)
        metadata = loaded.metadata
        name = metadata.provenance.get("name")
        self.info = ModelInfo(version.version, str(name) if name else None,
                              str(loaded.predictor.device), tuple(metadata.class_names),
                              tuple(metadata.class_colors))
        self.service.set_predictor(loaded.predictor, version.version)
        self.model_changed.emit(self.info)
        return self.info

    def _register(self, load: ModelLoad, loaded: LoadedModel) -> ModelVersion:
        if load.version is not None:
            return self.ws.model(load.version)  # load_current: registered already
        if loaded.same_as is not None:
            return self.ws.set_current_model(loaded.same_as)
        return self.ws.register_model(loaded.path, make_current=True,
                                      note=f"loaded in the app from {loaded.path}")

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
        """Stop the batch. This empties the whole queue, so ``predict_all_finished(False)``
        tells the window to ask again for the image on screen."""
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
