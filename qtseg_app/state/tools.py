"""Turns pointer gestures and clean-up keys into mask edits on the open document.

Qt-free. The tool settings (:class:`~qtseg_app.state.settings.ToolSettings`)
say what the pointer does; the controller applies the operations of
:mod:`qtseg_app.editing` to the editable document. After each change it emits
``mask_changed(rect)`` so the overlay repaints only that rectangle, and after
each finished edit (stroke end, fill, clean-up, undo) ``committed`` so the
session saves it.
"""

from __future__ import annotations

from qtseg_app import editing
from qtseg_app.editing import Change, Rect
from qtseg_app.state.click_tool import ClickTool
from qtseg_app.state.document import ImageDocument
from qtseg_app.state.events import Event
from qtseg_app.state.labels import LabelTable
from qtseg_app.state.settings import Tool, ToolSettings

Point = tuple[float, float]
MIN_BOX_SIDE = 3.0  # pixels: a shorter drag with the click tool is a click


class ToolController:
    """Applies the current tool to the editable document's mask (None: read-only)."""

    def __init__(self, settings: ToolSettings, labels: LabelTable) -> None:
        self.settings = settings
        self.labels = labels
        self.document: ImageDocument | None = None
        self.mask_changed: Event[Rect] = Event()  # rectangle to repaint
        self.committed: Event[None] = Event()  # an edit finished: save it
        self.polygon_changed: Event[list[Point]] = Event()  # polygon being drawn
        self.message: Event[str] = Event()
        self.cursor: Point | None = None
        self._last: Point | None = None
        self._polygon: list[Point] = []
        self._lasso = False
        self._box_start: Point | None = None
        self.clicks = ClickTool(self)  # the click tool's run of clicks
        # in image pixels; the canvas sets them from the zoom (2 and 8 screen pixels)
        self.same_spot = 1.0  # a double click this close to the last vertex finishes
        self.first_vertex_target = 4.0  # a click this close to the first vertex closes

    # ---- state ---------------------------------------------------------------------------
    def set_document(self, document: ImageDocument | None) -> None:
        """Edit another document (None: read-only); a stroke in progress is committed first."""
        self._cancel_gesture()
        self.clicks.end_run()
        self.document = document

    def set_tool(self, tool: Tool | str) -> None:
        self._cancel_gesture()
        if Tool(tool) is not Tool.CLICK:
            self.clicks.end_run()
        self.settings.tool = Tool(tool)

    def set_label(self, label: int) -> bool:
        """Paint class ``label`` from now on; any class of the label table may be painted.
        Returns False (with a message, the setting unchanged) for a class it lacks."""
        if label in self.labels.paintable:
            if label != self.settings.label:
                self.clicks.end_run()
            self.settings.label = label
            return True
        self.message.emit(f"Class {label} does not exist: this workspace has classes 1.."
                          f"{len(self.labels) - 1}. Add classes in the Labels dock.")
        self.settings.changed.emit(("label", self.settings.label))  # widgets snap back
        return False

    # the settings, read where a gesture needs them
    @property
    def tool(self) -> Tool:
        return self.settings.tool

    @property
    def label(self) -> int:
        return self.settings.label

    @property
    def radius(self) -> float:
        return self.settings.radius

    @property
    def editable(self) -> bool:
        return self.document is not None

    # ---- gestures from the canvas ---------------------------------------------------------
    def stroke_started(self, x: float, y: float) -> None:
        if not self.editable:
            return
        if self.tool in (Tool.BRUSH, Tool.ERASER):
            self._last = (x, y)
            self._paint_segment((x, y), (x, y))
        elif self.tool is Tool.POLYGON:
            self._polygon, self._lasso = [(x, y)], True
            self.polygon_changed.emit(list(self._polygon))
        elif self.tool is Tool.CLICK:
            self._box_start = (x, y)

    def stroke_moved(self, x: float, y: float) -> None:
        if not self.editable:
            return
        if self.tool in (Tool.BRUSH, Tool.ERASER) and self._last is not None:
            self._paint_segment(self._last, (x, y))
            self._last = (x, y)
        elif self.tool is Tool.POLYGON and self._lasso:
            self._polygon.append((x, y))
            self.polygon_changed.emit(list(self._polygon))
        elif self.tool is Tool.CLICK and self._box_start is not None:
            self.polygon_changed.emit(_box_corners(self._box_start, (x, y)))

    def stroke_finished(self, x: float, y: float) -> None:
        if not self.editable:
            return
        if self.tool in (Tool.BRUSH, Tool.ERASER) and self._last is not None:
            self._last = None
            label = "brush" if self.tool is Tool.BRUSH else "eraser"
            if self.document.editor.end_stroke(label) is not None:
                self.committed.emit(None)
        elif self.tool is Tool.POLYGON and self._lasso:
            self.finish_polygon()
        elif self.tool is Tool.CLICK and self._box_start is not None:
            start, self._box_start = self._box_start, None
            self.polygon_changed.emit([])
            if max(abs(x - start[0]), abs(y - start[1])) < MIN_BOX_SIDE:
                self.clicks.click(start[0], start[1], positive=True)  # a shaky click
            else:
                self.clicks.box(start, (x, y))

    def clicked(self, x: float, y: float) -> None:
        if not self.editable:
            return
        if self.tool in (Tool.BRUSH, Tool.ERASER):
            self.stroke_started(x, y)
            self.stroke_finished(x, y)
        elif self.tool is Tool.FILL:
            self.apply(editing.flood_fill(self.document.mask, (x, y), self.label), "flood fill")
        elif self.tool is Tool.POLYGON:
            self._add_vertex((x, y))
        elif self.tool is Tool.CLICK:
            self.clicks.click(x, y, positive=True)

    def right_clicked(self, x: float, y: float) -> None:
        """Right button without a drag: a negative click with the click tool."""
        if self.editable and self.tool is Tool.CLICK:
            self.clicks.click(x, y, positive=False)

    def shift_clicked(self, x: float, y: float) -> None:
        """Shift + left click: a negative click with the click tool, else a plain click."""
        if self.editable and self.tool is Tool.CLICK:
            self.clicks.click(x, y, positive=False)
        else:
            self.clicked(x, y)

    def double_clicked(self, x: float, y: float) -> None:
        """The second press of a quick double click (the first came as ``clicked``): it
        finishes the polygon only on its last vertex (both clicks on the same spot); quick
        clicks on two spots are two vertices, two brush dabs, two clicks of the click tool."""
        if self.tool is Tool.POLYGON and self._polygon \
                and self._near(self._polygon[-1], (x, y), self.same_spot):
            self.finish_polygon()
        elif self.tool is not Tool.FILL:
            self.clicked(x, y)

    def _add_vertex(self, point: Point) -> None:
        """A polygon click: a new vertex, or the polygon closed on its first vertex."""
        if not self._lasso and len(self._polygon) >= 3 \
                and self._near(self._polygon[0], point, self.first_vertex_target):
            self.finish_polygon()
            return
        self._lasso = False
        self._polygon.append(point)
        self.polygon_changed.emit(list(self._polygon))

    @staticmethod
    def _near(vertex: Point, point: Point, distance: float) -> bool:
        return (vertex[0] - point[0]) ** 2 + (vertex[1] - point[1]) ** 2 <= distance ** 2

    def hovered(self, x: float, y: float) -> None:
        self.cursor = (x, y)

    # ---- polygon --------------------------------------------------------------------------
    def finish_polygon(self) -> None:
        """Fill the polygon (or lasso) drawn so far with the current class; with fewer than
        3 points it stays on screen to go on with (Esc drops it)."""
        if len(self._polygon) < 3:
            if self._polygon:
                self._lasso = False
                self.message.emit("A polygon needs at least 3 points: click more, or press "
                                  "Esc to drop it.")
            return
        points, self._polygon, self._lasso = self._polygon, [], False
        self.polygon_changed.emit([])
        if self.editable:
            self.apply(editing.polygon_fill(self.document.mask, points, self.label), "polygon")

    def cancel_polygon(self) -> None:
        self._cancel_gesture()

    # ---- one-key clean-ups ----------------------------------------------------------------
    def fill_holes(self) -> None:
        self._cleanup(lambda m: editing.fill_holes(m, self.label), "fill holes")

    def remove_islands(self) -> None:
        pixels = self.settings.island_min_pixels
        self._cleanup(lambda m: editing.remove_islands(m, self.label, pixels),
                      f"remove islands < {pixels} px")

    def keep_largest(self) -> None:
        self._cleanup(lambda m: editing.keep_largest(m, self.label), "keep largest")

    def grow(self) -> None:
        self._cleanup(lambda m: editing.grow(m, self.label, self.settings.grow_pixels),
                      f"grow {self.settings.grow_pixels} px")

    def shrink(self) -> None:
        self._cleanup(lambda m: editing.shrink(m, self.label, self.settings.grow_pixels),
                      f"shrink {self.settings.grow_pixels} px")

    def delete_component(self) -> None:
        if self.cursor is None:
            self.message.emit("Point at the component to delete, then press Del.")
            return
        self._cleanup(lambda m: editing.delete_component(m, self.cursor), "delete component")

    # ---- edits ----------------------------------------------------------------------------
    def apply(self, change: Change | None, label: str) -> Rect | None:
        """Apply one operation as one undo step, repaint and commit it."""
        if not self.editable:
            return None
        rect = self.document.editor.apply(change, label)
        if rect is None:
            self.message.emit(f"{label.capitalize()}: nothing to change.")
            return None
        self.mask_changed.emit(rect)
        self.committed.emit(None)
        return rect

    def undo(self) -> None:
        self._history_step(self.document.editor.undo if self.editable else None, "undo")

    def redo(self) -> None:
        self._history_step(self.document.editor.redo if self.editable else None, "redo")

    def _history_step(self, step: object, name: str) -> None:
        if step is None:
            return
        self._cancel_gesture()
        history = self.document.editor.history
        label = history.undo_label() if name == "undo" else history.redo_label()
        rect = step()
        if rect is None:
            self.message.emit(f"Nothing to {name}.")
            return
        self.clicks.history_stepped(name, label)
        self.mask_changed.emit(rect)
        self.committed.emit(None)

    def _cleanup(self, operation: object, label: str) -> None:
        if self.editable:
            self.apply(operation(self.document.mask), label)

    def _paint_segment(self, start: Point, end: Point) -> None:
        value = self.label if self.tool is Tool.BRUSH else 0
        rect = self.document.editor.stroke(start, end, self.radius, value)
        if rect is not None:
            self.mask_changed.emit(rect)

    def _cancel_gesture(self) -> None:
        if self.document is not None and self.document.editor.stroking:
            if self.document.editor.end_stroke() is not None:
                self.committed.emit(None)
        self._last = None
        if self._polygon or self._box_start is not None:
            self._polygon, self._lasso, self._box_start = [], False, None
            self.polygon_changed.emit([])


def _box_corners(start: Point, end: Point) -> list[Point]:
    """The four corners of the box from ``start`` to ``end`` (the preview draws it closed)."""
    return [start, (end[0], start[1]), end, (start[0], end[1])]
