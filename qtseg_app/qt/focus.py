"""The keys belong to the canvas: spin boxes and dock buttons hand them back (issue 16, 19).

A spin box with the keyboard takes digits and editing keys; any other key (a
tool letter, ``[``, ``F2`` ...) first commits what was typed, moves the focus
to the canvas and goes on to the window's shortcut. Enter and Esc end the
edit the same way. Dock buttons take the focus from Tab only, never from a
click, so a click on Roll back or Predict all leaves the keys on the canvas.
The window's actions are also added to every dock, so they work while a
floating dock is the active window.
"""

from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

Key = QtCore.Qt.Key
SPIN_TEXT = frozenset("0123456789.,-+")
EDITING_KEYS = frozenset({Key.Key_Backspace, Key.Key_Delete, Key.Key_Left, Key.Key_Right,
                          Key.Key_Up, Key.Key_Down, Key.Key_Home, Key.Key_End,
                          Key.Key_PageUp, Key.Key_PageDown, Key.Key_Tab, Key.Key_Backtab})
DONE_KEYS = frozenset({Key.Key_Return, Key.Key_Enter, Key.Key_Escape})


class ReturnFocus(QtCore.QObject):
    """Event filter for spin boxes: keys that are not spin-box input go to the canvas."""

    def __init__(self, canvas: QtWidgets.QWidget, parent: QtCore.QObject) -> None:
        super().__init__(parent)
        self.canvas = canvas

    def eventFilter(self, watched: QtCore.QObject, event: QtCore.QEvent) -> bool:  # noqa: N802
        if not isinstance(watched, QtWidgets.QAbstractSpinBox):
            return False
        kind = event.type()
        if kind == QtCore.QEvent.Type.ShortcutOverride and not _spin_input(event):
            self._hand_back(watched)
            return True  # left unaccepted: the window's shortcut takes the key
        if kind == QtCore.QEvent.Type.KeyPress and event.key() in DONE_KEYS:
            self._hand_back(watched)
            return True
        return False

    def _hand_back(self, box: QtWidgets.QAbstractSpinBox) -> None:
        box.interpretText()
        self.canvas.setFocus(QtCore.Qt.FocusReason.OtherFocusReason)


def _spin_input(event: QtGui.QKeyEvent) -> bool:
    """Keys a spin box needs: digits, sign, decimal point, editing and Ctrl+A/C/V/Z."""
    if event.key() in EDITING_KEYS:
        return True
    if event.key() in DONE_KEYS:
        return False
    control = event.modifiers() & QtCore.Qt.KeyboardModifier.ControlModifier
    return bool(event.text()) and (event.text() in SPIN_TEXT or bool(control))


def keep_keys_on_canvas(window: QtWidgets.QMainWindow, canvas: QtWidgets.QWidget,
                        docks: list[QtWidgets.QDockWidget]) -> None:
    """Install the rules above on the window's spin boxes, dock buttons and docks."""
    guard = ReturnFocus(canvas, window)
    for box in window.findChildren(QtWidgets.QAbstractSpinBox):
        box.installEventFilter(guard)
    for dock in docks:
        for button in dock.findChildren(QtWidgets.QAbstractButton):
            button.setFocusPolicy(QtCore.Qt.FocusPolicy.TabFocus)
        dock.addActions(window.actions())
