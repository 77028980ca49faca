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
