"""The review session: one open workspace as the app sees it, with no Qt in it.

It holds the image list, the document on screen (image, mask, undo), the one
save path, the tool and display settings, the label table, the model in use
and each image's prediction state, review and fine-tune state. Widgets
subscribe to its events and call its methods; services write their results
into it (``receive_prediction``, ``use_model``). Everything runs on the GUI
thread.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from qtseg_app.editing.geometry import change_from_arrays
from qtseg_app.state.document import ImageDocument, open_document
from qtseg_app.state.events import Event
from qtseg_app.state.histories import Histories
from qtseg_app.state.image_list import ImageList
from qtseg_app.state.labels import LabelTable
from qtseg_app.state.model import NO_MODEL_HINT, FinetuneState, ModelInfo, ModelState
from qtseg_app.state.predictions import PredictionResult, Predictions
from qtseg_app.state.review import TO_REVIEW, ReviewState
from qtseg_app.state.settings import DisplaySettings, ToolSettings
from qtseg_app.state.slices import (
    SliceEdits,
    neighbour_slice,
    neighbour_slice_ids,
    slice_caption,
)
from qtseg_app.state.tools import ToolController
from qtseg_app.state.windows import DisplayWindows
from qtseg_core.workspace import ImageRecord, MaskKind, Workspace, WorkspaceError

PREFETCH = 3  # images predicted ahead of the one on screen


class PredictionQueue(Protocol):
    """What the session asks of the prediction service (``services.prediction``)."""

    def request(self, image_id: int, *, urgent: bool = True) -> None: ...

    def prefetch(self, image_ids: list[int]) -> None: ...


@dataclass(frozen=True)
class Problem:
    """Something the user must hear about: the window shows it as an error box."""

    title: str
    problem: str
    todo: str


@dataclass(frozen=True)
class Message:
    """A status-bar line; ``timeout_ms`` 0 keeps it until replaced."""

    text: str
    timeout_ms: int = 8000


class ReviewSession:
    """The app's state over one workspace; see the module docstring."""

    def __init__(self, ws: Workspace, read_image: Callable[[int], np.ndarray] | None = None,
                 queue: PredictionQueue | None = None) -> None:
        self.ws = ws
        self.read_image = read_image or ws.read_image
        self.queue = queue
        self.labels = LabelTable(ws)
        self.tool_settings = ToolSettings()
        self.tools = ToolController(self.tool_settings, self.labels)
        self.display = DisplaySettings()
        self.windows = DisplayWindows(ws, self.display, self.say)
        self.images = ImageList()
        self.predictions = Predictions()
        self.model = ModelState()
        self.review = ReviewState()
        self.finetune = FinetuneState()
        self.histories = Histories()
        self.document: ImageDocument | None = None
        self.current_id: int | None = None
        self.unreadable_reason = ""
        self._reported_changes: set[int] = set()  # images changed on disk, already told
        self.document_changed: Event[ImageDocument | None] = Event()  # another image shown
        self.overlay_changed: Event[np.ndarray | None] = Event()  # whole mask shown changed
        self.prediction_shown: Event[int] = Event()  # image id: the model's result is here
        self.saved: Event[int] = Event()  # image id: a correction was written
        self.message: Event[Message] = Event()
        self.problem: Event[Problem] = Event()
        self.tools.committed.connect(lambda _none: self.save())
        self.tools.message.connect(self.say)
        self.display.changed.connect(self._on_display)
        self.slices = SliceEdits(self)

    # ---- messages --------------------------------------------------------------------------
    def say(self, text: str, timeout_ms: int = 8000) -> None:
        """A status-bar line; an empty ``text`` clears the line."""
        self.message.emit(Message(text, timeout_ms))

    def report(self, title: str, problem: str, todo: str) -> None:
        self.problem.emit(Problem(title, problem, todo))

    # ---- the list --------------------------------------------------------------------------
    def start(self) -> None:
        """Fill the list and reopen the image last worked on (else the first readable)."""
        self.refill()
        last = self.ws.last_image_id
        first = self.ws.next_image(None, order="name")
        if last in self.images:
            self.open_image(last)
        elif first is not None:
            self.open_image(first.id)

    def refill(self) -> None:
        self.images.refill(self.ws)

    def set_list_view(self, *, filter: str | None = None, order: str | None = None) -> None:
        """Change the list's filter or order and read it again."""
        self.images.update(**{k: v for k, v in (("filter", filter), ("order", order)) if v})
        self.refill()

    def refresh_record(self, image_id: int) -> ImageRecord:
        record = self.ws.image(image_id)
        self.images.replace_record(self.ws, record)
        if self.document is not None and self.document.image_id == image_id:
            self.document.record = record
        return record

    # ---- opening images --------------------------------------------------------------------
    def open_image(self, image_id: int) -> None:
        """Show an image with its mask; ask for its prediction and prefetch the next ones."""
        if image_id == self.current_id and self.document is not None:
            return
        self._leave_document()
        self.current_id = image_id
        self.ws.last_image_id = image_id
        record = self.ws.image(image_id)
        self.document = self._open_document(record)
        self.display.show_prediction = False
        self.tools.document = self.document
        if self.document is not None:
            self._set_window(self.document.image)
        self.document_changed.emit(self.document)
        if self.document is not None:
            self._ask_prediction(image_id)

    def open_next(self, to_review: bool = False, step: int = 1) -> None:
        """Next (or previous) image in list order; ``to_review`` skips reviewed ones."""
        ids = self.images.ids
        if not ids:
            return
        row = self.images.row_of(self.current_id)
        start = -step if row is None else row
        for k in range(1, len(ids) + 1):
            candidate = ids[(start + step * k) % len(ids)]
            if candidate == self.current_id:
                continue
            record = self.images.record(candidate)
            if not to_review or (record.readable and record.status in TO_REVIEW):
                self.open_image(candidate)
                return
        self.say("Nothing left to review in this list." if to_review else "No other image.")

    def open_slice(self, step: int = 1) -> None:
        """The neighbouring slice of the volume on screen (slice order, whatever the list's
        order); outside volumes the next or previous image."""
        record = self.ws.image(self.current_id) if self.current_id is not None else None
        if record is None or record.volume_id is None:
            self.open_next(step=step)
            return
        neighbour = neighbour_slice(self.ws, record, step)
        if neighbour is None:
            self.say("First slice of the volume." if step < 0 else "Last slice of the volume.")
            return
        self.open_image(neighbour.id)

    def open_slice_at(self, index: int) -> None:
        """Slice ``index`` (from 0) of the volume on screen (the slice bar's slider)."""
        record = self.ws.image(self.current_id) if self.current_id is not None else None
        if record is None or record.volume_id is None:
            return
        target = neighbour_slice(self.ws, record, index - record.slice_index)
        if target is not None:
            self.open_image(target.id)

    def _leave_document(self) -> None:
        """End a gesture, save, and park the undo history of the image on screen."""
        self.tools.set_document(None)
        self.save()
        old = self.document
        if old is not None:
            self.histories.park(old.image_id, old.editor.history, old.mask)
            self.predictions.hidden(old.image_id)

    def _open_document(self, record: ImageRecord) -> ImageDocument | None:
        self.unreadable_reason = record.read_error or ""
        if not record.readable:
            self.say(f"{record.name} cannot be shown: {record.read_error}")
            return None
        try:
            cached = self.predictions.result(record.id)
            document = open_document(self.ws, record, cached.mask if cached else None,
                                     read_image=self.read_image)
        except Exception as error:  # noqa: BLE001 - a bad file is reported, never fatal
            self.unreadable_reason = str(error)
            self.say(f"{record.name} cannot be shown: {error}")
            self.refresh_record(record.id)  # the workspace marked it unreadable: the row says so
            return None
        if self._changed_on_disk(record, document.image):
            return None
        history = self.histories.take(record.id, document.mask)
        if history is not None:
            document.editor.history = history
        for note in document.notes:
            self.say(note)
        return document

    def _changed_on_disk(self, record: ImageRecord, image: np.ndarray) -> bool:
        """A file replaced since it was annotated is not opened over the old masks: the
        canvas says why, the user hears it once and may start over (``start_over``)."""
        changed = self.ws.file_changed(record.id, image)
        if changed is None:
            return False
        self.unreadable_reason = f"{changed}\nEdit ▸ Start over on the new image to annotate it."
        if record.id not in self._reported_changes:
            self._reported_changes.add(record.id)
            self.report("Image changed on disk", changed,
                        "Its masks are kept as they are. Choose Edit ▸ Start over on the new "
                        "image (Ctrl+Shift+Backspace) to annotate it from scratch.")
        return True

    def start_over(self) -> None:
        """Annotate the image now on disk (replaced since it was annotated) from scratch;
        the old masks are kept under masks/replaced-<time>/."""
        image_id = self.current_id
        if image_id is None or self.document is not None:
            self.say("Start over is for an image replaced on disk since it was annotated.")
            return
        try:
            kept = self.ws.start_over(image_id, self.read_image(image_id))
        except Exception as error:  # noqa: BLE001 - a bad file is reported, never fatal
            self.report("Not started over", str(error), "Check the file, then try again.")
            return
        self.histories.drop(image_id)
        self.predictions.forget(image_id)  # a result for the old file
        self.say(f"Started over on the new file; the old masks are in {kept}." if kept
                 else "Started over on the new file.")
        self.refresh_record(image_id)
        self.current_id = None
        self.open_image(image_id)

    def apply_preset(self, name: str) -> bool:
        """A CT preset (CT images only), or "Automatic": the window computed again for the
        image on screen, the user's window for it and its kind forgotten."""
        return self.windows.apply_preset(name)

    def _set_window(self, image: np.ndarray) -> None:
        """A new image: the user's window for it, its volume or its kind, else the DICOM
        tags, else the automatic one (``state.windows``)."""
        record = self.document.record
        self.windows.open(record, image)
        if record.volume_id is not None:
            self.say(slice_caption(self.ws, record))

    # ---- saving ----------------------------------------------------------------------------
    def save(self) -> bool:
        """Save the open mask as a correction when it changed (after every committed edit):
        the visit's first save adds a version, the later ones amend it. Returns False when
        it could not be written (the edit stays in memory)."""
        document = self.document
        if document is None or not document.dirty or document.editor.stroking:
            return True
        try:
            self.ws.save_correction(document.image_id, document.mask, self.ws.reviewer_name,
                                    amend=document.saved_this_visit)
        except (WorkspaceError, OSError, ValueError) as error:
            self.report("Not saved", f"The correction of {document.record.name} could not "
                        f"be saved: {error}", "Free disk space or check permissions; the edit "
                        "is kept in memory and saved again at the next edit.")
            return False
        document.mark_saved()
        self.refresh_record(document.image_id)
        self.saved.emit(document.image_id)
        return True

    def close(self) -> None:
        """Save what is on screen and close the workspace (services are stopped first)."""
        self.tools.set_document(None)
        self.save()
        self.ws.close()

    # ---- predictions -----------------------------------------------------------------------
    def _ask_prediction(self, image_id: int) -> None:
        cached = self.predictions.result(image_id)
        if cached is not None:
            self._show_prediction(cached)
        elif self.queue is not None and self.model.info is not None:
            self.predictions.pending(image_id)
            self.queue.request(image_id, urgent=True)
        self._prefetch()

    def _prefetch(self) -> None:
        if self.queue is None or self.model.info is None:
            return
        upcoming = [i for i in self._next_to_open()
                    if self.predictions.result(i) is None and self.ws.image(i).readable]
        for image_id in upcoming:
            self.predictions.pending(image_id)
        self.queue.prefetch(upcoming)

    def _next_to_open(self) -> list[int]:
        """The images likely opened next: a volume's neighbouring slices (either way),
        else the next ones in list order."""
        record = self.document.record if self.document is not None else None
        if record is not None and record.volume_id is not None:
            return neighbour_slice_ids(self.ws, record, PREFETCH)
        return self.images.upcoming(self.current_id, PREFETCH)

    def request_on_screen(self) -> None:
        """Ask for the prediction of the image on screen first, then the next ones."""
        if self.current_id is not None and self.document is not None:
            self._ask_prediction(self.current_id)

    def receive_prediction(self, result: PredictionResult) -> None:
        """A service's result: kept and stored when of the model in use; shown when it is
        for the image on screen."""
        if not self.predictions.store(result):
            return  # made by a model since replaced
        self._persist(result)
        document = self.document
        if document is None or result.image_id != document.image_id:
            if result.image_id in self.images:
                self.refresh_record(result.image_id)
            return
        self._show_prediction(result)

    def prediction_failed(self, image_id: int, message: str) -> None:
        """A model failure is said; a file found damaged while predicted ahead is only
        listed as unreadable (with its reason), as the model is not to blame."""
        self.predictions.failed(image_id)
        record = self.ws.image(image_id)
        if image_id in self.images:
            self.refresh_record(image_id)
        if not record.readable:
            return
        name = record.name
        self.say(f"Prediction failed for {name}: {message}. Annotate it by hand, or load "
                 "another model (Ctrl+M).", timeout_ms=15_000)

    def has_prediction(self, image_id: int) -> bool:
        """True when the workspace holds the prediction of the model in use for the image."""
        latest = self.ws.latest_mask(image_id, MaskKind.PREDICTION)
        info = self.model.info
        return latest is not None and info is not None and latest.model_version == info.version

    def _persist(self, result: PredictionResult) -> None:
        """Store each new prediction once (it keeps the model's original beside corrections)."""
        if self.has_prediction(result.image_id):
            return
        try:
            self.ws.save_prediction(result.image_id, result.mask, result.model_version,
                                    result.uncertainty_score)
        except (WorkspaceError, OSError, ValueError) as error:  # e.g. the file was replaced
            self.say(f"Prediction not stored: {error}", timeout_ms=15_000)

    def _show_prediction(self, result: PredictionResult) -> None:
        document = self.document
        document.prediction = result
        self.predictions.shown(result.image_id)
        if document.adopt_mask(result.thresholded(self.display.threshold)):
            self.overlay_changed.emit(self.shown_mask)
        self.refresh_record(document.image_id)
        self.prediction_shown.emit(document.image_id)

    @property
    def shown_mask(self) -> np.ndarray | None:
        """What the overlay shows: the correction, or the model's mask in the read-only view."""
        document = self.document
        if document is None:
            return None
        if self.display.show_prediction and document.prediction_mask is not None:
            return document.prediction_mask
        return document.mask

    # ---- the model -------------------------------------------------------------------------
    def use_model(self, info: ModelInfo | None) -> None:
        """A model is in use (None: none). Its results replace the old model's; the label
        table follows it unless the user set it; the correction is editable again."""
        self.predictions.new_model(info.version if info is not None else "")
        self.model.info = info
        if info is None:
            self.say(NO_MODEL_HINT, timeout_ms=0)
            return
        self.say("")  # drop a standing "no model" or "loading" line
        self.labels.adopt_model(info.class_names, info.class_colors)
        # leave the read-only view of the old model's mask: the correction is shown (and
        # editable) again, never edited unseen under a prediction still on screen
        self.display.show_prediction = False
        self.tools.document = self.document
        self.request_on_screen()

    # ---- display settings that change what is shown ----------------------------------------
    def _on_display(self, change: tuple[str, object]) -> None:
        name, value = change
        if name == "threshold":
            self._rethreshold(float(value))
        elif name == "show_prediction":
            self._show_prediction_view(bool(value))
        elif name == "show_uncertainty" and value and self.document is not None \
                and self.document.prediction is None:
            self.say("No uncertainty map yet: it comes with the model's prediction.")

    def _rethreshold(self, threshold: float) -> None:
        document = self.document
        if document is not None and document.prediction is not None:
            if document.adopt_mask(document.prediction.thresholded(threshold)):
                self.overlay_changed.emit(self.shown_mask)

    def _show_prediction_view(self, on: bool) -> None:
        """Show the model's own mask (read-only) instead of the correction."""
        document = self.document
        if document is None:
            return
        if on and document.prediction_mask is None:
            self.say("No prediction for this image yet.")
        elif on:
            self.say("Showing the model's prediction (read-only); press T to edit again.")
        self.tools.set_document(None if on else document)
        self.overlay_changed.emit(self.shown_mask)

    # ---- edits that are not gestures -------------------------------------------------------
    def reset_to_prediction(self) -> None:
        """Replace the correction by the model's mask, as one undoable step."""
        document = self.document
        if document is None or document.prediction_mask is None:
            self.say("No prediction to start again from.")
            return
        target = document.prediction_mask
        if document.prediction is not None:
            target = document.prediction.thresholded(self.display.threshold)
        self.tools.apply(change_from_arrays(document.mask, target), "reset to prediction")
