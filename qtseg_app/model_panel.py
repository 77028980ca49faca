"""The model dock: which model, on which device, threshold, predict all, fine-tune."""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets

from qtseg_app.model_controller import NO_MODEL_HINT, ModelInfo

FINE_TUNE_TOOLTIP = (
    "Fine-tune the current model on the accepted and corrected images, in the background.\n"
    "The new model replaces the current one only if it scores at least as well on the\n"
    "validation images; annotating goes on meanwhile. Settings and versions: Fine-tune dock."
)


class ModelPanel(QtWidgets.QWidget):
    """Shows the model and sends the user's model commands as signals."""

    load_requested = QtCore.Signal()
    predict_all_requested = QtCore.Signal()
    cancel_requested = QtCore.Signal()
    threshold_changed = QtCore.Signal(float)
    fine_tune_requested = QtCore.Signal()

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.model_label = QtWidgets.QLabel()
        self.model_label.setWordWrap(True)
        self.load_button = QtWidgets.QPushButton("Load model…")
        self.threshold_label = QtWidgets.QLabel()
        self.threshold_slider = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal)
        self.threshold_slider.setRange(5, 95)
        self.threshold_slider.setValue(50)
        self.threshold_slider.setToolTip("Foreground probability threshold (binary models)")
        self.predict_all_button = QtWidgets.QPushButton("Predict all")
        self.progress = QtWidgets.QProgressBar()
        self.progress.setVisible(False)
        self.cancel_button = QtWidgets.QPushButton("Cancel")
        self.cancel_button.setVisible(False)
        # Enabled by the FinetuneController while a model is loaded and no fine-tune runs.
        self.fine_tune_button = QtWidgets.QPushButton("Fine-tune on corrections")
        self.fine_tune_button.setEnabled(False)
        self.fine_tune_button.setToolTip(FINE_TUNE_TOOLTIP)
        layout = QtWidgets.QVBoxLayout(self)
        for widget in (self.model_label, self.load_button, self.threshold_label,
                       self.threshold_slider, self.predict_all_button, self.progress,
                       self.cancel_button, self.fine_tune_button):
            layout.addWidget(widget)
        layout.addStretch(1)
        self.load_button.clicked.connect(self.load_requested)
        self.predict_all_button.clicked.connect(self.predict_all_requested)
        self.cancel_button.clicked.connect(self.cancel_requested)
        self.fine_tune_button.clicked.connect(self.fine_tune_requested)
        self.threshold_slider.valueChanged.connect(self._on_threshold)
        self.show_model(None)

    @property
    def threshold(self) -> float:
        return self.threshold_slider.value() / 100.0

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
            self.threshold_changed.emit(value / 100.0)
