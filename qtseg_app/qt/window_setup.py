"""Building the main window's docks, tool bar, actions and status bar.

Kept apart from :mod:`qtseg_app.qt.main_window` so the window class holds
behaviour, not layout code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6 import QtCore, QtGui, QtWidgets

from qtseg_app.qt.actions import install_actions
from qtseg_app.qt.layout import scrollable
from qtseg_app.state import Tool, ToolSettings

if TYPE_CHECKING:
    from qtseg_app.qt.main_window import MainWindow

TOOL_LABELS = {Tool.BRUSH: "Brush (B)", Tool.ERASER: "Eraser (E)",
               Tool.POLYGON: "Polygon / lasso (L)", Tool.FILL: "Flood fill (G)",
               Tool.CLICK: "Click (C)", Tool.PAN: "Pan (H)"}


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
        ("Labels", window.label_table, QtCore.Qt.DockWidgetArea.LeftDockWidgetArea),
    ):
        dock = QtWidgets.QDockWidget(title, window)
        dock.setObjectName(f"{title}Dock")
        # the Fine-tune dock (text that wraps, last in its column) scrolls on a short screen
        dock.setWidget(scrollable(widget) if widget is window.finetune_panel else widget)
        dock.setFeatures(QtWidgets.QDockWidget.DockWidgetFeature.DockWidgetMovable
                         | QtWidgets.QDockWidget.DockWidgetFeature.DockWidgetFloatable)
        window.addDockWidget(area, dock)
        docks.append(dock)
    docks[0].setMinimumWidth(290)
    window.resizeDocks([docks[0], docks[-1]], [640, 150], QtCore.Qt.Orientation.Vertical)
    return docks


def build_toolbar(window: MainWindow) -> QtWidgets.QToolBar:
    """Tool buttons, the class to paint, brush size and clean-up sizes (the tool settings)."""
    tools, settings = window.session.tools, window.session.tool_settings
    bar = window.addToolBar("Tools")
    bar.setObjectName("ToolsBar")
    group = QtGui.QActionGroup(window)
    buttons: dict[Tool, QtGui.QAction] = {}
    for tool, label in TOOL_LABELS.items():
        action = bar.addAction(label, lambda t=tool: tools.set_tool(t))
        action.setCheckable(True)
        group.addAction(action)
        buttons[tool] = action
    buttons[settings.tool].setChecked(True)
    bar.addSeparator()
    bar.addWidget(QtWidgets.QLabel(" Class "))
    class_box = _spin(1, 254, settings.label, "Class painted by brush, polygon and fill "
                      "(keys 1-9; the Labels dock adds classes)", tools.set_label)
    bar.addWidget(class_box)
    bar.addWidget(QtWidgets.QLabel(" Brush "))
    brush_box = _spin(1, 200, settings.radius, "Brush radius in pixels ([ and ])",
                      settings.set_radius)
    bar.addWidget(brush_box)
    bar.addWidget(QtWidgets.QLabel(" Min island "))
    island_box = _spin(1, 100000, settings.island_min_pixels,
                       "Remove islands smaller than this many pixels (Shift+I)",
                       lambda v: settings.update(island_min_pixels=int(v)))
    bar.addWidget(island_box)
    bar.addWidget(QtWidgets.QLabel(" Grow/shrink "))
    grow_box = _spin(1, 100, settings.grow_pixels, "Pixels for grow / shrink",
                     lambda v: settings.update(grow_pixels=int(v)))
    bar.addWidget(grow_box)
    boxes = {"label": class_box, "radius": brush_box, "island_min_pixels": island_box,
             "grow_pixels": grow_box}
    settings.changed.connect(lambda change: _show_setting(change, buttons, boxes))
    return bar


def _show_setting(change: tuple[str, object], buttons: dict[Tool, QtGui.QAction],
                  boxes: dict[str, QtWidgets.QSpinBox]) -> None:
    name, value = change
    if name == "tool":
        buttons[value].setChecked(True)
    elif name in boxes:
        box = boxes[name]
        box.blockSignals(True)
        box.setValue(int(round(float(value))))
        box.blockSignals(False)


def _spin(low: int, high: int, value: float, tip: str, on_change: object) -> QtWidgets.QSpinBox:
    box = QtWidgets.QSpinBox()
    box.setRange(low, high)
    box.setValue(int(value))
    box.setToolTip(tip)
    box.valueChanged.connect(on_change)
    box.setFocusPolicy(QtCore.Qt.FocusPolicy.ClickFocus)
    return box


def build_actions(window: MainWindow) -> dict[str, QtGui.QAction]:
    session, c, d = window.session, window.canvas, window.display
    t, settings, review = session.tools, session.tool_settings, window.review_keys
    handlers = {
        "next_slice": lambda: session.open_slice(1),
        "previous_slice": lambda: session.open_slice(-1),
        "copy_to_next_slice": lambda: session.slices.copy_mask_to_slice(1),
        "copy_to_previous_slice": lambda: session.slices.copy_mask_to_slice(-1),
        "fill_between_slices": session.slices.fill_between_slices,
        "next_image": lambda: session.open_next(),
        "previous_image": lambda: session.open_next(step=-1),
        "next_unreviewed": lambda: session.open_next(to_review=True),
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
        **_tool_handlers(t, settings),
        "reset_to_prediction": session.reset_to_prediction,
        "start_over": session.start_over,
        "accept": review.accept,
        "reject": review.reject,
        "flag": review.flag,
        "toggle_review_mode": review.toggle_mode,
        "split_train": lambda: window.split.choose("train"),
        "split_val": lambda: window.split.choose("val"),
        "split_excluded": lambda: window.split.choose("excluded"),
        "split_automatic": lambda: window.split.choose(None),
        "history": review.show_history,
        "reviewer_name": review.change_reviewer,
        "predict_all": window.model_panel.predict_all,
        "predict_volume": window.slice_bar.predict_volume,
        "load_model": window.load_model_dialog,
        "export": window.export,
        "open_workspace": window.open_workspace_dialog,
        "help": window.show_help,
        "quit": window.close,
    }
    return install_actions(window, handlers)


def _tool_handlers(t: object, settings: ToolSettings) -> dict[str, object]:
    return {
        "tool_brush": lambda: t.set_tool(Tool.BRUSH),
        "tool_eraser": lambda: t.set_tool(Tool.ERASER),
        "tool_polygon": lambda: t.set_tool(Tool.POLYGON),
        "tool_fill": lambda: t.set_tool(Tool.FILL),
        "tool_pan": lambda: t.set_tool(Tool.PAN),
        "tool_click": lambda: t.set_tool(Tool.CLICK),
        "brush_smaller": lambda: settings.grow_brush(0.8),
        "brush_larger": lambda: settings.grow_brush(1.25),
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
    }


def build_status_bar(window: MainWindow) -> StatusWidgets:
    widgets = StatusWidgets(QtWidgets.QLabel("No model"), QtWidgets.QLabel(),
                            QtWidgets.QLabel())
    bar = window.statusBar()
    bar.addPermanentWidget(widgets.position)
    bar.addPermanentWidget(widgets.queue)
    bar.addPermanentWidget(widgets.model)
    return widgets
