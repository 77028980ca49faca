"""Which model assists the annotator: loading, registering, predicting all.

Loading goes through the product's one checkpoint reader
(``qtseg_core.checkpoint.load_checkpoint``) and the one prediction path
(``qtseg_core.inference.Predictor``), in a background thread
(:mod:`qtseg_app.services.model_loading`): the model in use keeps predicting until the
new one is ready, and only the newest requested load is put in use. A model
loaded by the user is registered in the workspace (copied into ``<ws>/models``,
made current) so every saved prediction names the model version that made it.
The model in use and the batch progress are written into the session's
:class:`~qtseg_app.state.ModelState`.
"""

from __future__ import annotations

from pathlib import Path

from PySide6 import QtCore

from qtseg_app.services.model_loading import LoadedModel, LoadTask, ModelLoad
from qtseg_app.services.prediction import PredictionService
from qtseg_app.services.worker_pool import worker_pool
from qtseg_app.state import NO_MODEL_HINT, ModelInfo, PredictionResult, ReviewSession
from qtseg_app.state.volume_view import slices_to_predict
from qtseg_core.resources import STARTER_MODEL, resource_path
from qtseg_core.workspace import ModelVersion
from qtseg_core.workspace.demo import STARTER_VERSION, register_starter


def bundled_starter() -> Path | None:
    """The starter model shipped with the product, or None when it is not installed."""
    try:
        return resource_path(STARTER_MODEL)
    except FileNotFoundError:
        return None


class ModelService(QtCore.QObject):
    """Loads models into the prediction service and the session; runs "Predict all"."""

    model_changed = QtCore.Signal(object)  # ModelInfo or None
    predict_all_progress = QtCore.Signal(int, int)  # done, total
    predict_all_finished = QtCore.Signal(bool)  # True when completed, False when cancelled
    load_started = QtCore.Signal(object)  # ModelLoad: a model is being read in the background
    _load_done = QtCore.Signal(int, object)  # internal: ticket, LoadedModel | error | None

    def __init__(self, session: ReviewSession, service: PredictionService,
                 parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.ws = session.ws
        self.service = service
        self._batch_left: set[int] = set()
        self._batch_total = 0
        self._batch_label = "Predict all"
        self._ticket = 0  # the newest load request; older results are dropped
        self._loads: dict[int, ModelLoad] = {}
        self._pool = worker_pool(self)
        self._load_done.connect(self._on_load_done)
        service.prediction_ready.connect(self._on_prediction)
        service.prediction_failed.connect(self._on_failed)

    @property
    def info(self) -> ModelInfo | None:
        """The model in use (kept in the session's state)."""
        return self.session.model.info

    # ---- loading --------------------------------------------------------------------------
    @property
    def loading(self) -> bool:
        """True while the newest requested model is being read in the background."""
        return self._ticket in self._loads

    def load_current(self) -> ModelLoad | None:
        """Load the workspace's current model in the background. A workspace with no model
        yet (a folder of the user's own) starts with the bundled starter, registered once it
        is read. None: no model to load."""
        current = self.ws.current_model()
        if current is not None:
            return self._start_load(current.path, current.version, registered=None,
                                    version=current.version)
        starter = bundled_starter()
        if starter is None or self.ws.read_only or self.ws.models():
            self.session.use_model(None)
            self.model_changed.emit(None)
            return None
        return self._start_load(starter, STARTER_VERSION, registered=None, starter=True)

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
        self.session.model.loading = None
        self._pool.waitForDone(timeout_ms)

    def _start_load(self, path: Path, label: str, registered: dict[str, Path] | None,
                    version: str | None = None, starter: bool = False) -> ModelLoad:
        self._ticket += 1
        load = ModelLoad(self._ticket, label, version, parent=self, starter=starter)
        self._loads[load.ticket] = load
        self.session.model.loading = label
        load.failed.connect(self._on_load_failed)
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
        self.session.model.loading = None
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
        info = ModelInfo(version.version, str(name) if name else None,
                         str(loaded.predictor.device), tuple(metadata.class_names),
                         tuple(metadata.class_colors))
        self.service.set_predictor(loaded.predictor, version.version)
        if loaded.refiner is not None:
            self.session.tools.clicks.refiner = loaded.refiner
        self.session.use_model(info)
        self.model_changed.emit(info)
        return info

    def _on_load_failed(self, _error: str) -> None:
        """Take the "Loading…" message down; the caller says what went wrong."""
        if self.info is None:
            self.session.say(NO_MODEL_HINT, timeout_ms=0)
        else:
            self.session.say("")

    def _register(self, load: ModelLoad, loaded: LoadedModel) -> ModelVersion:
        if load.version is not None:
            return self.ws.model(load.version)  # load_current: registered already
        if load.starter:
            register_starter(self.ws, loaded.path)
            return self.ws.model(STARTER_VERSION)
        if loaded.same_as is not None:
            return self.ws.set_current_model(loaded.same_as)
        return self.ws.register_model(loaded.path, make_current=True,
                                      note=f"loaded in the app from {loaded.path}")

    # ---- predict all ----------------------------------------------------------------------
    def predict_all(self) -> int:
        """Queue every readable image without a prediction by this model; returns the count."""
        if self.info is None:
            return 0
        count = self.predict_images(self.ws.readable_ids())
        self.session.say(f"Predicting {count} images in the background…")
        return count

    def predict_volume(self, volume_id: int) -> int:
        """Predict the volume's unedited slices in the background, the slice on screen and
        its neighbours first; slices a person corrected, accepted, rejected or flagged are
        never queued. Returns the count (progress and cancel as for Predict all)."""
        if self.info is None:
            return 0
        document = self.session.document
        on_screen = document is not None and document.record.volume_id == volume_id
        around = document.record.slice_index if on_screen else None
        todo = slices_to_predict(self.ws, volume_id, self.has_prediction, around)
        count = self.predict_images(todo, label="Predict volume")
        name = self.ws.volume(volume_id).name
        self.session.say(f"Predicting {count} unedited slices of {name} in the background…"
                         if count else f"Every unedited slice of {name} is predicted already.")
        return count

    def predict_images(self, image_ids: list[int], label: str = "Predict all") -> int:
        """Predict these images in the background with progress (predict all, predict
        volume, re-predict after a fine-tune or rollback); skips those this model already
        predicted (one query for all of them). ``label`` names the batch in the end message."""
        if self.info is None:
            return 0
        done = self.ws.predicted_by(self.info.version)
        todo = [image_id for image_id in image_ids if image_id not in done]
        self._batch_label = label
        self._batch_left = set(todo)
        self._batch_total = len(todo)
        self.service.batch(todo)
        self._progress(0)
        if not todo:
            self._finish(True)
        return len(todo)

    def cancel_predict_all(self) -> None:
        """Stop the batch. This empties the whole queue, so ``predict_all_finished(False)``
        tells the window to ask again for the image on screen."""
        if self._batch_total:
            self.service.cancel_pending()
            self._batch_left.clear()
            self._batch_total = 0
            self._finish(False)

    def has_prediction(self, image_id: int) -> bool:
        """True when the workspace holds this model's prediction for the image."""
        return self.session.has_prediction(image_id)

    def _on_prediction(self, result: PredictionResult) -> None:
        """Into the session (which stores it once and shows it if on screen), then count it."""
        self.session.receive_prediction(result)
        self._on_done(result.image_id)

    def _on_failed(self, image_id: int, message: str) -> None:
        self.session.prediction_failed(image_id, message)
        self._on_done(image_id)

    def _on_done(self, image_id: int) -> None:
        if image_id in self._batch_left:
            self._batch_left.discard(image_id)
            self._progress(self._batch_total - len(self._batch_left))
            if not self._batch_left:
                self._batch_total = 0
                self._finish(True)

    def _progress(self, done: int) -> None:
        self.session.model.batch = (done, self._batch_total)
        self.predict_all_progress.emit(done, self._batch_total)

    def _finish(self, completed: bool) -> None:
        """The batch ended; cancelling emptied the whole queue, so the image on screen is
        asked for again."""
        self.session.model.batch = None
        self.session.refill()
        if not completed:
            self.session.request_on_screen()
        self.session.say(f"{self._batch_label}: {'done' if completed else 'cancelled'}.")
        self.predict_all_finished.emit(completed)
