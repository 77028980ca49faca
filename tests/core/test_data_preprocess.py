"""Letterbox preprocessing: geometry, normalisation, channels, and the round trip back."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from qtseg_core.data.preprocess import Letterbox, prepare_image, prepare_mask


def test_longer_side_is_resized_and_padding_is_bottom_right():
    image = np.full((37, 53), 200, np.uint8)
    x, letterbox = prepare_image(image, 64, in_channels=1)
    assert x.shape == (1, 64, 64) and x.dtype == np.float32
    assert letterbox == Letterbox((37, 53), 64, (44, 64))
    assert (x[0, :44, :] == 1).all()  # image: the maximum
    assert (x[0, 44:, :] == -1).all()  # zero padding: the minimum


def test_min_max_to_minus_one_one_and_constant_image_gives_zeros():
    image = np.arange(64 * 64, dtype=np.uint16).reshape(64, 64)
    x, _ = prepare_image(image, 64, in_channels=1)
    assert x.min() == -1 and x.max() == 1
    x, _ = prepare_image(np.full((64, 64), 7, np.uint8), 64, in_channels=3)
    assert np.isfinite(x).all() and (x == 0).all()


def test_16_bit_detail_survives_until_normalisation():
    image = np.full((32, 32), 40000, np.uint16)
    image[:, 16:] = 40001  # a step of 1 in 65535: lost if squeezed into 8 bits first
    x, _ = prepare_image(image, 32, in_channels=1)
    assert x[0, 0, 0] == -1 and x[0, 0, 31] == 1


def test_signed_ct_is_padded_with_its_minimum_not_zero():
    ct = np.full((20, 40), -1000, np.int16)
    ct[5:15, 10:30] = 400
    x, letterbox = prepare_image(ct, 32, in_channels=1)
    height = letterbox.resized_shape[0]
    assert (x[0, height:] == -1).all()  # padding as dark as air


@pytest.mark.parametrize(
    ("shape", "in_channels"),
    [((24, 32), 3), ((24, 32, 3), 1), ((24, 32, 4), 3), ((24, 32, 3), 3), ((24, 32), 1)],
)
def test_channels_match_the_network(shape, in_channels):
    image = np.random.default_rng(0).integers(0, 255, shape, dtype=np.uint8)
    x, _ = prepare_image(image, 32, in_channels)
    assert x.shape == (in_channels, 32, 32)


def test_rgb_to_grey_is_luminance_and_alpha_is_ignored():
    rgba = np.zeros((8, 8, 4), np.uint8)
    rgba[:4, :, 1] = 255  # green top half
    rgba[..., 3] = np.arange(8)[:, None] * 30  # alpha must not matter
    x, _ = prepare_image(rgba, 8, in_channels=1)
    assert (x[0, :4] == 1).all() and (x[0, 4:] == -1).all()


@pytest.mark.parametrize("shape", [(37, 53), (53, 37), (64, 64), (5, 130)])
def test_mask_round_trip_restores_the_original_up_to_boundary_pixels(shape):
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    mask = (yy - shape[0] / 2) ** 2 + (xx - shape[1] / 2) ** 2 < (min(shape) / 3) ** 2
    mask = mask.astype(np.uint8) + (xx > shape[1] * 0.8).astype(np.uint8)  # classes 0, 1, 2
    canvas = prepare_mask(mask, 64)
    _, letterbox = prepare_image(np.zeros(shape, np.uint8), 64, in_channels=3)
    restored = letterbox.restore(canvas)
    assert restored.shape == shape and restored.dtype == mask.dtype
    edges = np.zeros(shape, bool)
    edges[:-1] |= mask[:-1] != mask[1:]
    edges[1:] |= mask[:-1] != mask[1:]
    edges[:, :-1] |= mask[:, :-1] != mask[:, 1:]
    edges[:, 1:] |= mask[:, :-1] != mask[:, 1:]
    assert (restored[~edges] == mask[~edges]).all()


def test_restore_probabilities_is_smooth_and_keeps_leading_axes():
    letterbox = Letterbox.fit((37, 53), 64)
    probabilities = np.zeros((2, 64, 64), np.float32)
    probabilities[1, :, :32] = 1.0
    probabilities[0] = 1 - probabilities[1]
    restored = letterbox.restore(probabilities)
    assert restored.shape == (2, 37, 53) and restored.dtype == np.float32
    np.testing.assert_allclose(restored.sum(0), 1.0, atol=1e-5)
    assert 0 < restored[1, 10, 26] < 1  # interpolated at the edge, not nearest


def test_restored_planes_are_each_planes_own_bilinear_resize_bit_for_bit():
    """Every plane of (..., size, size), leading axes kept, cropped then resized on its own:
    the masks ``qtseg predict`` writes depend on these exact values."""
    letterbox = Letterbox.fit((75, 101), 64)  # enlarged, padding below
    planes = np.random.default_rng(0).random((2, 3, 64, 64), dtype=np.float32)
    height, width = letterbox.resized_shape
    expected = [cv2.resize(plane[:height, :width], (101, 75), interpolation=cv2.INTER_LINEAR)
                for plane in planes.reshape(-1, 64, 64)]
    restored = letterbox.restore(planes)
    assert restored.shape == (2, 3, 75, 101)
    assert restored.tobytes() == np.stack(expected).tobytes()


def test_restore_rejects_the_wrong_canvas_size():
    with pytest.raises(ValueError, match="64, 64"):
        Letterbox.fit((37, 53), 64).restore(np.zeros((32, 32), np.uint8))


@pytest.mark.parametrize("shape", [(120, 160), (160, 120), (64, 64), (33, 17), (1, 1)])
@pytest.mark.parametrize("values", ["uint8", "uint16", "ct", "float", "constant"])
@pytest.mark.parametrize("in_channels", [1, 3])
def test_network_input_is_the_normalised_canvas_bit_for_bit(shape, values, in_channels):
    """prepare_image skips building the padded canvas; the model must see the same numbers."""
    from qtseg_core.data.preprocess import letterbox_image, normalize_min_max

    rng = np.random.default_rng(sum(shape))
    image = {
        "uint8": lambda: rng.integers(0, 256, (*shape, 3)).astype(np.uint8),
        "uint16": lambda: rng.integers(0, 65536, shape).astype(np.uint16),
        "ct": lambda: rng.normal(-600, 400, shape).astype(np.int16),
        "float": lambda: rng.normal(0.5, 2.0, (*shape, 4)).astype(np.float32),
        "constant": lambda: np.full(shape, 9, np.uint8),
    }[values]()
    canvas, expected_box = letterbox_image(image, 64, in_channels)
    expected = np.ascontiguousarray(normalize_min_max(canvas).transpose(2, 0, 1))
    prepared, letterbox = prepare_image(image, 64, in_channels)
    assert letterbox == expected_box
    assert prepared.dtype == np.float32 and prepared.flags.c_contiguous
    assert np.array_equal(prepared.view(np.uint32), expected.view(np.uint32))
