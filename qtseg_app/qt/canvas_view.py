"""Binds the canvas to the session: gestures go to the tools, state changes are drawn.

The canvas itself (:mod:`qtseg_app.qt.canvas`) only displays and reports
pointer gestures; this module is the one place that says which state event
repaints what.
"""

from __future__ import annotations

from collections.abc import Callable

from qtseg_app.qt.canvas import ImageCanvas
from qtseg_app.qt.overlay import OverlayStyle, render_uncertainty
from qtseg_app.state import ImageDocument, ReviewSession
from qtseg_app.state.levels import WindowLevel
from qtseg_app.state.settings import Tool


class CanvasView:
    """Keeps ``canvas`` showing ``session``'s document, mask, uncertainty and tool cursor.

    ``on_hover(text)`` receives the pixel value under the pointer for the status bar.
    """

    def __init__(self, canvas: ImageCanvas, session: ReviewSession,
                 on_hover: Callable[[str], None]) -> None:
        self.canvas, self.session, self._on_hover_text = canvas, session, on_hover
        tools = session.tools
        canvas.stroke_started.connect(tools.stroke_started)
        canvas.stroke_moved.connect(tools.stroke_moved)
        canvas.stroke_finished.connect(tools.stroke_finished)
        canvas.clicked.connect(lambda x, y: self._at_zoom(tools.clicked, x, y))
        canvas.shift_clicked.connect(tools.shift_clicked)
        canvas.right_clicked.connect(tools.right_clicked)
        canvas.double_clicked.connect(lambda x, y: self._at_zoom(tools.double_clicked, x, y))
        canvas.hovered.connect(self._on_hover)
        canvas.slice_wheel.connect(session.open_slice)
        canvas.window_dragged.connect(self._on_window_drag)
        self._drag_start: WindowLevel | None = None
        tools.mask_changed.connect(canvas.overlay_item.refresh_region)
        tools.polygon_changed.connect(canvas.set_polygon_preview)
        session.tool_settings.changed.connect(self._on_tool_setting)
        session.display.changed.connect(self._on_display)
        session.document_changed.connect(self._on_document)
        session.overlay_changed.connect(canvas.overlay_item.show_mask)
        session.prediction_shown.connect(lambda _image_id: self._show_uncertainty())
        session.labels.changed.connect(lambda _labels: self._restyle())
        self._restyle()
        canvas.set_brush_radius(session.tool_settings.radius)

    def _on_document(self, document: ImageDocument | None) -> None:
        canvas, session = self.canvas, self.session
        if document is None:
            canvas.show_image(None, None)
            name = session.ws.image(session.current_id).name if session.current_id else ""
            canvas.show_notice(f"{name} cannot be shown:\n{session.unreadable_reason}")
            return
        canvas.show_image(document.image, session.display.window)
        canvas.overlay_item.show_mask(session.shown_mask)
        self._show_uncertainty()

    def _on_display(self, change: tuple[str, object]) -> None:
        name, value = change
        if name == "window" and value is not None:
            self.canvas.set_window(value)
        elif name in ("opacity", "outline"):
            self._restyle()
        elif name == "show_mask":
            self.canvas.overlay_item.setVisible(bool(value))
        elif name == "show_uncertainty":
            self._show_uncertainty()

    def _at_zoom(self, gesture: Callable[[float, float], None], x: float, y: float) -> None:
        """Polygon vertex distances in screen pixels, whatever the zoom: a double click
        within 2 px of the last vertex finishes, a click within 8 px of the first closes."""
        pixel = float(self.canvas.view.viewPixelSize()[0])  # image pixels per screen pixel
        self.session.tools.same_spot = 2.0 * pixel
        self.session.tools.first_vertex_target = 8.0 * pixel
        gesture(x, y)

    def _on_window_drag(self, dx: float, dy: float, first: bool) -> None:
        """Right drag: window/level of a single-channel image (colour keeps its levels)."""
        display, document = self.session.display, self.session.document
        if first or self._drag_start is None:
            self._drag_start = display.window
        if self._drag_start is not None and document is not None and document.image.ndim == 2:
            display.window = self._drag_start.dragged(dx, dy)

    def _on_tool_setting(self, change: tuple[str, object]) -> None:
        name, value = change
        if name == "radius":
            self.canvas.set_brush_radius(float(value))
        elif name == "tool":
            self.canvas.left_button_draws = value is not Tool.PAN
            self.canvas.show_brush_cursor(value in (Tool.BRUSH, Tool.ERASER))

    def _restyle(self) -> None:
        display, labels = self.session.display, self.session.labels
        colors = labels.colors[1:] or OverlayStyle().class_colors
        self.canvas.overlay_item.set_style(OverlayStyle(display.opacity, display.outline, colors))

    def _show_uncertainty(self) -> None:
        document = self.session.document
        prediction = document.prediction if document is not None else None
        visible = self.session.display.show_uncertainty and prediction is not None
        if visible:
            self.canvas.uncertainty_item.show_rgba(render_uncertainty(prediction.uncertainty))
        self.canvas.uncertainty_item.setVisible(visible)

    def _on_hover(self, x: float, y: float) -> None:
        self.session.tools.hovered(x, y)
        document = self.session.document
        if document is None:
            return
        row, col = int(y), int(x)
        h, w = document.image.shape[:2]
        if 0 <= row < h and 0 <= col < w:
            value, label = document.image[row, col], document.mask[row, col]
            self._on_hover_text(f"x {col}, y {row}: {value}  class {label}")
