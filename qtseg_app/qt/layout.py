"""Layout helpers shared by the docks."""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets


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


def scrollable(panel: QtWidgets.QWidget) -> QtWidgets.QScrollArea:
    """``panel`` in a frameless vertical scroll area: on a short screen the dock column
    shrinks and scrolls instead of squeezing wrapped text into half lines (or pushing the
    window past the screen's bottom). Never takes the keyboard from the canvas."""
    area = QtWidgets.QScrollArea()
    area.setWidget(panel)
    area.setWidgetResizable(True)
    area.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
    area.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    area.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)
    return area
