"""The fine-tune split in the Fine-tune dock: counts, why, and the image on screen's side.

It renders :class:`~qtseg_app.state.split.SplitChoices` and sends the user's choice
for the image on screen back to it (the same choices are in the Review menu).
"""

from __future__ import annotations

from PySide6 import QtGui, QtWidgets

from qtseg_app.state.split import CHOICE_TEXT, SplitChoices


class SplitBox(QtWidgets.QWidget):
    """'Split: 9 training · 3 validation · 2 left out. <why>', then 'This image: …' and a
    button whose menu puts the image on screen in training, validation or out."""

    def __init__(self, split: SplitChoices, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.split = split
        self.summary_label = QtWidgets.QLabel()
        self.summary_label.setWordWrap(True)
        self.image_label = QtWidgets.QLabel()
        self.image_label.setWordWrap(True)
        self.choose_button = QtWidgets.QPushButton("Split of this image")  # room for the arrow
        self.choose_button.setToolTip("Train on the image on screen, validate on it, leave it "
                                      "out of fine-tuning, or let the workspace decide")
        self.choose_button.setMenu(self._menu())
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for widget in (self.summary_label, self.image_label, self.choose_button):
            layout.addWidget(widget)
        split.changed.connect(lambda _plan: self.refresh())
        split.session.document_changed.connect(lambda _document: self.refresh())
        self.refresh()

    def _menu(self) -> QtWidgets.QMenu:
        menu = QtWidgets.QMenu(self)
        for choice, text in CHOICE_TEXT.items():
            action = QtGui.QAction(text.capitalize(), menu)
            action.triggered.connect(lambda _checked=False, c=choice: self.split.choose(c))
            menu.addAction(action)
        return menu

    def refresh(self) -> None:
        self.summary_label.setText(self.split.summary())
        self.summary_label.setToolTip(self.split.reason())
        image_id = self.split.session.current_id
        self.image_label.setText("" if image_id is None
                                 else f"This image: {self.split.where(image_id)}.")
        self.choose_button.setEnabled(image_id is not None)
