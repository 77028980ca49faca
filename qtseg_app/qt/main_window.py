"""The main window: composes the canvas, the docks and the keys over one review session.

It holds no review logic. The session (:mod:`qtseg_app.state`) holds the
state and does the work; the services (:mod:`qtseg_app.services`) predict,
load models and fine-tune in the background and write into the session; each
widget renders its part of the session and writes the user's input back. The
window adds what only a window can: file dialogs, error boxes, the status bar
and hiding the docks in review mode.
"""

from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

from qtseg_app.qt import dialogs
from qtseg_app.qt.canvas import ImageCanvas
from qtseg_app.qt.canvas_view import CanvasView
from qtseg_app.qt.click_markers import ClickMarkers
from qtseg_app.qt.display_panel import DisplayPanel
from qtseg_app.qt.filmstrip import Filmstrip
from qtseg_app.qt.finetune_panel import FinetunePanel
from qtseg_app.qt.focus import keep_keys_on_canvas
from qtseg_app.qt.label_table import LabelTableWidget
from qtseg_app.qt.model_panel import ModelPanel
from qtseg_app.qt.review_bar import ReviewBar, ReviewKeys
from qtseg_app.qt.slice_bar import SliceBar
from qtseg_app.qt.split_box import SplitBox
from qtseg_app.qt.window_setup import build_actions, build_docks, build_status_bar, build_toolbar
from qtseg_app.services import Services
from qtseg_app.state import Decisions, ImageDocument, Message, Problem, ReviewSession
from qtseg_app.state.split import SplitChoices
from qtseg_core.workspace import Workspace


class MainWindow(QtWidgets.QMainWindow):
    """QTSeg Studio's window over one open workspace."""

    prediction_shown = QtCore.Signal(int)  # image id, the model's mask on screen
    saved = QtCore.Signal(int)  # image id, a correction written to the workspace
    workspace_requested = QtCore.Signal(str)  # a folder to open in a new window

    def __init__(self, ws: Workspace) -> None:
        super().__init__()
        self.ws = ws
        self.services = Services(ws, parent=self)
        self.session: ReviewSession = self.services.session
        self.decisions = Decisions(self.session)
        self.split = SplitChoices(self.session)
        self.review_keys = ReviewKeys(self.decisions, self)
        self._build_widgets()
        self._docks_before_review: QtCore.QByteArray | None = None
        self.docks = build_docks(self)
        self.toolbar = build_toolbar(self)
        self.actions_by_name = build_actions(self)
        self.status = build_status_bar(self)
        keep_keys_on_canvas(self, self.canvas, self.docks)
        self._connect()
        self.setWindowTitle(f"QTSeg Studio — {ws.folder}")
        self.resize(1400, 900)

    def _build_widgets(self) -> None:
        session, services = self.session, self.services
        self.canvas = ImageCanvas(self)
        self.canvas_view = CanvasView(self.canvas, session, self._show_position)
        self.slice_bar = SliceBar(session, services.models)
        self.click_markers = ClickMarkers(self.canvas, session.tools.clicks)
        self.review_bar = ReviewBar(session)
        central = QtWidgets.QWidget()
        layout = QtWidgets.QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.canvas, 1)
        layout.addWidget(self.slice_bar)
        layout.addWidget(self.review_bar)
        self.setCentralWidget(central)
        self.filmstrip = Filmstrip(session)
        self.display = DisplayPanel(session)
        self.model_panel = ModelPanel(session, services.models, services.finetune)
        self.finetune_panel = FinetunePanel(session, services.finetune, SplitBox(self.split))
        self.label_table = LabelTableWidget(session)

    def _connect(self) -> None:
        session = self.session
        session.message.connect(self._say)
        session.problem.connect(self._show_problem)
        session.prediction_shown.connect(self.prediction_shown.emit)
        session.saved.connect(self.saved.emit)
        session.review.changed.connect(self._on_review_mode)
        session.model.changed.connect(self._on_model_state)
        self.model_panel.load_requested.connect(self.load_model_dialog)
        self.finetune.ask_install = lambda question, old, previews: (
            dialogs.ask_install_unsure(self, question, old, previews))

    # ---- the parts, for tests and scripts --------------------------------------------------
    @property
    def document(self) -> ImageDocument | None:
        return self.session.document

    @property
    def current_id(self) -> int | None:
        return self.session.current_id

    @property
    def tools(self):  # noqa: ANN201 - the session's ToolController
        return self.session.tools

    @property
    def service(self):  # noqa: ANN201 - the PredictionService
        return self.services.prediction

    @property
    def models(self):  # noqa: ANN201 - the ModelService
        return self.services.models

    @property
    def finetune(self):  # noqa: ANN201 - the FinetuneService
        return self.services.finetune

    @property
    def review_mode(self) -> bool:
        return self.session.review.mode

    # ---- starting --------------------------------------------------------------------------
    _closing_after_finetune = False

    def start(self) -> None:
        """Load the workspace's model (in the background), fill the list, reopen the image
        last worked on; first the gate judges a fine-tune that finished after the last close."""
        self.finetune.apply_finished()
        load = self.services.models.load_current()
        if load is not None:
            load.failed.connect(lambda error: self._show_problem(Problem(
                "Model not loaded", f"The workspace's model could not be loaded: {error}",
                "Load another checkpoint (Ctrl+M).")))
        self.session.start()
        self.split.refresh()
        for note in self.ws.interrupted_finetunes:
            self.session.report("Fine-tune did not finish", note,
                                "Press Fine-tune on corrections to run it again.")

    # ---- what only a window does -----------------------------------------------------------
    def load_model_dialog(self) -> None:
        path = dialogs.choose_model_file(self)
        if path:
            self.load_model(path)

    def load_model(self, path: str) -> None:
        """Load a checkpoint in the background; the model in use predicts until it is ready."""
        load = self.services.models.load_checkpoint(path)
        load.failed.connect(lambda error: self._show_problem(Problem(
            "Model not loaded", f"{path}: {error}",
            "Choose a .safetensors checkpoint written by qtseg train.")))

    def open_workspace_dialog(self) -> None:
        """Ask for a folder; the app opens it in a new window (this one closes if it opens)."""
        folder = dialogs.choose_folder(self, "Open or create a workspace folder")
        if folder:
            self.workspace_requested.emit(folder)

    def show_help(self) -> None:
        from qtseg_app.qt.shortcuts import HelpDialog

        HelpDialog(self).open()

    def export(self) -> None:
        from qtseg_app.qt.export_dialog import ExportDialog

        dialog = ExportDialog(self.ws, self)
        dialog.finished.connect(lambda _r: self._say(Message(dialog.outcome())))
        dialog.open()

    # ---- state -> window -------------------------------------------------------------------
    def _say(self, message: Message) -> None:
        if message.text:
            self.statusBar().showMessage(message.text, message.timeout_ms)
        else:
            self.statusBar().clearMessage()

    def _show_problem(self, problem: Problem) -> None:
        dialogs.show_error(self, problem.title, problem.problem, problem.todo)

    def _show_position(self, text: str) -> None:
        self.status.position.setText(text)

    def _on_review_mode(self, change: tuple[str, object]) -> None:
        """Review mode: hide docks, tool bar and menus (the review strip shows itself)."""
        if change[0] != "mode":
            return
        if change[1]:
            self._docks_before_review = self.saveState()  # each dock's size, to come back to
        for dock in self.docks:
            dock.setVisible(not change[1])
        self.toolbar.setVisible(not change[1])
        self.menuBar().setVisible(not change[1])
        if not change[1] and self._docks_before_review is not None:
            self.restoreState(self._docks_before_review)
        self.canvas.fit()

    def _on_model_state(self, change: tuple[str, object]) -> None:
        name, value = change
        if name == "loading" and value:
            self._say(Message(f"Loading model {value}…", 0))
        elif name == "info":
            self.status.model.setText(
                "No model" if value is None else f"Model: {value.label} on {value.device}")
        elif name == "queued":
            self.status.queue.setText(f"predicting ({value})…" if value else "")

    # ---- closing ---------------------------------------------------------------------------
    def closeEvent(self, event: QtGui.QCloseEvent) -> None:  # noqa: N802 (Qt name)
        """Save first; an edit that cannot be saved (disk full) is never dropped silently:
        the window stays open unless the user chooses to close without it. Closing during
        a fine-tune asks: wait for it (close when it ends), cancel it, or keep working."""
        if self.finetune.running and not self._closing_after_finetune:
            choice = dialogs.ask_close_during_finetune(self)
            if choice != "cancel":
                if choice == "wait":
                    self._closing_after_finetune = True
                    self.finetune.finished.connect(lambda _how: self.close())
                    self._say(Message("The window closes when the fine-tune ends.", 0))
                event.ignore()
                return
        document = self.session.document
        if not self.session.save() and not dialogs.confirm_close_unsaved(
                self, document.record.name if document else "the image"):
            event.ignore()
            return
        self.services.shutdown()
        self.session.close()
        event.accept()
