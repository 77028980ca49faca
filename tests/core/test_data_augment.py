"""Augmentation: image and mask move together, labels stay labels, seeds reproduce."""

from __future__ import annotations

import numpy as np
import pytest

from qtseg_core.data.augment import PAPER_TRANSFORMS, PaperAugmentation


def _pair(size: int = 64, channels: int = 3):
    image = np.zeros((size, size, channels), np.float32)
    image[16:40, 20:44] = 1.0
    mask = np.zeros((size, size), np.uint8)
    mask[16:40, 20:44] = 2
    return image, mask


@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("transform", PAPER_TRANSFORMS, ids=lambda t: t.__name__)
def test_each_transform_keeps_shapes_dtypes_and_labels(transform, channels):
    image, mask = _pair(channels=channels)
    for seed in range(4):
        out_image, out_mask = transform(np.random.default_rng(seed), image, mask)
        assert out_image.shape == image.shape and out_image.dtype == np.float32
        assert out_mask.shape == mask.shape
        assert 0.0 <= out_image.min() and out_image.max() <= 1.0
        assert set(np.unique(out_mask)) <= {0, 2}  # nearest: no blended label 1


def test_geometric_transforms_fill_with_background():
    image, mask = _pair()
    zoomed_out = PaperAugmentation(1, transforms=(PAPER_TRANSFORMS[5],))  # scale 0.5-2
    for seed in range(20):
        out_image, out_mask = zoomed_out(np.ones_like(image), np.ones_like(mask), seed=seed)
        if out_mask.min() == 0:  # shrunk: the border is background and black
            assert out_image[out_mask == 0].max() == 0.0
            return
    pytest.fail("20 random scales never shrank the image")


@pytest.mark.parametrize("channels", [1, 3])
def test_geometry_moves_image_and_mask_together(channels):
    augment = PaperAugmentation()
    image, mask = _pair(channels=channels)
    for seed in range(12):
        out_image, out_mask = augment(image, mask, seed=seed)
        assert out_image.shape == image.shape and out_mask.dtype == np.uint8
        inside = out_image[..., 0][out_mask == 2]
        outside = out_image[..., 0][out_mask == 0]
        if inside.size > 20 and outside.size > 20:
            assert np.median(inside) > np.median(outside)


def test_same_seed_same_result_other_seed_differs():
    augment = PaperAugmentation()
    image, mask = _pair()
    first = augment(image, mask, seed=5)
    again = augment(image, mask, seed=5)
    np.testing.assert_array_equal(first[0], again[0])
    np.testing.assert_array_equal(first[1], again[1])
    others = [augment(image, mask, seed=s)[0] for s in range(6, 12)]
    assert any(not np.array_equal(first[0], other) for other in others)
