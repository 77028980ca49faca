"""The label table: the workspace's classes (names and colours), the one owner of classes.

Index 0 is the background. Until the user edits the table, the workspace's
classes follow the model in use (``adopt_model``): the model's names for the
classes it knows, classes beyond those kept. After an edit (add, rename,
recolour) the table is the user's and a model no longer changes it. Any class
of the table can be painted whatever the model predicts: the model predicts
what it knows, the annotator labels what the task needs. Export and fine-tune
read the same classes from the workspace.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from qtseg_app.state.events import Event
from qtseg_core.classes import Color, default_color, default_name
from qtseg_core.workspace import Workspace

#: Workspace setting that says who set the classes: "model" (follows the model) or "user".
ORIGIN_KEY = "classes_origin"
MAX_CLASSES = 255  # masks are uint8 class indices


@dataclass(frozen=True)
class LabelClass:
    """One row of the table."""

    index: int
    name: str
    color: Color


class LabelTable:
    """The classes of one workspace; every change is stored at once and emits ``changed``."""

    def __init__(self, ws: Workspace) -> None:
        self._ws = ws
        names, colors = ws.classes()
        self._names = list(names)
        self._colors = [tuple(int(v) for v in c[:3]) for c in colors]
        self.changed: Event[LabelTable] = Event()

    # ---- reading ---------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._names)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._names)

    @property
    def colors(self) -> tuple[Color, ...]:
        return tuple(self._colors)  # type: ignore[arg-type]

    @property
    def paintable(self) -> range:
        """Class indices a brush may paint (1 .. n-1)."""
        return range(1, len(self._names))

    def rows(self) -> list[LabelClass]:
        pairs = zip(self._names, self._colors, strict=True)
        return [LabelClass(i, name, color) for i, (name, color) in enumerate(pairs)]

    @property
    def user_defined(self) -> bool:
        return self._ws.setting(ORIGIN_KEY) == "user"

    # ---- editing (the user's) --------------------------------------------------------------
    def add(self, name: str | None = None, color: Sequence[int] | None = None) -> int:
        """Append a class; returns its index."""
        index = len(self._names)
        if index >= MAX_CLASSES:
            raise ValueError(f"A mask holds at most {MAX_CLASSES} classes; this one has {index}.")
        self._names.append(self._checked_name(name or default_name(index, index + 1), index))
        self._colors.append(_color(color) if color is not None else default_color(index))
        self._store("user")
        return index

    def rename(self, index: int, name: str) -> None:
        self._check_index(index)
        self._names[index] = self._checked_name(name, index)
        self._store("user")

    def recolour(self, index: int, color: Sequence[int]) -> None:
        self._check_index(index)
        self._colors[index] = _color(color)
        self._store("user")

    # ---- following the model ---------------------------------------------------------------
    def adopt_model(self, names: Sequence[str], colors: Sequence[Sequence[int]]) -> bool:
        """Take the model's classes unless the user set the table; classes the model does
        not have are kept (masks may hold them). Returns True when the table changed."""
        if self.user_defined:
            return False
        new_names = list(names) + self._names[len(names):]
        new_colors = [_color(c) for c in colors] + self._colors[len(colors):]
        if new_names == self._names and new_colors == self._colors \
                and self._ws.setting(ORIGIN_KEY) == "model":
            return False
        self._names, self._colors = new_names, new_colors
        self._store("model")
        return True

    # ---- plumbing --------------------------------------------------------------------------
    def _store(self, origin: str) -> None:
        self._ws.set_classes(self._names, self._colors)
        self._ws.set_setting(ORIGIN_KEY, origin)
        self.changed.emit(self)

    def _check_index(self, index: int) -> None:
        if not 0 <= index < len(self._names):
            raise ValueError(f"Class {index} does not exist; this workspace has classes "
                             f"0..{len(self._names) - 1}.")

    def _checked_name(self, name: str, index: int) -> str:
        name = name.strip()
        if not name:
            raise ValueError(f"Class {index} needs a name; type one.")
        if name in (n for i, n in enumerate(self._names) if i != index):
            raise ValueError(f"A class is already called {name!r}; choose another name.")
        return name


def _color(color: Sequence[int]) -> Color:
    r, g, b = (int(v) for v in tuple(color)[:3])
    if not all(0 <= v <= 255 for v in (r, g, b)):
        raise ValueError(f"Colour {tuple(color)} is not RGB in 0..255.")
    return (r, g, b)
