"""The fine-tune settings dialog: the fields of ``FinetuneSettings``; "Restore defaults" shows
the measured recipe for the workspace's images (``finetune_recipe``), what a fine-tune with no
stored settings uses.

The settings are kept per workspace (``services.finetune.stored_settings``), so
a workspace of small images can keep a small canvas without asking again.
"""

from __future__ import annotations

from dataclasses import replace

from PySide6 import QtWidgets

from qtseg_core.finetune import FinetuneSettings

AUTO_SIZE = 32  # the size spin box's minimum, shown as "auto" (input_size=None)


class FinetuneSettingsDialog(QtWidgets.QDialog):
    """Edits a ``FinetuneSettings``; ``settings()`` is the result (validated by the class).

    ``recipe``: what "Restore defaults" shows (the recipe for the images the split trains on).
    """

    def __init__(self, settings: FinetuneSettings, recipe: FinetuneSettings,
                 parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Fine-tune settings")
        self.recipe = recipe
        self._shown = settings  # what the dialog has no field for is kept from it
        self.epochs = _spin(1, 1000, "At most this many passes over the corrected images")
        self.patience = _spin(0, 1000, "Stop when validation Dice has not improved for this "
                                       "many epochs (0: never stop early)")
        self.input_size = _spin(AUTO_SIZE, 2048, "Canvas side images are resized to for "
                                                 "training (multiple of 32); auto = the "
                                                 "planner's size for the training images "
                                                 "(at most 256 and the model's own, "
                                                 "larger for thin objects)")
        self.input_size.setSingleStep(32)
        self.input_size.setSpecialValueText("auto")
        self.lr = QtWidgets.QDoubleSpinBox()
        self.lr.setDecimals(6)
        self.lr.setRange(1e-6, 1.0)
        self.lr.setSingleStep(1e-5)
        self.lr.setToolTip("Learning rate (AdamW, after a 3-epoch warm-up)")
        self.batch_size = _spin(1, 256, "Images per training step")
        self.weight_decay = QtWidgets.QDoubleSpinBox()
        self.weight_decay.setDecimals(6)
        self.weight_decay.setRange(0.0, 1.0)
        self.freeze_encoder_epochs = _spin(0, 1000, "Epochs that train only the decoder first")
        self.augment = QtWidgets.QCheckBox("Augment (flips, rotations, intensity)")
        self.seed = _spin(0, 2**31 - 1, "Random seed (same seed and images: same model)")
        self._build_layout()
        self.set_settings(settings)

    def _build_layout(self) -> None:
        form = QtWidgets.QFormLayout()
        for label, widget in (("Epochs (at most)", self.epochs),
                              ("Early-stop patience", self.patience),
                              ("Input size (px)", self.input_size),
                              ("Learning rate", self.lr), ("Batch size", self.batch_size),
                              ("Weight decay", self.weight_decay),
                              ("Frozen-encoder epochs", self.freeze_encoder_epochs),
                              ("", self.augment), ("Seed", self.seed)):
            form.addRow(label, widget)
        buttons = QtWidgets.QDialogButtonBox(
            QtWidgets.QDialogButtonBox.StandardButton.Ok
            | QtWidgets.QDialogButtonBox.StandardButton.Cancel
            | QtWidgets.QDialogButtonBox.StandardButton.RestoreDefaults)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        defaults = buttons.button(QtWidgets.QDialogButtonBox.StandardButton.RestoreDefaults)
        defaults.setToolTip("Show the measured recipe for the images the split now trains on")
        defaults.clicked.connect(lambda: self.set_settings(self.recipe))
        layout = QtWidgets.QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(buttons)

    def set_settings(self, settings: FinetuneSettings) -> None:
        """Show ``settings`` in the fields."""
        self._shown = settings
        self.epochs.setValue(settings.epochs)
        self.patience.setValue(settings.patience)
        self.input_size.setValue(settings.input_size or AUTO_SIZE)
        self.lr.setValue(settings.lr)
        self.batch_size.setValue(settings.batch_size)
        self.weight_decay.setValue(settings.weight_decay)
        self.freeze_encoder_epochs.setValue(settings.freeze_encoder_epochs)
        self.augment.setChecked(settings.augment)
        self.seed.setValue(settings.seed)

    def settings(self) -> FinetuneSettings:
        """The settings in the fields; ValueError (saying what to give) when invalid."""
        size = self.input_size.value()
        return replace(
            self._shown, epochs=self.epochs.value(), patience=self.patience.value(),
            lr=self.lr.value(), batch_size=self.batch_size.value(),
            weight_decay=self.weight_decay.value(),
            input_size=None if size == AUTO_SIZE else size,
            augment=self.augment.isChecked(),
            freeze_encoder_epochs=self.freeze_encoder_epochs.value(),
            seed=self.seed.value())


def _spin(low: int, high: int, tip: str) -> QtWidgets.QSpinBox:
    box = QtWidgets.QSpinBox()
    box.setRange(low, high)
    box.setToolTip(tip)
    return box
