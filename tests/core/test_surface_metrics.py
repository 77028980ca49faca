"""HD95 and surface Dice checked by hand on shapes whose answers are known."""

from __future__ import annotations

import math

import numpy as np
import pytest

from qtseg_core.surface_metrics import boundary, hd95, surface_dice


def _square(shape, top, left, side):
    mask = np.zeros(shape, dtype=bool)
    mask[top: top + side, left: left + side] = True
    return mask


def test_identical_masks_score_perfectly():
    mask = _square((20, 20), 5, 5, 6)
    assert hd95(mask, mask) == 0.0
    assert surface_dice(mask, mask, tolerance_mm=0.0) == 1.0


def test_a_shift_of_two_columns_is_two_pixels_times_the_column_spacing():
    truth, prediction = _square((30, 30), 10, 10, 8), _square((30, 30), 10, 12, 8)
    assert hd95(prediction, truth) == pytest.approx(2.0)
    assert hd95(prediction, truth, spacing=(0.5, 1.5)) == pytest.approx(3.0)
    assert hd95(prediction, truth, spacing=(3.0, 0.25)) == pytest.approx(0.5)  # rows don't count


def test_surface_dice_counts_boundary_pixels_within_the_tolerance():
    truth, prediction = _square((30, 30), 10, 10, 8), _square((30, 30), 10, 12, 8)
    # 28 boundary pixels each; a pixel is within 1 mm only where the two outlines meet
    edges_t, edges_p = boundary(truth), boundary(prediction)
    assert edges_t.sum() == edges_p.sum() == 28
    assert surface_dice(prediction, truth, tolerance_mm=2.0) == 1.0
    expected = (2 * 12) / 56  # top and bottom rows overlap over 6 columns, each side
    assert surface_dice(prediction, truth, tolerance_mm=0.0) == pytest.approx(expected)


def test_empty_cases_follow_monai():
    empty, mask = np.zeros((10, 10), bool), _square((10, 10), 2, 2, 3)
    assert math.isnan(hd95(empty, empty)) and math.isnan(surface_dice(empty, empty, 1.0))
    assert hd95(empty, mask) == math.inf and surface_dice(mask, empty, 1.0) == 0.0


def test_volumes_use_the_slice_spacing():
    truth = np.zeros((6, 12, 12), bool)
    truth[1:4, 3:9, 3:9] = True
    prediction = np.roll(truth, 1, axis=0)  # one slice further
    assert hd95(prediction, truth, spacing=(5.0, 1.0, 1.0)) == pytest.approx(5.0)
    assert surface_dice(prediction, truth, 4.9, spacing=(5.0, 1.0, 1.0)) < 1.0
    assert surface_dice(prediction, truth, 5.0, spacing=(5.0, 1.0, 1.0)) == 1.0


def test_wrong_spacing_is_refused():
    with pytest.raises(ValueError, match="one positive mm value per axis"):
        hd95(np.ones((3, 3), bool), np.ones((3, 3), bool), spacing=(1.0,))
