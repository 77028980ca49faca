"""Building the main window's docks, tool bar, actions and status bar.

Kept apart from :mod:`qtseg_app.main_window` so the window class holds
behaviour, not layout code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6 import QtCore, QtGui, QtWidgets

from qtseg_app.actions import install_actions
from qtseg_app.tools import Tool

if TYPE_CHECKING:
    from qtseg_app.main_window import MainWindow

TOOL_LABELS = {Tool.BRUSH: "Brush (B)", Tool.ERASER: "Eraser (E)",
               Tool.POLYGON: "Polygon / lasso (L)", Tool.FILL: "Flood fill (G)",
               Tool.PAN: "Pan (H)"}


@dataclass
class StatusWidgets:
    """Permanent status bar fields."""

    model: QtWidgets.QLabel
    queue: QtWidgets.QLabel
    position: QtWidgets.QLabel


def build_docks(window: MainWindow) -> list[QtWidgets.QDockWidget]:
    docks = []
    for title, widget, area in (
        ("Images", window.filmstrip, QtCore.Qt.DockWidgetArea.LeftDockWidgetArea),
        ("Display", window.display, QtCore.Qt.DockWidgetArea.RightDockWidgetArea),
        ("Model", window.model_panel, QtCore.Qt.DockWidgetArea.RightDockWidgetArea),
        ("Fine-tune", window.finetune_panel, QtCore.Qt.DockWidgetArea.RightDockWidgetArea),
    ):
        dock = QtWidgets.QDockWidget(title, window)
        dock.setObjectName(f"{title}Dock")
        dock.setWidget(widget)
        dock.setFeatures(QtWidgets.QDockWidget.DockWidgetFeature.DockWidgetMovable
                         | QtWidgets.QDockWidget.DockWidgetFeature.DockWidgetFloatable)
        window.addDockWidget(area, dock)
        docks.append(dock)
    docks[0].setMinimumWidth(290)
    return docks


def build_toolbar(window: MainWindow) -> QtWidgets.QToolBar:
    """Tool buttons, the class to paint, brush size and clean-up sizes."""
    bar = window.addToolBar("Tools")
    bar.setObjectName("ToolsBar")
    group = QtGui.QActionGroup(window)
    buttons: dict[str, QtGui.QAction] = {}
    for tool, label in TOOL_LABELS.items():
        action = bar.addAction(label, lambda t=tool: window.tools.set_tool(t))
        action.setCheckable(True)
        group.addAction(action)
        buttons[tool.value] = action
    buttons[Tool.BRUSH.value].setChecked(True)
    window.tools.tool_changed.connect(lambda name: buttons[name].setChecked(True))
    bar.addSeparator()
    bar.addWidget(QtWidgets.QLabel(" Class "))
    class_box = QtWidgets.QSpinBox()
    class_box.setRange(1, 9)
    class_box.setToolTip("Class painted by brush, polygon and fill (keys 1-9)")
    class_box.valueChanged.connect(window.tools.set_label)
    window.tools.label_changed.connect(class_box.setValue)
    bar.addWidget(class_box)
    bar.addWidget(QtWidgets.QLabel(" Brush "))
    bar.addWidget(_spin(1, 200, window.tools.radius, "Brush radius in pixels ([ and ])",
                        window.tools.set_radius, window.tools.brush_changed))
    bar.addWidget(QtWidgets.QLabel(" Min island "))
    bar.addWidget(_spin(1, 100000, window.tools.island_min_pixels,
                        "Remove islands smaller than this many pixels (Shift+I)",
                        lambda v: setattr(window.tools, "island_min_pixels", int(v))))
    bar.addWidget(QtWidgets.QLabel(" Grow/shrink "))
    bar.addWidget(_spin(1, 100, window.tools.grow_pixels, "Pixels for grow / shrink",
                        lambda v: setattr(window.tools, "grow_pixels", int(v))))
    return bar


def _spin(low: int, high: int, value: float, tip: str, on_change: object,
          changed_signal: QtCore.SignalInstance | None = None) -> QtWidgets.QSpinBox:
    box = QtWidgets.QSpinBox()
    box.setRange(low, high)
    box.setValue(int(value))
    box.setToolTip(tip)
    box.valueChanged.connect(on_change)
    if changed_signal is not None:
        changed_signal.connect(lambda v: box.setValue(int(round(v))))
    box.setFocusPolicy(QtCore.Qt.FocusPolicy.ClickFocus)
    return box


def build_actions(window: MainWindow) -> dict[str, QtGui.QAction]:
    t, c, d = window.tools, window.canvas, window.display
    handlers = {
        "next_image": lambda: window.open_next(),
        "previous_image": lambda: window.open_next(step=-1),
        "next_unreviewed": lambda: window.open_next(to_review=True),
        "fit": c.fit,
        "zoom_in": lambda: c.zoom(1.25),
        "zoom_out": lambda: c.zoom(0.8),
        "toggle_overlay": d.overlay_box.toggle,
        "toggle_outline": d.outline_box.toggle,
        "toggle_uncertainty": d.uncertainty_box.toggle,
        "toggle_prediction": d.prediction_box.toggle,
        "opacity_up": lambda: d.opacity_slider.setValue(d.opacity_slider.value() + 10),
        "opacity_down": lambda: d.opacity_slider.setValue(d.opacity_slider.value() - 10),
        "auto_window": d.auto,
        "tool_brush": lambda: t.set_tool(Tool.BRUSH),
        "tool_eraser": lambda: t.set_tool(Tool.ERASER),
        "tool_polygon": lambda: t.set_tool(Tool.POLYGON),
        "tool_fill": lambda: t.set_tool(Tool.FILL),
        "tool_pan": lambda: t.set_tool(Tool.PAN),
        "brush_smaller": lambda: t.grow_brush(0.8),
        "brush_larger": lambda: t.grow_brush(1.25),
        "class_1": lambda: t.set_label(1),
        "select_class": t.set_label,
        "finish_polygon": t.finish_polygon,
        "cancel_polygon": t.cancel_polygon,
        "undo": t.undo,
        "redo": t.redo,
        "fill_holes": t.fill_holes,
        "remove_islands": t.remove_islands,
        "keep_largest": t.keep_largest,
        "delete_component": t.delete_component,
        "grow": t.grow,
        "shrink": t.shrink,
        "reset_to_prediction": window.reset_to_prediction,
        "accept": window.review.accept,
        "reject": window.review.reject,
        "flag": window.review.flag,
        "toggle_review_mode": window.toggle_review_mode,
        "predict_all": window.predict_all,
        "load_model": window.load_model_dialog,
        "export": window.export,
        "open_workspace": window.open_workspace_dialog,
        "help": window.show_help,
    }
    return install_actions(window, handlers)


def build_status_bar(window: MainWindow) -> StatusWidgets:
    widgets = StatusWidgets(QtWidgets.QLabel("No model"), QtWidgets.QLabel(),
                            QtWidgets.QLabel())
    bar = window.statusBar()
    bar.addPermanentWidget(widgets.position)
    bar.addPermanentWidget(widgets.queue)
    bar.addPermanentWidget(widgets.model)
    return widgets
