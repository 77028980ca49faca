"""Fill between slices: a disc growing between two edited slices grows in between."""

from __future__ import annotations

import numpy as np

from qtseg_core.volumes.interpolate import interpolate_slices


def _disc(radius, shape=(40, 40), center=(20, 20)):
    rows, cols = np.mgrid[: shape[0], : shape[1]]
    return (((rows - center[0]) ** 2 + (cols - center[1]) ** 2) <= radius**2).astype(np.uint8)


def test_a_growing_disc_has_intermediate_radii_in_between():
    filled = interpolate_slices(_disc(4), _disc(12), gap=3)
    areas = [int(m.sum()) for m in filled]
    assert len(filled) == 3 and areas == sorted(areas)
    for mask, radius in zip(filled, (6, 8, 10), strict=True):
        expected = int(_disc(radius).sum())
        assert abs(int(mask.sum()) - expected) < 0.12 * expected


def test_same_masks_fill_with_the_same_mask_and_moving_shapes_move():
    assert all(np.array_equal(m, _disc(7)) for m in interpolate_slices(_disc(7), _disc(7), 2))
    (middle,) = interpolate_slices(_disc(6, center=(20, 15)), _disc(6, center=(20, 25)), 1)
    cols = np.flatnonzero(middle.any(axis=0))
    assert 19 <= cols.mean() <= 21  # halfway along
    # shapes that do not overlap at all leave nothing in between (a limit of the method)
    assert not interpolate_slices(_disc(3, center=(20, 5)), _disc(3, center=(20, 35)), 1)[0].any()


def test_classes_are_interpolated_separately():
    first = _disc(6)
    last = _disc(6) * 2
    near_first, middle, near_last = interpolate_slices(first, last, 3)
    assert set(np.unique(near_first)) == {0, 1} and set(np.unique(near_last)) == {0, 2}
    assert not middle.any()  # each class shrinks to nothing halfway to the other side
