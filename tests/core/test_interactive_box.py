"""The box prompt: a box around an object outlines it; nothing outside the box changes."""

from __future__ import annotations

import numpy as np
import pytest

from qtseg_core.interactive import Click, ClickSession, RandomWalkerRefiner, run_robot
from qtseg_core.interactive.box_prompt import BOX_MARGIN
from qtseg_core.interactive.robot import box_around
from qtseg_core.pixel_rect import Rect


def ellipse_image(shape=(120, 160), centre=(60, 70), radii=(22, 40), seed=0):
    """A bright ellipse on a noisy darker background, and its mask."""
    rows, cols = np.ogrid[: shape[0], : shape[1]]
    inside = ((rows - centre[0]) / radii[0]) ** 2 + ((cols - centre[1]) / radii[1]) ** 2 <= 1
    rng = np.random.default_rng(seed)
    image = np.where(inside, 170, 70) + rng.normal(0, 12, shape)
    return np.clip(image, 0, 255).astype(np.uint8), inside


def overlap(mask: np.ndarray, truth: np.ndarray) -> float:
    return float((mask & truth).sum() / (mask | truth).sum())


def outside(box: Rect, shape: tuple[int, int], margin: int = BOX_MARGIN) -> np.ndarray:
    """(H, W) bool: the pixels farther than ``margin`` outside ``box``."""
    away = np.ones(shape, dtype=bool)
    away[max(box.top - margin, 0) : box.bottom + margin,
         max(box.left - margin, 0) : box.right + margin] = False
    return away


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_box_around_a_missed_object_outlines_it(seed):
    image, truth = ellipse_image(seed=seed)
    box = box_around(truth, np.random.default_rng(seed))  # the bounding box, sides off by <= 3
    mask = ClickSession(image, np.zeros_like(truth), RandomWalkerRefiner()).add_box(box)
    assert overlap(mask, truth) > 0.8
    assert not (mask & outside(box, truth.shape)).any()


def test_a_box_leaves_the_mask_outside_it_as_it_was():
    image, truth = ellipse_image()
    before = np.zeros_like(truth)
    before[100:115, 5:20] = True  # another object of the class, far from the box
    before[5:12, 140:155] = True
    box = Rect(34, 26, 86, 114)
    mask = RandomWalkerRefiner().outline(image, before, box)
    away = outside(box, truth.shape)
    assert np.array_equal(mask[away], before[away])
    assert overlap(mask & ~away, truth) > 0.8


def test_a_box_replaces_a_wrong_mask_inside_it():
    image, truth = ellipse_image()
    wrong = np.zeros_like(truth)
    wrong[40:50, 30:110] = True  # a strip through the object and beyond it
    mask = RandomWalkerRefiner().outline(image, wrong, Rect(36, 28, 84, 112))
    assert overlap(mask, truth) > 0.8


def test_clicks_after_a_box_refine_its_object_and_undo_steps_back():
    image, truth = ellipse_image()
    session = ClickSession(image, np.zeros_like(truth), RandomWalkerRefiner())
    boxed = session.add_box(Rect(36, 28, 84, 112)).copy()
    clicked = session.add(Click(60, 70, positive=False))  # the user changed their mind
    assert not clicked[60, 70] and session.clicks == [Click(60, 70, positive=False)]
    assert np.array_equal(session.undo(), boxed) and session.clicks == []
    assert not session.undo().any()


def test_a_negative_click_on_the_middle_of_a_box_cuts_its_object_not_drops_it():
    image, truth = ellipse_image()
    session = ClickSession(image, np.zeros_like(truth), RandomWalkerRefiner())
    session.add_box(Rect(36, 28, 84, 112))
    clicked = session.add(Click(60, 70, positive=False))  # a false alarm at the middle
    assert not clicked[60, 70]
    assert overlap(clicked, truth) > 0.7  # the rest of the ellipse stays


def test_a_box_over_the_whole_image_is_refused_with_its_size():
    image, truth = ellipse_image()
    with pytest.raises(ValueError, match="covers the whole 120x160 image"):
        RandomWalkerRefiner().outline(image, truth, Rect(-5, -5, 130, 170))


def test_the_robot_box_is_the_bounding_box_within_its_jitter_and_counts_as_one_step():
    image, truth = ellipse_image()
    box = box_around(truth, np.random.default_rng(0), jitter=3)
    assert abs(box.top - 38) <= 3 and abs(box.bottom - 83) <= 3
    assert abs(box.left - 30) <= 3 and abs(box.right - 111) <= 3
    session = ClickSession(image, np.zeros_like(truth), RandomWalkerRefiner())
    trajectory = run_robot(session.mask, truth, lambda clicks: session.add(clicks[-1]), 1,
                           first=lambda: session.add_box(box))
    assert trajectory.ious[0] == 0.0 and trajectory.ious[1] > 0.8  # the box's own step
    assert len(trajectory.ious) == 2 and trajectory.clicks == []  # 1 interaction: the box
    assert box_around(np.zeros_like(truth), np.random.default_rng(0)) is None
