"""Layout helpers shared by the docks."""

from __future__ import annotations

from PySide6 import QtWidgets


def keep_place_when_hidden(*widgets: QtWidgets.QWidget) -> None:
    """Hidden widgets keep their space, so nothing moves under the pointer when a progress
    bar or a Cancel button comes and goes (a click meant for Cancel never hits the button
    below it)."""
    for widget in widgets:
        policy = widget.sizePolicy()
        policy.setRetainSizeWhenHidden(True)
        widget.setSizePolicy(policy)


def row(*widgets: QtWidgets.QWidget) -> QtWidgets.QWidget:
    """Widgets side by side (a progress bar and its Cancel button: one line, not two)."""
    holder = QtWidgets.QWidget()
    layout = QtWidgets.QHBoxLayout(holder)
    layout.setContentsMargins(0, 0, 0, 0)
    for widget in widgets:
        layout.addWidget(widget, 1 if isinstance(widget, QtWidgets.QProgressBar) else 0)
    return holder
