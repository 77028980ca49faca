"""The click tool: point at the error, the refiner redraws the class around the clicks.

Qt-free. Left click adds a positive click, right click or Shift+click a
negative one, a drag draws a box around the object, which the refiner outlines
(its ``outline``, ``qtseg_core.interactive.box_prompt``) and which starts a new
run. The clicks of one run (same image, same class, no other edit in between)
are shown as markers and all go to the refiner each time, as in
``qtseg_core.interactive.ClickSession``; each answer (a click's or a box's) is
applied as one undo step and committed (saved) like a brush stroke. The
refinement runs through a ``runner``: the app's runs it on a worker thread
(``qtseg_app.services.click_refine``) and hands the answer back on the GUI
thread; the default runs it at once. An answer for a mask that changed
meanwhile is dropped. A brush stroke, clean-up, another class or image ends the
run (markers go); undo takes the last click back with its marker.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np

from qtseg_app.editing.click_edit import class_change, dragged_box
from qtseg_app.state.events import Event
from qtseg_core.interactive.clicks import Click
from qtseg_core.pixel_rect import Rect

if TYPE_CHECKING:
    from qtseg_app.state.document import ImageDocument
    from qtseg_app.state.tools import ToolController
    from qtseg_core.interactive import Refiner

CLICK_STEP = "click"  # undo-step label prefix of a click's correction
BOX_STEP = f"{CLICK_STEP} box"  # the undo step of a box prompt
Prompt = tuple[Click, ...] | Rect  # what one gesture asks for: clicks, or a box


@dataclass(frozen=True)
class RefineJob:
    """One refinement to compute: everything the refiner needs, copied off the document."""

    document: ImageDocument
    revision: int
    label: int
    prompt: Prompt  # the gesture's new clicks, or its box
    clicks: tuple[Click, ...]  # the run's clicks so far, then the new ones (none for a box)
    image: np.ndarray
    mask: np.ndarray  # (H, W) bool: the class now
    probability: np.ndarray | None
    refiner: Refiner
    box: Rect | None = None  # the box that began the run (clicks after a box)

    @property
    def new_clicks(self) -> tuple[Click, ...]:
        return () if isinstance(self.prompt, Rect) else self.prompt

    def run(self) -> np.ndarray:
        """The refined (H, W) bool mask of the class (slow: any thread)."""
        if isinstance(self.prompt, Rect):
            refined = self.refiner.outline(self.image, self.mask, self.prompt, self.probability)
        else:
            extra = {} if self.box is None else {"box": self.box}  # a BoxRefiner
            refined = self.refiner.refine(self.image, self.mask, list(self.clicks),
                                          self.probability, **extra)
        return np.asarray(refined, dtype=bool)


Done = Callable[[RefineJob, "np.ndarray | Exception"], None]


class RefineRunner(Protocol):
    """Computes ``job.run()`` somewhere and calls ``done(job, mask or error)`` on the GUI
    thread."""

    def submit(self, job: RefineJob, done: Done) -> None: ...


class RunNow:
    """Runs the refinement at once on the caller's thread."""

    def submit(self, job: RefineJob, done: Done) -> None:
        try:
            result: np.ndarray | Exception = job.run()
        except Exception as error:  # noqa: BLE001 - reported as a message, never raised
            result = error
        done(job, result)


def _default_refiner() -> Refiner:
    from qtseg_core.interactive import RandomWalkerRefiner

    return RandomWalkerRefiner()


class ClickTool:
    """Click-guided correction of the current class on the open document."""

    def __init__(self, tools: ToolController, runner: RefineRunner | None = None) -> None:
        self.tools = tools
        self.runner: RefineRunner = runner or RunNow()
        self.refiner: Refiner = _default_refiner()
        self.clicks: list[Click] = []  # applied clicks of the run
        self.run_box: Rect | None = None  # the box that began the run, if one did
        self.markers_changed: Event[list[Click]] = Event()  # applied + waiting clicks
        self._undone: list[tuple[Click, ...]] = []
        self._waiting: list[Prompt] = []  # clicked or dragged, not yet refined
        self._busy = False
        self._document: ImageDocument | None = None
        self._label = 0
        self._synced = -1  # the editor revision the run's clicks describe
        self._steps: list[int] = []  # clicks per applied step (a box is several)
        tools.committed.connect(lambda _none: self._check_synced())

    # ---- gestures ------------------------------------------------------------------------
    def click(self, x: float, y: float, positive: bool) -> None:
        """A click at image pixel (x, y); outside the image it is ignored."""
        document = self.tools.document
        if document is None:
            return
        row, col = int(y), int(x)
        height, width = document.mask.shape
        if 0 <= row < height and 0 <= col < width:
            self._ask((Click(row, col, positive),))

    def box(self, corner: tuple[float, float], opposite: tuple[float, float]) -> None:
        """A box dragged from ``corner`` to ``opposite``: the object lies inside it."""
        document = self.tools.document
        if document is None:
            return
        if not hasattr(self.refiner, "outline"):
            self.tools.message.emit(f"Box not applied: the {self.refiner.name!r} refinement "
                                    "takes no box; click inside the object instead.")
            return
        box = dragged_box(corner, opposite, document.mask.shape)
        if not box.empty:
            self._ask(box)

    @property
    def markers(self) -> list[Click]:
        """The clicks shown: those applied in this run, then those being refined."""
        waiting = (c for p in self._waiting if not isinstance(p, Rect) for c in p)
        return [*self.clicks, *waiting]

    @property
    def busy(self) -> bool:
        """True while a refinement is being computed."""
        return self._busy

    def end_run(self) -> None:
        """Forget the run's clicks (another image, class or edit); waiting clicks are dropped."""
        self._waiting.clear()
        self._reset_run(None)

    def _reset_run(self, document: ImageDocument | None) -> None:
        """Start a new run on ``document`` (None: no run) with the current class."""
        had_markers = bool(self.markers)
        self.clicks, self._steps, self._undone, self.run_box = [], [], [], None
        self._document, self._label = document, self.tools.label
        self._synced = document.editor.revision if document is not None else -1
        if had_markers or self._waiting:
            self.markers_changed.emit(self.markers)

    def _run_is_current(self) -> bool:
        """True while the run's clicks describe the mask on screen."""
        document = self.tools.document
        return (document is not None and document is self._document
                and self.tools.label == self._label and document.editor.revision == self._synced)

    # ---- undo / redo of click steps (the tool controller calls these) ----------------------
    def history_stepped(self, name: str, label: str | None) -> None:
        """An undo (or redo) of ``label`` happened: take its clicks back (or again)."""
        document = self.tools.document
        in_run = document is not None and document is self._document \
            and document.editor.revision - 1 == self._synced
        if not in_run or label is None or not label.startswith(CLICK_STEP) \
                or label == BOX_STEP:  # a box's step began its run: undone, the run ends
            self.end_run()
            return
        if name == "undo" and self._steps:
            count = self._steps.pop()
            self._undone.append(tuple(self.clicks[-count:]))
            del self.clicks[-count:]
        elif name == "redo" and self._undone:
            again = self._undone.pop()
            self.clicks.extend(again)
            self._steps.append(len(again))
        self._synced = document.editor.revision
        self.markers_changed.emit(self.markers)

    # ---- refinement ----------------------------------------------------------------------
    def _ask(self, prompt: Prompt) -> None:
        if not self._busy and not self._run_is_current():
            self._reset_run(self.tools.document)
        self._waiting.append(prompt)
        self.markers_changed.emit(self.markers)
        if not self._busy:
            self._next()

    def _next(self) -> None:
        if self._waiting and not self._run_is_current():
            self._reset_run(self.tools.document)
        if not self._waiting or self._document is None:
            if self._waiting:
                self._waiting.clear()
                self.markers_changed.emit(self.markers)
            return
        self._busy = True
        self.runner.submit(self._job(self._waiting[0]), self._finished)

    def _job(self, prompt: Prompt) -> RefineJob:
        document, label = self._document, self._label
        clicks = () if isinstance(prompt, Rect) else (*self.clicks, *prompt)
        return RefineJob(document, document.editor.revision, label, prompt, clicks,
                         document.image, document.mask == label,
                         _probability(document, label), self.refiner, self.run_box)

    def _finished(self, job: RefineJob, result: np.ndarray | Exception) -> None:
        self._busy = False
        if self._waiting and self._waiting[0] is job.prompt:  # else the run ended
            self._waiting.pop(0)
            self._take(job, result)
        self._next()

    def _take(self, job: RefineJob, result: np.ndarray | Exception) -> None:
        document = job.document
        if document is not self.tools.document or document.editor.revision != job.revision:
            self.tools.message.emit("Click dropped: the mask changed while it was refined.")
            self.end_run()
        elif isinstance(result, Exception):
            self.tools.message.emit(f"Click not applied: {type(result).__name__}: {result}")
            self.markers_changed.emit(self.markers)
        else:
            self._apply(job, result)

    def _apply(self, job: RefineJob, refined: np.ndarray) -> None:
        document = job.document
        change = class_change(document.mask, job.label, refined, job.new_clicks)
        rect = document.editor.apply(change, _step_name(job.prompt))
        if rect is None:
            self.tools.message.emit("Click: the mask already agrees.")
            self.markers_changed.emit(self.markers)
            return
        if isinstance(job.prompt, Rect):
            self._reset_run(document)  # a box starts a new run: later clicks refine its object
            self.run_box = job.prompt
        else:
            self.clicks.extend(job.new_clicks)
            self._steps.append(len(job.new_clicks))
            self._undone.clear()
            self._synced = document.editor.revision
        self.markers_changed.emit(self.markers)
        self.tools.mask_changed.emit(rect)
        self.tools.committed.emit(None)

    def _check_synced(self) -> None:
        """Another edit was committed: the run's clicks no longer describe the mask."""
        if self.clicks and not self._busy and not self._run_is_current():
            self.end_run()


def _step_name(prompt: Prompt) -> str:
    """The undo step's label: ``click +``, ``click −`` or ``click box``."""
    if isinstance(prompt, Rect):
        return BOX_STEP
    return f"{CLICK_STEP} {'+' if prompt[0].positive else '−'}"


def _probability(document: ImageDocument, label: int) -> np.ndarray | None:
    """P(class) from the model's prediction when it has one for this class (binary models'
    foreground), else None (the refiner then follows the image alone)."""
    prediction = document.prediction
    if prediction is None or prediction.foreground is None or label != 1:
        return None
    return prediction.foreground
