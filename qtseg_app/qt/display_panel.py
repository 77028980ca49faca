"""The display dock: window/level on native values, CT presets, overlay style and layers.

It renders the session's :class:`~qtseg_app.state.DisplaySettings` and writes
what the user changes back into them.
"""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets

from qtseg_app.state import ImageDocument, ReviewSession
from qtseg_app.state.levels import CT_PRESETS, WindowLevel, value_range

AUTO = "Automatic"


class DisplayPanel(QtWidgets.QWidget):
    """Window/level spin boxes and presets, opacity, outline, layer toggles."""

    def __init__(self, session: ReviewSession, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.session, self.display = session, session.display
        self.preset_box = QtWidgets.QComboBox()
        self.preset_box.addItems([AUTO, *CT_PRESETS])
        self.preset_box.setToolTip("Window presets (CT presets are in Hounsfield units)")
        self.center_box = self._spin("Window centre (level), in the image's own units")
        self.width_box = self._spin("Window width, in the image's own units")
        self.width_box.setMinimum(1e-3)
        self.brightness_slider = self._slider("Brightness: shifts the window")
        self.contrast_slider = self._slider("Contrast: narrows (right) or widens (left) the window")
        self._base = WindowLevel(0.5, 1.0)  # the window the two sliders start from
        self._from_sliders = False
        self.opacity_slider = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal)
        self.opacity_slider.setRange(0, 100)
        self.opacity_slider.setValue(round(self.display.opacity * 100))
        self.outline_box = QtWidgets.QCheckBox("Outline only (O)")
        self.overlay_box = QtWidgets.QCheckBox("Show mask (V)")
        self.overlay_box.setChecked(self.display.show_mask)
        self.uncertainty_box = QtWidgets.QCheckBox("Uncertainty map (Y)")
        self.prediction_box = QtWidgets.QCheckBox("Show model prediction (T)")
        self.prediction_box.setToolTip("Compare the model's original mask with the correction")
        self._boxes = {"outline": self.outline_box, "show_mask": self.overlay_box,
                       "show_uncertainty": self.uncertainty_box,
                       "show_prediction": self.prediction_box}
        self._layout()
        self._connect()

    def _layout(self) -> None:
        form = QtWidgets.QFormLayout(self)
        form.addRow("Preset", self.preset_box)
        form.addRow("Level", self.center_box)
        form.addRow("Width", self.width_box)
        form.addRow("Brightness", self.brightness_slider)
        form.addRow("Contrast", self.contrast_slider)
        form.addRow("Opacity", self.opacity_slider)
        for box in self._boxes.values():
            form.addRow(box)

    def _connect(self) -> None:
        display = self.display
        self.preset_box.currentTextChanged.connect(self.apply_preset)
        self.center_box.valueChanged.connect(self._on_spin)
        self.width_box.valueChanged.connect(self._on_spin)
        self.brightness_slider.valueChanged.connect(self._on_slider)
        self.contrast_slider.valueChanged.connect(self._on_slider)
        self.opacity_slider.valueChanged.connect(lambda v: display.update(opacity=v / 100.0))
        for name, box in self._boxes.items():
            box.toggled.connect(lambda on, n=name: display.update(**{n: on}))
        display.changed.connect(self._on_state)
        self.session.document_changed.connect(self._on_document)

    @staticmethod
    def _spin(tip: str) -> QtWidgets.QDoubleSpinBox:
        box = QtWidgets.QDoubleSpinBox()
        box.setDecimals(1)
        box.setRange(-1e6, 1e6)
        box.setKeyboardTracking(False)
        box.setToolTip(tip)
        return box

    @staticmethod
    def _slider(tip: str) -> QtWidgets.QSlider:
        slider = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal)
        slider.setRange(-100, 100)
        slider.setToolTip(tip)
        return slider

    # ---- user input -> state ---------------------------------------------------------------
    def apply_preset(self, name: str) -> None:
        """A CT preset, or "Automatic" (recomputed for the image even when already chosen)."""
        self._quietly(self.preset_box, lambda: self.preset_box.setCurrentText(name))
        self.session.apply_preset(name)

    def auto(self) -> None:
        self.apply_preset(AUTO)

    def _on_spin(self, _value: float) -> None:
        self.display.window = WindowLevel(self.center_box.value(), self.width_box.value())

    def _on_slider(self, _value: int) -> None:
        window = self._base.with_brightness_contrast(self.brightness_slider.value() / 100.0,
                                                     self.contrast_slider.value() / 100.0)
        self._from_sliders = True
        try:
            self.display.window = window
        finally:
            self._from_sliders = False

    # ---- state -> widgets ------------------------------------------------------------------
    def _on_state(self, change: tuple[str, object]) -> None:
        name, value = change
        if name == "window" and value is not None:
            self._show_window(value)
        elif name == "opacity":
            self._quietly(self.opacity_slider,
                          lambda: self.opacity_slider.setValue(round(float(value) * 100)))
        elif name == "preset":
            self._quietly(self.preset_box, lambda: self.preset_box.setCurrentText(str(value)))
        elif name in self._boxes:
            box = self._boxes[name]
            self._quietly(box, lambda: box.setChecked(bool(value)))

    def _show_window(self, window: WindowLevel) -> None:
        if not self._from_sliders:
            self._base = window
            for slider in (self.brightness_slider, self.contrast_slider):
                self._quietly(slider, lambda s=slider: s.setValue(0))
        for box, value in ((self.center_box, window.center), (self.width_box, window.width)):
            self._quietly(box, lambda b=box, v=value: b.setValue(v))

    def _on_document(self, document: ImageDocument | None) -> None:
        """Spin-box steps that suit the new image's values."""
        if document is None:
            return
        image = document.image
        low, high = value_range(image)
        step = max((high - low) / 500.0, 0.1) if image.dtype.kind != "u" or high > 255 else 1.0
        for box in (self.center_box, self.width_box):
            box.setSingleStep(step)

    @staticmethod
    def _quietly(widget: QtWidgets.QWidget, change: object) -> None:
        widget.blockSignals(True)
        try:
            change()
        finally:
            widget.blockSignals(False)
