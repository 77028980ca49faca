"""The paper's input pipeline: letterbox to a square canvas, then min-max to [-1, 1].

One image goes through these steps everywhere (training, evaluation, the
Predictor, the app), exactly as the authors' code does it:

1. channels matched to the network (grey repeated to RGB, RGB to luminance,
   alpha dropped), kept as float32 so 16-bit, signed and float data lose nothing;
2. the longer side resized to ``size`` (area interpolation when shrinking,
   linear when enlarging; the shorter side is floored, as in the authors' code);
3. zero padding at the bottom and right up to ``size`` x ``size``; images with
   negative values (CT in Hounsfield units) are padded with their minimum
   instead, so padding is always the darkest value;
4. per-image min-max over the whole canvas (all channels together) to [-1, 1];
   a constant canvas maps to 0.

:class:`Letterbox` remembers the geometry and maps network outputs back onto
the original pixels.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

_LUMINANCE = np.array([0.299, 0.587, 0.114], dtype=np.float32)  # ITU-R BT.601, as OpenCV


@dataclass(frozen=True)
class Letterbox:
    """Where an (H, W) image sits on the ``size`` x ``size`` canvas.

    The image is resized to ``resized_shape`` (h, w) and placed at the top-left
    corner; the rest of the canvas is padding.
    """

    original_shape: tuple[int, int]
    size: int
    resized_shape: tuple[int, int]

    @classmethod
    def fit(cls, shape: tuple[int, ...], size: int) -> Letterbox:
        """Geometry for an image of ``shape`` (H, W, ...): longer side becomes ``size``."""
        height, width = int(shape[0]), int(shape[1])
        if size < 1 or height < 1 or width < 1:
            raise ValueError(f"Cannot letterbox an image of shape {shape} to size {size}.")
        longer = max(height, width)
        resized = (max(1, height * size // longer), max(1, width * size // longer))
        return cls((height, width), int(size), resized)

    def restore(self, array: np.ndarray) -> np.ndarray:
        """Map a (..., size, size) canvas array back to (..., H, W) of the original image.

        The padding is cropped, then float arrays (probabilities, logits) are
        resized bilinearly and integer or boolean arrays (class-index masks)
        by nearest neighbour, so labels stay labels.
        """
        if array.shape[-2:] != (self.size, self.size):
            raise ValueError(
                f"Letterbox.restore expects (..., {self.size}, {self.size}), got {array.shape}; "
                "pass the network output for this image, before any other resize."
            )
        height, width = self.resized_shape
        cropped = array[..., :height, :width]
        if np.issubdtype(array.dtype, np.floating):
            return _resize_planes(cropped.astype(np.float32, copy=False), self.original_shape)
        return nearest_resize(cropped, self.original_shape)


def nearest_resize(array: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Nearest-neighbour resize of the last two axes, sampling pixel centres; any dtype."""
    rows = _centre_indices(array.shape[-2], shape[0])
    cols = _centre_indices(array.shape[-1], shape[1])
    return array[..., rows[:, None], cols[None, :]]


def _centre_indices(source: int, target: int) -> np.ndarray:
    positions = (np.arange(target) + 0.5) * source / target
    return np.minimum(positions.astype(np.int64), source - 1)


def _resize_planes(array: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Bilinear resize of the last two axes of a float32 (..., h, w) array."""
    planes = array.reshape(-1, *array.shape[-2:])
    resized = np.empty((len(planes), *shape), np.float32)
    for plane, out in zip(planes, resized, strict=True):  # each straight into its place
        cv2.resize(plane, (shape[1], shape[0]), dst=out, interpolation=cv2.INTER_LINEAR)
    return resized.reshape(*array.shape[:-2], *shape)


def match_channels(image: np.ndarray, in_channels: int) -> np.ndarray:
    """(H, W) or (H, W, C) image -> (H, W, in_channels) float32, values unchanged.

    Grey is repeated to RGB, RGB becomes luminance, alpha is dropped.
    """
    if in_channels not in (1, 3):
        raise ValueError(f"in_channels={in_channels}: use 1 (grey) or 3 (RGB).")
    pixels = image.astype(np.float32, copy=False)
    if pixels.ndim == 2:
        pixels = pixels[:, :, None]
    if pixels.ndim != 3 or pixels.shape[2] not in (1, 2, 3, 4):
        raise ValueError(
            f"Image of shape {image.shape}: expected (H, W) grey or (H, W, 3|4) RGB(A)."
        )
    pixels = pixels[:, :, :1] if pixels.shape[2] == 2 else pixels[:, :, :3]  # drop alpha
    if pixels.shape[2] == in_channels:
        return pixels
    if in_channels == 3:
        return np.repeat(pixels, 3, axis=2)
    return (pixels @ _LUMINANCE)[:, :, None]


def letterbox_image(image: np.ndarray, size: int, in_channels: int) -> tuple[np.ndarray, Letterbox]:
    """Steps 1-3: (size, size, in_channels) float32 canvas in the image's own units."""
    pixels, letterbox = _resized_pixels(image, size, in_channels)
    height, width = letterbox.resized_shape
    canvas = np.full((size, size, in_channels), _padding_value(pixels), dtype=np.float32)
    canvas[:height, :width] = pixels
    return canvas, letterbox


def _resized_pixels(
    image: np.ndarray, size: int, in_channels: int
) -> tuple[np.ndarray, Letterbox]:
    """Steps 1-2: the image's (h, w, in_channels) float32 pixels at their canvas size."""
    pixels = match_channels(image, in_channels)
    letterbox = Letterbox.fit(pixels.shape, size)
    height, width = letterbox.resized_shape
    if (height, width) != pixels.shape[:2]:
        shrinking = height < pixels.shape[0]
        interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
        pixels = cv2.resize(pixels, (width, height), interpolation=interpolation)
        pixels = pixels.reshape(height, width, in_channels)  # cv2 drops a single channel
    return pixels, letterbox


def _padding_value(pixels: np.ndarray) -> float:
    """Step 3's padding: 0, or the minimum when the image has negative values."""
    return min(0.0, float(pixels.min()))


def normalize_min_max(canvas: np.ndarray, low: float = -1.0, high: float = 1.0) -> np.ndarray:
    """Step 4: min-max over the whole array to [low, high]; a constant array gives 0s."""
    minimum, maximum = float(canvas.min()), float(canvas.max())
    if maximum <= minimum:
        return np.zeros_like(canvas, dtype=np.float32)
    return _to_range(canvas, np.empty(canvas.shape, np.float32), minimum, maximum, low, high)


def _to_range(
    values: np.ndarray, out: np.ndarray, minimum: float, maximum: float, low: float, high: float
) -> np.ndarray:
    """``out`` = ``values`` mapped from [minimum, maximum] to [low, high], in float32."""
    np.subtract(values, minimum, out=out, dtype=np.float32)
    out *= (high - low) / (maximum - minimum)
    out += low
    return out


def prepare_image(image: np.ndarray, size: int, in_channels: int) -> tuple[np.ndarray, Letterbox]:
    """Image (H, W[, C]) in any dtype -> network input (in_channels, size, size) in [-1, 1].

    The values of ``normalize_min_max(letterbox_image(...))`` in channel-first
    order, bit for bit, without building the padded canvas: the padding is the
    canvas's minimum, so it maps to -1, and the minimum and maximum come from
    the resized pixels alone (about a third less work for a small photo).
    """
    pixels, letterbox = _resized_pixels(image, size, in_channels)
    height, width = letterbox.resized_shape
    padded = (height, width) != (size, size)
    minimum = _padding_value(pixels) if padded else float(pixels.min())
    maximum = float(pixels.max())  # the padding (<= 0, <= every pixel) is never above it
    prepared = np.full((in_channels, size, size), -1.0, dtype=np.float32)
    if maximum <= minimum:  # a constant canvas maps to 0
        prepared[:] = 0.0
    else:
        _to_range(pixels.transpose(2, 0, 1), prepared[:, :height, :width],
                  minimum, maximum, -1.0, 1.0)
    return prepared, letterbox


def prepare_mask(mask: np.ndarray, size: int) -> np.ndarray:
    """Class-index mask (H, W) -> (size, size) uint8 on the same canvas as its image."""
    if mask.ndim != 2:
        raise ValueError(f"prepare_mask expects an (H, W) class-index mask, got {mask.shape}.")
    letterbox = Letterbox.fit(mask.shape, size)
    height, width = letterbox.resized_shape
    canvas = np.zeros((size, size), dtype=np.uint8)
    canvas[:height, :width] = nearest_resize(mask, (height, width))
    return canvas
