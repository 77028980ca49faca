"""The model dock: which model, on which device, threshold, predict all, fine-tune.

It renders the session's model and fine-tune state and sends the buttons to
the model and fine-tune services; "Load model…" asks the window for a file.
"""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets

from qtseg_app.qt.layout import keep_place_when_hidden, row
from qtseg_app.services import FinetuneService, ModelService
from qtseg_app.state import NO_MODEL_HINT, ModelInfo, ReviewSession

FINE_TUNE_TOOLTIP = (
    "Fine-tune the current model on the accepted and corrected images, in the background.\n"
    "The new model replaces the current one only if it scores at least as well on the\n"
    "validation images; annotating goes on meanwhile. Settings and versions: Fine-tune dock."
)


class ModelPanel(QtWidgets.QWidget):
    """Shows the model in use; Predict all, Cancel and Fine-tune go to the services."""

    load_requested = QtCore.Signal()  # the window asks for a file

    def __init__(self, session: ReviewSession, models: ModelService, finetune: FinetuneService,
                 parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.session, self.models, self.finetune = session, models, finetune
        self.model_label = QtWidgets.QLabel()
        self.model_label.setWordWrap(True)
        self.load_button = QtWidgets.QPushButton("Load model…")
        self.threshold_label = QtWidgets.QLabel()
        self.threshold_slider = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal)
        self.threshold_slider.setRange(5, 95)
        self.threshold_slider.setValue(round(session.display.threshold * 100))
        self.threshold_slider.setToolTip("Foreground probability threshold (binary models)")
        self.predict_all_button = QtWidgets.QPushButton("Predict all")
        self.progress = QtWidgets.QProgressBar()
        self.progress.setVisible(False)
        self.cancel_button = QtWidgets.QPushButton("Cancel")
        self.cancel_button.setVisible(False)
        # enabled while a model is in use and no fine-tune runs
        self.fine_tune_button = QtWidgets.QPushButton("Fine-tune on corrections")
        self.fine_tune_button.setEnabled(False)
        self.fine_tune_button.setToolTip(FINE_TUNE_TOOLTIP)
        layout = QtWidgets.QVBoxLayout(self)
        for widget in (self.model_label, self.load_button, self.threshold_label,
                       self.threshold_slider, self.predict_all_button,
                       row(self.progress, self.cancel_button), self.fine_tune_button):
            layout.addWidget(widget)
        layout.addStretch(1)
        keep_place_when_hidden(self.progress, self.cancel_button)
        self.load_button.clicked.connect(self.load_requested)
        self.predict_all_button.clicked.connect(self.predict_all)
        self.cancel_button.clicked.connect(models.cancel_predict_all)
        self.fine_tune_button.clicked.connect(finetune.start)
        self.threshold_slider.valueChanged.connect(self._on_threshold)
        session.model.changed.connect(self._on_model_state)
        session.finetune.changed.connect(lambda _change: self._update_fine_tune_button())
        self.show_model(session.model.info)

    def predict_all(self) -> None:
        if self.session.model.info is None:
            self.session.say(NO_MODEL_HINT)
            return
        self.models.predict_all()

    def _on_model_state(self, change: tuple[str, object]) -> None:
        name, value = change
        if name == "info":
            self.show_model(value)
        elif name == "batch":
            if value is None:
                self.finish_progress()
            else:
                self.show_progress(*value)

    def _update_fine_tune_button(self) -> None:
        has_model = self.session.model.info is not None
        self.fine_tune_button.setEnabled(has_model and not self.session.finetune.running)

    def show_model(self, info: ModelInfo | None) -> None:
        if info is None:
            self.model_label.setText(NO_MODEL_HINT)
        else:
            classes = ", ".join(info.class_names[1:])
            self.model_label.setText(f"<b>Model {info.label}</b><br>"
                                     f"device: {info.device}<br>classes: {classes}")
        binary = info is not None and info.binary
        self.threshold_slider.setVisible(binary)
        self.threshold_label.setVisible(binary)
        self.predict_all_button.setEnabled(info is not None)
        self._on_threshold(self.threshold_slider.value(), emit=False)
        self._update_fine_tune_button()

    def show_progress(self, done: int, total: int) -> None:
        running = total > 0 and done < total
        self.progress.setVisible(running)
        self.cancel_button.setVisible(running)
        self.predict_all_button.setEnabled(not running)
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)
        self.progress.setFormat("Predicting %v / %m")

    def finish_progress(self) -> None:
        self.progress.setVisible(False)
        self.cancel_button.setVisible(False)
        self.predict_all_button.setEnabled(True)

    def _on_threshold(self, value: int, emit: bool = True) -> None:
        self.threshold_label.setText(f"Threshold: {value / 100:.2f}")
        if emit:
            self.session.display.threshold = value / 100.0
