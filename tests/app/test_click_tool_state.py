"""The click tool's state without Qt: queued clicks, answers for a changed mask, redo."""

from __future__ import annotations

import numpy as np

from qtseg_app.editing import Change, MaskEditor, Rect
from qtseg_app.state.document import ImageDocument
from qtseg_app.state.settings import Tool, ToolSettings
from qtseg_app.state.tools import ToolController


class Later:
    """A runner that keeps each job until the test lets it finish (a slow worker)."""

    def __init__(self) -> None:
        self.jobs: list = []

    def submit(self, job, done) -> None:  # noqa: ANN001
        self.jobs.append((job, done))

    def finish(self) -> None:
        job, done = self.jobs.pop(0)
        done(job, job.run())


class Labels:
    paintable = (1, 2)


def _tools(runner=None) -> ToolController:  # noqa: ANN001
    image = np.full((64, 64), 40, np.uint8)
    image[20:40, 20:40] = 220  # a bright square the walker follows
    tools = ToolController(ToolSettings(), Labels())
    tools.document = ImageDocument(record=None, image=image, editor=MaskEditor(
        np.zeros((64, 64), np.uint8)), has_correction=False)
    if runner is not None:
        tools.clicks.runner = runner
    tools.set_tool(Tool.CLICK)
    return tools


def test_clicks_made_while_one_is_refined_wait_and_all_become_undo_steps() -> None:
    runner = Later()
    tools = _tools(runner)
    tools.clicked(30, 30)
    tools.clicked(50, 50)  # while the first is being refined (outside the square it finds)
    assert len(tools.clicks.markers) == 2 and len(runner.jobs) == 1
    runner.finish()
    runner.finish()
    assert tools.document.mask[30, 30] == 1 and tools.document.mask[50, 50] == 1
    assert tools.document.editor.history.undo_count == 2


def test_an_answer_for_a_mask_changed_meanwhile_is_dropped() -> None:
    runner, said = Later(), []
    tools = _tools(runner)
    tools.message.connect(said.append)
    tools.clicked(30, 30)
    # another edit lands before the click's answer comes
    tools.apply(Change(Rect(0, 0, 2, 2), np.ones((2, 2), np.uint8)), "edit")
    edited = tools.document.mask.copy()
    runner.finish()
    assert np.array_equal(tools.document.mask, edited)
    assert tools.clicks.markers == [] and "Click dropped" in said[-1]


def test_redo_brings_the_click_and_its_marker_back() -> None:
    tools = _tools()
    tools.clicked(30, 30)
    after = tools.document.mask.copy()
    tools.undo()
    assert not tools.document.mask.any() and tools.clicks.markers == []
    tools.redo()
    assert np.array_equal(tools.document.mask, after) and len(tools.clicks.markers) == 1


def _drag(tools: ToolController, corner: tuple[float, float], opposite: tuple[float, float]):
    tools.stroke_started(*corner)
    tools.stroke_moved(*opposite)
    tools.stroke_finished(*opposite)


def test_a_box_outlines_the_object_in_one_undo_step_and_starts_a_new_run() -> None:
    tools = _tools()
    tools.clicked(55, 55)  # a click elsewhere first: one marker
    _drag(tools, (17, 17), (42, 42))  # x, y: a box around the bright square
    mask = tools.document.mask
    assert (mask[20:40, 20:40] == 1).mean() > 0.95
    assert not mask[:14].any() and not mask[46:, :50].any()  # nothing beyond the box...
    assert mask[55, 55] == 1  # ...and what was there stays
    assert tools.clicks.markers == [] and tools.document.editor.history.undo_count == 2
    tools.undo()
    assert not mask[20:40, 20:40].any() and mask[55, 55] == 1


def test_a_refiner_that_takes_no_box_says_so_and_leaves_the_mask() -> None:
    from qtseg_core.interactive import BrushRefiner

    said: list[str] = []
    tools = _tools()
    tools.message.connect(said.append)
    tools.clicks.refiner = BrushRefiner()
    _drag(tools, (17, 17), (42, 42))
    assert not tools.document.mask.any() and "takes no box" in said[-1]


def test_clicks_after_a_box_keep_its_object_and_undoing_the_box_ends_its_run() -> None:
    tools = _tools()
    _drag(tools, (17, 17), (42, 42))
    boxed = tools.document.mask.copy()
    tools.right_clicked(38.0, 21.0)  # a negative click near the square's corner
    mask = tools.document.mask
    assert mask[21, 38] == 0 and (mask[20:40, 20:40] == 1).mean() > 0.7  # the object stays
    tools.undo()
    assert np.array_equal(tools.document.mask, boxed) and tools.clicks.run_box is not None
    tools.undo()  # the box itself
    assert not tools.document.mask.any() and tools.clicks.run_box is None
