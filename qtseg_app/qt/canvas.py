"""The image view: native-valued image, mask overlay, uncertainty map, brush cursor.

The canvas only displays and reports what the pointer does, in image pixel
coordinates (x = column, y = row); the tool controller decides what a gesture
means. Left button: the current tool (Shift + click and a right click without a
drag are reported apart: the click tool's negative clicks); right drag:
window/level (as radiology viewers do); middle drag: pan; wheel: zoom; Shift +
wheel: the next / previous slice of a volume. In the "pan" tool the left button
pans too.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from qtseg_app.qt.overlay import OverlayItem
from qtseg_app.state.levels import WindowLevel

pg.setConfigOptions(imageAxisOrder="row-major", antialias=False)
QUICK_DRAG_PX = 5.0  # screen px between press and release: pyqtgraph's own drag distance


class _ToolViewBox(pg.ViewBox):
    """A ViewBox that hands left-button gestures to the canvas unless it is panning."""

    def __init__(self, canvas: ImageCanvas) -> None:
        super().__init__(lockAspect=True, invertY=True, enableMenu=False)
        self._canvas = canvas

    def wheelEvent(self, ev: object, axis: object = None) -> None:  # noqa: N802 (Qt name)
        """Shift + wheel steps through a volume's slices; the plain wheel zooms."""
        if ev.modifiers() & QtCore.Qt.KeyboardModifier.ShiftModifier:
            ev.accept()
            self._canvas.slice_wheel.emit(-1 if ev.delta() > 0 else 1)
            return
        super().wheelEvent(ev, axis)

    def mouseDragEvent(self, ev: object, axis: object = None) -> None:  # noqa: N802 (Qt name)
        if ev.button() == QtCore.Qt.MouseButton.LeftButton and self._canvas.left_button_draws:
            ev.accept()
            point = self.mapSceneToView(ev.scenePos())
            if ev.isStart():
                start = self.mapSceneToView(ev.buttonDownScenePos())
                self._canvas.stroke_started.emit(start.x(), start.y())
            self._canvas.stroke_moved.emit(point.x(), point.y())
            if ev.isFinish():
                self._canvas.stroke_finished.emit(point.x(), point.y())
            return
        if ev.button() == QtCore.Qt.MouseButton.RightButton:
            ev.accept()  # window/level: the whole move since the press, in screen pixels
            moved = ev.screenPos() - ev.buttonDownScreenPos()
            self._canvas.window_dragged.emit(moved.x(), moved.y(), ev.isStart())
            return
        if ev.button() == QtCore.Qt.MouseButton.MiddleButton:
            # pan with the middle button whatever the tool
            ev.accept()
            delta = self.mapSceneToView(ev.lastScenePos()) - self.mapSceneToView(ev.scenePos())
            self.translateBy(x=delta.x(), y=delta.y())
            return
        super().mouseDragEvent(ev, axis)

    def mouseClickEvent(self, ev: object) -> None:  # noqa: N802 (Qt name)
        point = self.mapSceneToView(ev.scenePos())
        shift = bool(ev.modifiers() & QtCore.Qt.KeyboardModifier.ShiftModifier)
        if ev.button() == QtCore.Qt.MouseButton.LeftButton:
            ev.accept()
            if not shift and self._was_a_quick_drag(ev.scenePos()):
                return
            if shift:
                self._canvas.shift_clicked.emit(point.x(), point.y())
            elif ev.double():
                self._canvas.double_clicked.emit(point.x(), point.y())
            else:
                self._canvas.clicked.emit(point.x(), point.y())
        elif ev.button() == QtCore.Qt.MouseButton.RightButton:
            ev.accept()  # no context menu; a right drag sets window/level
            self._canvas.right_clicked.emit(point.x(), point.y())

    def _was_a_quick_drag(self, pressed: QtCore.QPointF) -> bool:
        """A press and a release QUICK_DRAG_PX or more apart that pyqtgraph calls a click:
        it drops moves closer than 10 ms to the last (``mouseRateLimit``), so a quick flick
        (or a scripted drag) can arrive with no move at all. Sent as the drag it was: a
        stroke, a box; True when it was one."""
        released = self._canvas.release_scene_pos
        if not self._canvas.left_button_draws or released is None \
                or QtCore.QLineF(pressed, released).length() < QUICK_DRAG_PX:
            return False
        start, end = self.mapSceneToView(pressed), self.mapSceneToView(released)
        self._canvas.stroke_started.emit(start.x(), start.y())
        self._canvas.stroke_moved.emit(end.x(), end.y())
        self._canvas.stroke_finished.emit(end.x(), end.y())
        return True


class ImageCanvas(pg.GraphicsView):
    """Shows one image with its overlays and reports pointer gestures in pixel coordinates."""

    stroke_started = QtCore.Signal(float, float)
    stroke_moved = QtCore.Signal(float, float)
    stroke_finished = QtCore.Signal(float, float)
    clicked = QtCore.Signal(float, float)
    shift_clicked = QtCore.Signal(float, float)  # Shift + left click
    right_clicked = QtCore.Signal(float, float)  # right click without a drag
    double_clicked = QtCore.Signal(float, float)
    hovered = QtCore.Signal(float, float)
    slice_wheel = QtCore.Signal(int)  # Shift + wheel: +1 next slice, -1 previous
    window_dragged = QtCore.Signal(float, float, bool)  # right drag: dx, dy px, first move

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent, background=pg.mkColor(18, 18, 20))
        self.left_button_draws = True
        self.view = _ToolViewBox(self)
        self.setCentralItem(self.view)
        self.image_item = pg.ImageItem(axisOrder="row-major")
        self.overlay_item = OverlayItem()
        self.uncertainty_item = OverlayItem()
        self.uncertainty_item.setZValue(20)
        self.uncertainty_item.setVisible(False)
        self.brush_cursor = QtWidgets.QGraphicsEllipseItem()
        self.brush_cursor.setPen(pg.mkPen((255, 255, 255, 200), width=1, cosmetic=True))
        self.brush_cursor.setZValue(30)
        self.brush_cursor.setVisible(False)
        self.polygon_preview = pg.PlotCurveItem(pen=pg.mkPen((255, 230, 0), width=2))
        self.polygon_preview.setZValue(30)
        for item in (self.image_item, self.overlay_item, self.uncertainty_item):
            self.view.addItem(item)
        self.notice = pg.TextItem(color=(240, 120, 120), anchor=(0.5, 0.5))
        self.notice.setZValue(40)
        self.view.addItem(self.notice)
        self.view.addItem(self.brush_cursor)
        self.view.addItem(self.polygon_preview)
        self._image_shape: tuple[int, int] | None = None
        self._brush_radius = 5.0
        self.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self.setFocusPolicy(QtCore.Qt.FocusPolicy.StrongFocus)
        self.setMouseTracking(True)
        self.release_scene_pos: QtCore.QPointF | None = None  # of the button being released

    def mouseReleaseEvent(self, ev: QtGui.QMouseEvent) -> None:  # noqa: N802 (Qt name)
        self.release_scene_pos = self.mapToScene(ev.position().toPoint())
        super().mouseReleaseEvent(ev)
        self.release_scene_pos = None

    # ---- content -------------------------------------------------------------------------
    def show_image(self, image: np.ndarray | None, window: WindowLevel | None) -> None:
        """Display the native array (H, W) or (H, W, C); ``window`` sets the levels."""
        self.notice.setText("")
        if image is None:
            self.image_item.clear()
            self.overlay_item.show_mask(None)
            self.uncertainty_item.show_rgba(None)
            self._image_shape = None
            return
        levels = window.levels if window is not None and image.ndim == 2 else None
        shape_changed = self._image_shape != image.shape[:2]
        self.image_item.setImage(image, levels=levels, autoLevels=levels is None)
        self._image_shape = image.shape[:2]
        if shape_changed:
            self.fit()

    def show_notice(self, text: str) -> None:
        """A message in the middle of the view (e.g. why an image cannot be shown), wrapped
        to the view's width so a long file path and reason stay readable."""
        self.notice.setTextWidth(max(200, int(self.viewport().width() * 0.9)))
        self.notice.setText(text)
        self.notice.setPos(0, 0)
        self.view.setRange(QtCore.QRectF(-1, -1, 2, 2))

    def set_window(self, window: WindowLevel) -> None:
        """Change the display window on the native values (re-renders the image only)."""
        self.image_item.setLevels(window.levels)

    def fit(self) -> None:
        """Zoom so the whole image fits the view."""
        if self._image_shape is not None:
            height, width = self._image_shape
            self.view.setRange(QtCore.QRectF(0, 0, width, height), padding=0.02)

    def zoom(self, factor: float) -> None:
        """Zoom in (factor > 1) or out around the view's centre."""
        self.view.scaleBy((1.0 / factor, 1.0 / factor))

    # ---- pointer feedback ----------------------------------------------------------------
    def set_brush_radius(self, radius: float) -> None:
        self._brush_radius = radius
        self._place_cursor(self.brush_cursor.rect().center())

    def show_brush_cursor(self, visible: bool) -> None:
        self.brush_cursor.setVisible(visible)

    def set_polygon_preview(self, points: list[tuple[float, float]]) -> None:
        """Draw the polygon being built (closed back to its first point)."""
        if not points:
            self.polygon_preview.setData([], [])
            return
        closed = points + [points[0]]
        self.polygon_preview.setData([p[0] for p in closed], [p[1] for p in closed])

    def _place_cursor(self, center: QtCore.QPointF) -> None:
        r = self._brush_radius
        self.brush_cursor.setRect(QtCore.QRectF(center.x() - r, center.y() - r, 2 * r, 2 * r))

    def _on_mouse_moved(self, scene_pos: QtCore.QPointF) -> None:
        point = self.view.mapSceneToView(scene_pos)
        self._place_cursor(point)
        self.hovered.emit(point.x(), point.y())

    def widget_pos_of_pixel(self, x: float, y: float) -> QtCore.QPoint:
        """The widget position showing image pixel (x, y)."""
        scene = self.view.mapViewToScene(QtCore.QPointF(x, y))
        return self.mapFromScene(scene)
