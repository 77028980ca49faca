"""QActions and menus built from the shortcut table, bound to the window's handlers."""

from __future__ import annotations

from collections.abc import Callable

from PySide6 import QtGui, QtWidgets

from qtseg_app.qt.shortcuts import SHORTCUTS

MENU_OF_GROUP = {
    "File": "&File",
    "Navigate": "&Navigate",
    "View": "&View",
    "Tools": "&Tools",
    "Edit": "&Edit",
    "Clean-up": "&Clean-up",
    "Review": "&Review",
    "Model": "&Model",
}
MENU_ORDER = ("File", "Edit", "View", "Tools", "Clean-up", "Navigate", "Review", "Model")


def install_actions(window: QtWidgets.QMainWindow,
                    handlers: dict[str, Callable[[], object]]) -> dict[str, QtGui.QAction]:
    """One QAction per shortcut entry with a handler, in menus by group.

    Digits 1-9 select the class to paint. Returns the actions by name so the
    window can enable or check them.
    """
    menus = {group: window.menuBar().addMenu(MENU_OF_GROUP[group]) for group in MENU_ORDER}
    actions: dict[str, QtGui.QAction] = {}
    for entry in SHORTCUTS:
        handler = handlers.get(entry.action)
        if handler is None:
            continue
        action = QtGui.QAction(entry.text, window)
        action.setShortcuts([QtGui.QKeySequence(key) for key in entry.keys])
        action.triggered.connect(lambda _checked=False, h=handler: h())
        menus[entry.group].addAction(action)
        window.addAction(action)  # shortcuts work while the menu bar is hidden
        actions[entry.action] = action
    select = handlers.get("select_class")
    if select is not None:
        for digit in range(2, 10):
            action = QtGui.QAction(f"Paint class {digit}", window)
            action.setShortcut(QtGui.QKeySequence(str(digit)))
            action.triggered.connect(lambda _checked=False, d=digit: select(d))
            window.addAction(action)
            actions[f"class_{digit}"] = action
    return actions
