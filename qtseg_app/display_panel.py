"""The display dock: window/level on native values, CT presets, overlay style and layers."""

from __future__ import annotations

import numpy as np
from PySide6 import QtCore, QtWidgets

from qtseg_app.levels import CT_PRESETS, WindowLevel, auto_window, value_range

AUTO = "Automatic"


class DisplayPanel(QtWidgets.QWidget):
    """Window/level spin boxes and presets, opacity, outline, layer toggles."""

    window_changed = QtCore.Signal(object)  # WindowLevel
    opacity_changed = QtCore.Signal(float)
    outline_toggled = QtCore.Signal(bool)
    overlay_toggled = QtCore.Signal(bool)
    uncertainty_toggled = QtCore.Signal(bool)
    prediction_toggled = QtCore.Signal(bool)

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self._image: np.ndarray | None = None
        self.preset_box = QtWidgets.QComboBox()
        self.preset_box.addItems([AUTO, *CT_PRESETS])
        self.preset_box.setToolTip("Window presets (CT presets are in Hounsfield units)")
        self.center_box = self._spin("Window centre (level), in the image's own units")
        self.width_box = self._spin("Window width, in the image's own units")
        self.width_box.setMinimum(1e-3)
        self.brightness_slider = self._slider("Brightness: shifts the window")
        self.contrast_slider = self._slider("Contrast: narrows (right) or widens (left) the window")
        self._base = WindowLevel(0.5, 1.0)  # the window the two sliders start from
        self.opacity_slider = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal)
        self.opacity_slider.setRange(0, 100)
        self.opacity_slider.setValue(45)
        self.outline_box = QtWidgets.QCheckBox("Outline only (O)")
        self.overlay_box = QtWidgets.QCheckBox("Show mask (V)")
        self.overlay_box.setChecked(True)
        self.uncertainty_box = QtWidgets.QCheckBox("Uncertainty map (Y)")
        self.prediction_box = QtWidgets.QCheckBox("Show model prediction (T)")
        self.prediction_box.setToolTip("Compare the model's original mask with the correction")
        form = QtWidgets.QFormLayout(self)
        form.addRow("Preset", self.preset_box)
        form.addRow("Level", self.center_box)
        form.addRow("Width", self.width_box)
        form.addRow("Brightness", self.brightness_slider)
        form.addRow("Contrast", self.contrast_slider)
        form.addRow("Opacity", self.opacity_slider)
        for box in (self.outline_box, self.overlay_box, self.uncertainty_box, self.prediction_box):
            form.addRow(box)
        self.preset_box.currentTextChanged.connect(self._on_preset)
        self.center_box.valueChanged.connect(self._on_spin)
        self.width_box.valueChanged.connect(self._on_spin)
        self.brightness_slider.valueChanged.connect(self._on_slider)
        self.contrast_slider.valueChanged.connect(self._on_slider)
        self.opacity_slider.valueChanged.connect(lambda v: self.opacity_changed.emit(v / 100.0))
        self.outline_box.toggled.connect(self.outline_toggled)
        self.overlay_box.toggled.connect(self.overlay_toggled)
        self.uncertainty_box.toggled.connect(self.uncertainty_toggled)
        self.prediction_box.toggled.connect(self.prediction_toggled)

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

    @property
    def window(self) -> WindowLevel:
        return WindowLevel(self.center_box.value(), self.width_box.value())

    def set_image(self, image: np.ndarray | None) -> WindowLevel | None:
        """A new image: keep a chosen CT preset, else compute the automatic window."""
        self._image = image
        if image is None:
            return None
        low, high = value_range(image)
        step = max((high - low) / 500.0, 0.1) if image.dtype.kind != "u" or high > 255 else 1.0
        for box in (self.center_box, self.width_box):
            box.setSingleStep(step)
        preset = self.preset_box.currentText()
        window = CT_PRESETS[preset] if preset in CT_PRESETS else auto_window(image)
        self._show(window, emit=False)
        return window

    def apply_preset(self, name: str) -> None:
        self.preset_box.setCurrentText(name)
        self._on_preset(name)

    def auto(self) -> None:
        self.apply_preset(AUTO)

    def _on_preset(self, name: str) -> None:
        if name in CT_PRESETS:
            self._show(CT_PRESETS[name], emit=True)
        elif self._image is not None:
            self._show(auto_window(self._image), emit=True)

    def _show(self, window: WindowLevel, emit: bool, keep_sliders: bool = False) -> None:
        if not keep_sliders:
            self._base = window
            for slider in (self.brightness_slider, self.contrast_slider):
                slider.blockSignals(True)
                slider.setValue(0)
                slider.blockSignals(False)
        for box, value in ((self.center_box, window.center), (self.width_box, window.width)):
            box.blockSignals(True)
            box.setValue(value)
            box.blockSignals(False)
        if emit:
            self.window_changed.emit(window)

    def _on_spin(self, _value: float) -> None:
        self._show(self.window, emit=True)

    def _on_slider(self, _value: int) -> None:
        window = self._base.with_brightness_contrast(self.brightness_slider.value() / 100.0,
                                                     self.contrast_slider.value() / 100.0)
        self._show(window, emit=True, keep_sliders=True)
