"""The slice bar under the canvas: which slice of which volume is on screen, a slider and
a spin box to go to another, the volume's review state, and "Predict volume".

Shown only while a slice of a volume is on screen. It renders the session's
document and image list (``state/volume_view.py`` computes the facts) and
sends the user's choice back: ``session.open_slice_at`` for the slider and the
spin box, ``ModelService.predict_volume`` / ``cancel_predict_all`` for the
buttons. The keys (Page Up / Page Down) and Shift + wheel go through the
session too, so the slider follows them.
"""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets

from qtseg_app.services import ModelService
from qtseg_app.state import ImageDocument, ReviewSession
from qtseg_app.state.volume_view import SlicePosition, slice_position

PREDICT_VOLUME_TIP = ("Predict every slice of this volume nobody has edited yet, in the "
                      "background, the slice on screen and its neighbours first "
                      "(Ctrl+Alt+P). Corrected, accepted, rejected and flagged slices "
                      "keep their masks.")


class SliceBar(QtWidgets.QWidget):
    """Slice navigation and whole-volume prediction for the volume on screen."""

    def __init__(self, session: ReviewSession, models: ModelService,
                 parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.session, self.models = session, models
        self.position: SlicePosition | None = None
        self.volume_label = QtWidgets.QLabel()
        self.slider = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal)
        self.slider.setToolTip("Slice of the volume (Page Up / Page Down, Shift + wheel)")
        self.slider.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)  # keys stay the window's
        self.spin = QtWidgets.QSpinBox()
        self.spin.setToolTip("Slice number: type one to go there")
        self.spin.setFocusPolicy(QtCore.Qt.FocusPolicy.ClickFocus)
        self.status_label = QtWidgets.QLabel()
        self.predict_button = QtWidgets.QPushButton("Predict volume")
        self.predict_button.setToolTip(PREDICT_VOLUME_TIP)
        self.progress = QtWidgets.QProgressBar()
        self.progress.setMinimumWidth(170)
        self.cancel_button = QtWidgets.QPushButton("Cancel")
        self._lay_out()
        self.slider.valueChanged.connect(self._go_to)
        self.spin.valueChanged.connect(self._go_to)
        self.predict_button.clicked.connect(self.predict_volume)
        self.cancel_button.clicked.connect(models.cancel_predict_all)
        session.document_changed.connect(self._on_document)
        session.images.record_changed.connect(lambda _record: self._show_volume_status())
        session.images.refilled.connect(lambda _images: self._show_volume_status())
        session.model.changed.connect(self._on_model_state)
        self._show_batch(None)
        self.predict_button.setEnabled(session.model.info is not None)
        self.setVisible(False)

    def _lay_out(self) -> None:
        layout = QtWidgets.QHBoxLayout(self)
        layout.setContentsMargins(6, 2, 6, 2)
        layout.addWidget(self.volume_label)
        layout.addWidget(self.slider, 1)
        layout.addWidget(self.spin)
        layout.addWidget(self.status_label)
        for widget in (self.predict_button, self.progress, self.cancel_button):
            layout.addWidget(widget)

    # ---- the user's input -> session ------------------------------------------------------
    def _go_to(self, number: int) -> None:
        """Slider or spin box moved to slice ``number`` (from 1)."""
        if self.position is not None and number - 1 != self.position.index:
            self.session.open_slice_at(number - 1)

    def predict_volume(self) -> None:
        if self.position is None:
            self.session.say("Predict volume needs a slice of a volume on screen.")
        elif self.session.model.info is None:
            self.session.say("No model to predict with: load one (Ctrl+M).")
        else:
            self.models.predict_volume(self.position.volume_id)

    # ---- session -> widgets ---------------------------------------------------------------
    def _on_document(self, document: ImageDocument | None) -> None:
        record = document.record if document is not None else (
            self.session.ws.image(self.session.current_id)
            if self.session.current_id is not None else None)
        self.position = slice_position(self.session.ws, record)
        self.setVisible(self.position is not None)
        if self.position is None:
            return
        number, count = self.position.index + 1, self.position.count
        for box in (self.slider, self.spin):
            box.blockSignals(True)
            box.setRange(1, count)
            box.setValue(number)
            box.blockSignals(False)
        self.spin.setSuffix(f" / {count}")
        self.volume_label.setText(f"<b>{self.position.volume_name}</b> slice")
        self._show_volume_status()

    def _show_volume_status(self) -> None:
        if self.position is None:
            return
        summary = next((v for v in self.session.images.volumes
                        if v.volume_id == self.position.volume_id), None)
        self.status_label.setText(f"volume: {summary.progress()}" if summary else "")

    def _on_model_state(self, change: tuple[str, object]) -> None:
        if change[0] == "batch":
            self._show_batch(change[1])
        elif change[0] == "info":
            self.predict_button.setEnabled(change[1] is not None)

    def _show_batch(self, batch: tuple[int, int] | None) -> None:
        """A prediction batch running: its progress and Cancel, instead of the button."""
        running = batch is not None and batch[1] > 0 and batch[0] < batch[1]
        self.progress.setVisible(running)
        self.cancel_button.setVisible(running)
        self.predict_button.setVisible(not running)
        if running:
            self.progress.setRange(0, batch[1])
            self.progress.setValue(batch[0])
            self.progress.setFormat("%v / %m slices")
