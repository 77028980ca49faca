"""The robot user of benchmarks/annotation_effort.py clicks where the protocol says."""

from __future__ import annotations

import numpy as np
import pytest

from qtseg_core.interactive import BrushRefiner, Click, ClickSession
from qtseg_core.interactive.robot import (
    clicks_to_reach,
    iou,
    next_click,
    run_robot,
    summarise,
)


def square(shape, top, left, side):
    mask = np.zeros(shape, dtype=bool)
    mask[top : top + side, left : left + side] = True
    return mask


def test_a_perfect_mask_needs_no_click():
    truth = square((32, 32), 4, 4, 10)
    assert next_click(truth, truth) is None
    trajectory = run_robot(truth, truth, correct=lambda clicks: pytest.fail("clicked"))
    assert trajectory.clicks == [] and trajectory.ious == [1.0]
    assert clicks_to_reach(trajectory.ious, 0.9, 20) == 0


def test_it_clicks_the_centre_of_a_missed_object():
    truth = square((40, 40), 10, 20, 9)  # rows 10..18, cols 20..28
    click = next_click(np.zeros_like(truth), truth)
    assert click == Click(14, 24, positive=True)


def test_the_larger_error_wins_and_a_false_alarm_gets_a_negative_click():
    truth = square((64, 64), 2, 2, 5)  # a 25-pixel miss
    mask = square((64, 64), 30, 30, 11)  # a 121-pixel false alarm
    click = next_click(mask, truth)
    assert click == Click(35, 35, positive=False)


def test_it_clicks_the_largest_region_not_the_nearest_pixel_count_of_all_regions():
    truth = np.zeros((64, 64), dtype=bool)
    for left in (0, 8, 16, 24):
        truth[0:3, left : left + 3] = True  # four small misses of 9 pixels (36 in all)
    truth |= square((64, 64), 40, 40, 5)  # one miss of 25 pixels: the largest region
    click = next_click(np.zeros_like(truth), truth)
    assert click == Click(42, 42, positive=True)


def test_the_image_edge_counts_as_border():
    truth = np.zeros((20, 20), dtype=bool)
    truth[0:3, :] = True  # a band along the top edge: its interior is row 1, not row 0
    assert next_click(np.zeros_like(truth), truth).row == 1


def test_noc_is_max_clicks_plus_one_when_never_reached():
    assert clicks_to_reach([0.1, 0.5, 0.86, 0.95], 0.85, 20) == 2
    assert clicks_to_reach([0.1, 0.5, 0.6], 0.85, 2) == 3


def test_iou_of_two_empty_masks_is_one():
    empty = np.zeros((4, 4), dtype=bool)
    assert iou(empty, empty) == 1.0
    assert iou(square((4, 4), 0, 0, 2), empty) == 0.0


def test_brush_robot_paints_a_missed_disk_and_reports_the_protocol_figures():
    truth = np.zeros((64, 64), dtype=bool)
    rows, cols = np.ogrid[:64, :64]
    truth[(rows - 30) ** 2 + (cols - 30) ** 2 <= 8**2] = True  # exactly the brush's disk
    empty = np.zeros_like(truth)
    session = ClickSession(np.zeros((64, 64), np.uint8), empty, BrushRefiner())
    trajectory = run_robot(empty, truth, lambda clicks: session.add(clicks[-1]), max_clicks=5)
    assert trajectory.clicks[0] == Click(30, 30, positive=True)
    assert trajectory.ious[:2] == [0.0, 1.0]
    figures = summarise([trajectory], max_clicks=5)
    assert figures["noc"] == {"0.85": 1.0, "0.9": 1.0}
    assert figures["iou_after"] == {"0": 0.0, "1": 1.0, "3": 1.0, "5": 1.0}


def test_undo_takes_the_last_click_back():
    empty = np.zeros((16, 16), dtype=bool)
    session = ClickSession(np.zeros((16, 16)), empty, BrushRefiner(radius=2))
    assert session.add(Click(8, 8)).sum() > 0
    assert not session.undo().any() and session.clicks == []


def test_a_click_outside_the_image_is_refused_with_its_position():
    session = ClickSession(np.zeros((16, 16)), np.zeros((16, 16), bool), BrushRefiner())
    with pytest.raises(ValueError, match="row 20"):
        session.add(Click(20, 3))
