"""The main window: puts the canvas, the image list and the docks together.

It renders workspace state and routes the user's intent to the controllers:
:class:`ToolController` (edits), :class:`ModelController` (model, predict all),
:class:`ReviewController` (decisions) and :class:`PredictionService` (background
prediction). Every committed edit is saved through the workspace at once.
"""

from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

from qtseg_app import dialogs
from qtseg_app.canvas import ImageCanvas
from qtseg_app.display_panel import DisplayPanel
from qtseg_app.document import ImageDocument, open_document
from qtseg_app.editing.geometry import change_from_arrays
from qtseg_app.filmstrip import Filmstrip
from qtseg_app.finetune_controller import FinetuneController
from qtseg_app.finetune_panel import FinetunePanel
from qtseg_app.model_controller import NO_MODEL_HINT, ModelController, ModelInfo
from qtseg_app.model_loading import ModelLoad
from qtseg_app.model_panel import ModelPanel
from qtseg_app.overlay import OverlayStyle, render_uncertainty
from qtseg_app.prediction import ImageCache, PredictionResult, PredictionService
from qtseg_app.review_mode import TO_REVIEW, ReviewBar, ReviewController
from qtseg_app.tools import ToolController
from qtseg_app.window_setup import build_actions, build_docks, build_status_bar, build_toolbar
from qtseg_core.workspace import ImageRecord, Workspace, WorkspaceError

PREFETCH = 3  # images predicted ahead of the one on screen


class MainWindow(QtWidgets.QMainWindow):
    """QTSeg Studio's window over one open workspace."""

    prediction_shown = QtCore.Signal(int)  # image id, the model's mask on screen
    saved = QtCore.Signal(int)  # image id, a correction written to the workspace

    def __init__(self, ws: Workspace) -> None:
        super().__init__()
        self.ws = ws
        self.document: ImageDocument | None = None
        self.current_id: int | None = None
        self.review_mode = False
        self._problem = ""
        self._unreadable = 0
        self.canvas = ImageCanvas(self)
        self.review_bar = ReviewBar()
        self.review_bar.setVisible(False)
        central = QtWidgets.QWidget()
        layout = QtWidgets.QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.canvas, 1)
        layout.addWidget(self.review_bar)
        self.setCentralWidget(central)
        self.filmstrip, self.display, self.model_panel = Filmstrip(), DisplayPanel(), ModelPanel()
        self.finetune_panel = FinetunePanel()
        self.images = ImageCache(ws.read_image)
        self.service = PredictionService(self.images, parent=self)
        self.models = ModelController(ws, self.service, parent=self)
        self.tools = ToolController(self)
        self.review = ReviewController(self)
        self.docks = build_docks(self)
        self.toolbar = build_toolbar(self)
        self.actions_by_name = build_actions(self)
        self.status = build_status_bar(self)
        self._connect()
        self.finetune = FinetuneController(self)  # button, progress, settings, rollback
        self.setWindowTitle(f"QTSeg Studio — {ws.folder}")
        self.resize(1400, 900)

    # ---- wiring ---------------------------------------------------------------------------
    def _connect(self) -> None:
        c, t = self.canvas, self.tools
        c.stroke_started.connect(t.stroke_started)
        c.stroke_moved.connect(t.stroke_moved)
        c.stroke_finished.connect(t.stroke_finished)
        c.clicked.connect(t.clicked)
        c.double_clicked.connect(t.double_clicked)
        c.hovered.connect(self._on_hover)
        t.mask_changed.connect(c.overlay_item.refresh_region)
        t.committed.connect(self.autosave)
        t.polygon_changed.connect(c.set_polygon_preview)
        t.brush_changed.connect(c.set_brush_radius)
        t.tool_changed.connect(self._on_tool_changed)
        t.message.connect(self.say)
        self.filmstrip.image_selected.connect(self.open_image)
        self.filmstrip.view_changed.connect(self.refresh_list)
        d = self.display
        d.window_changed.connect(c.set_window)
        d.opacity_changed.connect(lambda v: self._restyle(opacity=v))
        d.outline_toggled.connect(lambda on: self._restyle(outline=on))
        d.overlay_toggled.connect(c.overlay_item.setVisible)
        d.uncertainty_toggled.connect(self._show_uncertainty)
        d.prediction_toggled.connect(self._show_prediction)
        m = self.model_panel
        m.load_requested.connect(self.load_model_dialog)
        m.predict_all_requested.connect(self.predict_all)
        m.cancel_requested.connect(self.models.cancel_predict_all)
        m.threshold_changed.connect(self._on_threshold)
        self.models.model_changed.connect(self._on_model_changed)
        self.models.load_started.connect(self._on_load_started)
        self.models.predict_all_progress.connect(m.show_progress)
        self.models.predict_all_finished.connect(self._on_predict_all_finished)
        self.service.prediction_ready.connect(self._on_prediction)
        self.service.prediction_failed.connect(self._on_prediction_failed)
        self.service.queue_changed.connect(self._on_queue)
        self.review.decided.connect(lambda *_: self._update_review_bar())

    # ---- workspace and images -------------------------------------------------------------
    def start(self) -> None:
        """Fill the list, load the current model, reopen the image last worked on."""
        self.refresh_list()
        load = self.models.load_current()  # in the background: annotation starts at once
        if load is not None:
            load.failed.connect(lambda error: dialogs.show_error(
                self, "Model not loaded", f"The workspace's model could not be loaded: {error}",
                "Load another checkpoint (Ctrl+M)."))
        last = self.ws.setting("last_image_id")
        readable = [r.id for r in self.ws.images(order=self.filmstrip.order) if r.readable]
        if last in self.filmstrip.visible_ids() or readable:
            self.open_image(last if last in self.filmstrip.visible_ids() else readable[0])

    def refresh_list(self) -> None:
        records = self.ws.images(self.filmstrip.statuses, order=self.filmstrip.order)
        self.filmstrip.set_records(records, self.current_id)
        unreadable = sum(not r.readable for r in self.ws.images())
        self._unreadable = unreadable
        self.filmstrip.set_counts(self.ws.counts(), unreadable)

    def refresh_record(self, image_id: int) -> ImageRecord:
        record = self.ws.image(image_id)
        self.filmstrip.update_record(record)
        self.filmstrip.set_counts(self.ws.counts(), self._unreadable)
        if self.document is not None and self.document.image_id == image_id:
            self.document.record = record
        self._update_review_bar()
        return record

    def open_image(self, image_id: int) -> None:
        """Show an image with its mask; ask for its prediction and prefetch the next ones."""
        if image_id == self.current_id and self.document is not None:
            return
        self.tools.set_document(None)  # ends a stroke in progress on the old image
        self.autosave()
        self.current_id = image_id
        self.filmstrip.select(image_id)
        self.ws.set_setting("last_image_id", image_id)
        record = self.ws.image(image_id)
        self.document = self._open_document(record)
        self.tools.set_document(self.document)
        self.display.prediction_box.setChecked(False)
        if self.document is None:
            self.canvas.show_image(None, None)
            self.canvas.show_notice(f"{record.name} cannot be shown:\n{self._problem}")
            self._update_review_bar()
            return
        self.canvas.show_image(self.document.image, self.display.set_image(self.document.image))
        self.canvas.overlay_item.show_mask(self.document.mask)
        self._show_uncertainty(self.display.uncertainty_box.isChecked())
        cached = self.service.request(image_id, urgent=True)
        if cached is not None:
            self._on_prediction(cached)
        self.service.prefetch(self._upcoming(PREFETCH))
        self._update_review_bar()

    def _open_document(self, record: ImageRecord) -> ImageDocument | None:
        self._problem = record.read_error or ""
        if not record.readable:
            self.say(f"{record.name} cannot be shown: {record.read_error}")
            return None
        try:
            cached = self.service.cached(record.id)
            document = open_document(self.ws, record, cached.mask if cached else None,
                                     read_image=self.images)
        except Exception as error:  # noqa: BLE001 - a bad file is reported, never fatal
            self._problem = str(error)
            self.say(f"{record.name} cannot be shown: {error}")
            return None
        for note in document.notes:
            self.say(note)
        return document

    def _upcoming(self, count: int) -> list[int]:
        ids = self.filmstrip.visible_ids()
        if self.current_id not in ids:
            return ids[:count]
        start = ids.index(self.current_id)
        return [ids[(start + k) % len(ids)] for k in range(1, min(count, len(ids) - 1) + 1)]

    def open_next(self, to_review: bool = False, step: int = 1) -> None:
        """Next (or previous) image in list order; ``to_review`` skips reviewed ones."""
        ids = self.filmstrip.visible_ids()
        if not ids:
            return
        start = ids.index(self.current_id) if self.current_id in ids else -step
        for k in range(1, len(ids) + 1):
            candidate = ids[(start + step * k) % len(ids)]
            if candidate == self.current_id:
                continue
            record = self.ws.image(candidate)
            if not to_review or (record.readable and record.status in TO_REVIEW):
                self.open_image(candidate)
                return
        self.say("Nothing left to review in this list." if to_review else "No other image.")

    def autosave(self) -> None:
        """Save the open mask as a correction when it changed (every committed edit)."""
        document = self.document
        if document is None or not document.dirty or document.editor.stroking:
            return
        try:
            self.ws.save_correction(document.image_id, document.mask,
                                    self.ws.setting("reviewer_name"))
        except (WorkspaceError, OSError) as error:
            dialogs.show_error(self, "Not saved", f"The correction of {document.record.name} "
                               f"could not be saved: {error}",
                               "Free disk space or check permissions; the edit is kept in "
                               "memory and saved again at the next edit.")
            return
        document.mark_saved()
        self.refresh_record(document.image_id)
        self.saved.emit(document.image_id)

    # ---- prediction -----------------------------------------------------------------------
    def _on_prediction(self, result: PredictionResult) -> None:
        """Show a prediction if it is for the image on screen and the current model."""
        document = self.document
        if document is None or result.image_id != document.image_id \
                or result.model_version != self.service.model_version:
            if result.image_id in self.filmstrip.visible_ids():
                self.refresh_record(result.image_id)
            return
        document.prediction = result
        if document.adopt_mask(result.thresholded(self.model_panel.threshold)):
            self.canvas.overlay_item.show_mask(document.mask)
        if self.display.uncertainty_box.isChecked():
            self._show_uncertainty(True)
        self.refresh_record(document.image_id)
        self.prediction_shown.emit(document.image_id)

    def _on_prediction_failed(self, image_id: int, message: str) -> None:
        name = self.ws.image(image_id).name
        self.say(f"Prediction failed for {name}: {message}. Annotate it by hand, or load "
                 "another model (Ctrl+M).", timeout_ms=15_000)

    def _on_threshold(self, threshold: float) -> None:
        document = self.document
        if document is not None and document.prediction is not None:
            if document.adopt_mask(document.prediction.thresholded(threshold)):
                self.canvas.overlay_item.show_mask(document.mask)

    def _on_model_changed(self, info: ModelInfo | None) -> None:
        self.model_panel.show_model(info)
        self.tools.num_classes = info.num_classes if info is not None else 2
        if info is None:
            self.status.model.setText("No model")
            self.say(NO_MODEL_HINT, timeout_ms=0)
            return
        self.status.model.setText(f"Model: {info.label} on {info.device}")
        self.statusBar().clearMessage()  # drop a standing "no model" hint
        colors = tuple(info.class_colors[1:]) or OverlayStyle().class_colors
        self._restyle(class_colors=colors)
        # leave the read-only view of the old model's mask: the correction is shown (and
        # editable) again, never edited unseen under a prediction still on screen
        self.display.prediction_box.setChecked(False)
        self.tools.set_document(self.document)
        self._request_on_screen()

    def _request_on_screen(self) -> None:
        """Ask for the prediction of the image on screen first, then the next ones."""
        if self.current_id is not None:
            self.service.request(self.current_id, urgent=True)
            self.service.prefetch(self._upcoming(PREFETCH))

    def predict_all(self) -> None:
        if not self.service.has_model:
            self.say(NO_MODEL_HINT)
            return
        count = self.models.predict_all()
        self.say(f"Predicting {count} images in the background…")

    def _on_predict_all_finished(self, completed: bool) -> None:
        self.model_panel.finish_progress()
        self.refresh_list()
        if not completed:  # cancelling emptied the queue: the image on screen still needs one
            self._request_on_screen()
        self.say("Predict all: done." if completed else "Predict all: cancelled.")

    def _on_queue(self, waiting: int) -> None:
        self.status.queue.setText(f"predicting ({waiting})…" if waiting else "")

    def load_model_dialog(self) -> None:
        path = dialogs.choose_file(self, "Load a QTSeg checkpoint", "Checkpoints (*.safetensors)")
        if path:
            self.load_model(path)

    def load_model(self, path: str) -> None:
        """Load a checkpoint in the background; the model in use predicts until it is ready."""
        load = self.models.load_checkpoint(path)
        load.failed.connect(lambda error: dialogs.show_error(
            self, "Model not loaded", f"{path}: {error}",
            "Choose a .safetensors checkpoint written by qtseg train."))

    def _on_load_started(self, load: ModelLoad) -> None:
        self.say(f"Loading model {load.label}…", timeout_ms=0)
        load.failed.connect(self._on_load_failed)

    def _on_load_failed(self, _error: str) -> None:
        """Take the "Loading…" message down; the caller's dialog says what went wrong."""
        if self.models.info is None:
            self.say(NO_MODEL_HINT, timeout_ms=0)
        else:
            self.statusBar().clearMessage()

    # ---- display --------------------------------------------------------------------------
    def _restyle(self, **changes: object) -> None:
        style = self.canvas.overlay_item.style
        self.canvas.overlay_item.set_style(OverlayStyle(**{**style.__dict__, **changes}))

    def _show_uncertainty(self, visible: bool) -> None:
        document = self.document
        prediction = document.prediction if document is not None else None
        if visible and prediction is not None:
            self.canvas.uncertainty_item.show_rgba(render_uncertainty(prediction.uncertainty))
        elif visible:
            self.say("No uncertainty map yet: it comes with the model's prediction.")
        self.canvas.uncertainty_item.setVisible(visible and prediction is not None)

    def _show_prediction(self, on: bool) -> None:
        """Show the model's own mask (read-only) instead of the correction."""
        document = self.document
        if document is None:
            return
        shown = document.prediction_mask if on else document.mask
        if on and shown is None:
            self.say("No prediction for this image yet.")
            shown = document.mask
        self.canvas.overlay_item.show_mask(shown)
        self.tools.set_document(None if on else document)
        if on:
            self.say("Showing the model's prediction (read-only); press T to edit again.")

    def _on_tool_changed(self, tool: str) -> None:
        self.canvas.left_button_draws = tool != "pan"
        self.canvas.show_brush_cursor(tool in ("brush", "eraser"))

    def _on_hover(self, x: float, y: float) -> None:
        self.tools.hovered(x, y)
        document = self.document
        if document is None:
            return
        row, col = int(y), int(x)
        h, w = document.image.shape[:2]
        if 0 <= row < h and 0 <= col < w:
            value, label = document.image[row, col], document.mask[row, col]
            self.status.position.setText(f"x {col}, y {row}: {value}  class {label}")

    # ---- review mode ----------------------------------------------------------------------
    def toggle_review_mode(self) -> None:
        """A minimal view for clinicians: image, mask and the decision keys only."""
        self.review.toggle_mode()

    def _update_review_bar(self) -> None:
        self.review.update_bar()

    def reset_to_prediction(self) -> None:
        """Replace the correction by the model's mask, as one undoable step."""
        document = self.document
        if document is None or document.prediction_mask is None:
            self.say("No prediction to start again from.")
            return
        target = document.prediction_mask
        if document.prediction is not None:
            target = document.prediction.thresholded(self.model_panel.threshold)
        self.tools.apply(change_from_arrays(document.mask, target), "reset to prediction")

    def open_workspace_dialog(self) -> None:
        """Open (or create) another workspace in a new window, then close this one."""
        folder = dialogs.choose_folder(self, "Open or create a workspace folder")
        if folder:
            from qtseg_app.app import open_window

            if open_window(folder) is not None:
                self.close()

    def show_help(self) -> None:
        from qtseg_app.shortcuts import HelpDialog

        HelpDialog(self).open()

    def export(self) -> None:
        from qtseg_app.export_dialog import ExportDialog

        dialog = ExportDialog(self.ws, self)
        dialog.finished.connect(lambda _r: self.say(
            f"Exported to {dialog.exported_to}" if dialog.exported_to else "Export cancelled."))
        dialog.open()

    def say(self, text: str, timeout_ms: int = 8000) -> None:
        self.statusBar().showMessage(text, timeout_ms)

    # ---- closing --------------------------------------------------------------------------
    def closeEvent(self, event: QtGui.QCloseEvent) -> None:  # noqa: N802 (Qt name)
        self.tools.set_document(None)
        self.autosave()
        self.finetune.shutdown()
        self.models.shutdown()
        self.service.shutdown()
        self.ws.close()
        event.accept()
