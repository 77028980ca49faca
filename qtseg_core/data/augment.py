"""Training augmentation as in the paper (MISSFormer style, the authors' imgaug recipe).

For each image, 0 to 4 of these (uniformly many, distinct, in this order as
imgaug's ``SomeOf`` keeps them), identically on image and mask: flips (each
then with probability 0.5), Gaussian noise (sigma = 0.5 % of the range),
Gaussian blur (sigma 1), linear contrast x0.5-1.5 (per channel half the time),
scale 0.5-2 (x and y independently), rotation +-40 deg, x-shear +-16 deg,
piecewise affine (scale 0.008-0.03), translation +-20 %.

Where it runs, and why: on the *letterboxed* canvas (``size`` x ``size``),
scaled to [0, 1], before the final min-max to [-1, 1]. This is the authors'
order (augment the padded image, then normalise) and the fastest correct one:
the cost no longer depends on the original resolution, geometry fills with 0
(the padding value, the darkest pixel), the noise and contrast amounts are
fractions of the image's range whatever its dtype, and the network still sees
an exact [-1, 1] min-max input. Masks use nearest-neighbour and fill with 0
(background), so labels stay labels.

Plain OpenCV and numpy: no augmentation library (they phone home, or changed
licence), and one ``numpy.random.Generator`` per call makes a seed reproduce
the result exactly.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import cv2
import numpy as np

#: A transform: (random generator, image (H, W, C) float32 [0, 1], mask (H, W) uint8) -> both.
Transform = Callable[[np.random.Generator, np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


def horizontal_flip(rng: np.random.Generator, image: np.ndarray, mask: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Mirror left-right with probability 0.5."""
    return (image[:, ::-1], mask[:, ::-1]) if rng.random() < 0.5 else (image, mask)


def vertical_flip(rng: np.random.Generator, image: np.ndarray, mask: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Mirror top-bottom with probability 0.5."""
    return (image[::-1], mask[::-1]) if rng.random() < 0.5 else (image, mask)


def gaussian_noise(rng: np.random.Generator, image: np.ndarray, mask: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Add N(0, 0.005) noise, the same on every channel, clipped to [0, 1]."""
    noise = rng.normal(0.0, 0.005, image.shape[:2]).astype(np.float32)[..., None]
    return np.clip(image + noise, 0.0, 1.0), mask


def gaussian_blur(rng: np.random.Generator, image: np.ndarray, mask: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Blur with sigma 1 (7 x 7 kernel, 3 sigma each side)."""
    return _keep_channels(cv2.GaussianBlur(image, (7, 7), 1.0), image), mask


def zoom(low: float, high: float, *, each_axis: bool) -> Transform:
    """Zoom by ``low``-``high`` about the centre: x and y independently, or alike."""
    def transform(rng: np.random.Generator, image: np.ndarray, mask: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray]:
        sx, sy = rng.uniform(low, high, 2) if each_axis else (rng.uniform(low, high),) * 2
        return _warp(np.array([[sx, 0.0], [0.0, sy]]), (0.0, 0.0), image, mask)
    return transform


def rotation(degrees: float) -> Transform:
    """Rotate by -``degrees`` to ``degrees`` about the centre."""
    def transform(rng: np.random.Generator, image: np.ndarray, mask: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray]:
        angle = math.radians(rng.uniform(-degrees, degrees))
        cos, sin = math.cos(angle), math.sin(angle)
        return _warp(np.array([[cos, -sin], [sin, cos]]), (0.0, 0.0), image, mask)
    return transform


def translation(fraction: float) -> Transform:
    """Shift by up to ``fraction`` of the width and height."""
    def transform(rng: np.random.Generator, image: np.ndarray, mask: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray]:
        height, width = mask.shape
        dx, dy = rng.uniform(-fraction, fraction, 2) * (width, height)
        return _warp(np.eye(2), (dx, dy), image, mask)
    return transform


def contrast(low: float, high: float, *, per_channel: bool) -> Transform:
    """imgaug's LinearContrast: ``0.5 + alpha * (x - 0.5)``, alpha in ``low``-``high``,
    clipped; with ``per_channel`` half the time a colour image gets one alpha per channel."""
    def transform(rng: np.random.Generator, image: np.ndarray, mask: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray]:
        count = image.shape[-1] if per_channel and rng.random() < 0.5 else 1
        alpha = rng.uniform(low, high, count).astype(np.float32)
        return np.clip(0.5 + alpha * (image - 0.5), 0.0, 1.0), mask
    return transform


def shear_x(rng: np.random.Generator, image: np.ndarray, mask: np.ndarray
            ) -> tuple[np.ndarray, np.ndarray]:
    """Shear along x by -16 to 16 degrees about the centre."""
    shear = math.tan(math.radians(rng.uniform(-16.0, 16.0)))
    return _warp(np.array([[1.0, shear], [0.0, 1.0]]), (0.0, 0.0), image, mask)


def piecewise_affine(rng: np.random.Generator, image: np.ndarray, mask: np.ndarray,
                     grid: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """imgaug-style piecewise affine, hundreds of times faster than a mesh warp.

    A ``grid`` x ``grid`` lattice of control points spanning the image is
    jittered by N(0, s * side) pixels, s in 0.008-0.03; the displacement is
    interpolated bilinearly between points and applied with ``cv2.remap``.
    """
    height, width = mask.shape
    sigma = rng.uniform(0.008, 0.03)
    jitter = rng.normal(0.0, sigma, (grid, grid, 2)) * (width, height)  # (dx, dy) pixels
    field = cv2.resize(jitter.astype(np.float32), (width, height), interpolation=cv2.INTER_LINEAR)
    columns, rows = np.meshgrid(np.arange(width, dtype=np.float32),
                                np.arange(height, dtype=np.float32))
    map_x, map_y = columns + field[:, :, 0], rows + field[:, :, 1]
    return (_remap(image, map_x, map_y, cv2.INTER_LINEAR),
            _remap(mask, map_x, map_y, cv2.INTER_NEAREST))


#: The ten candidate transforms of the paper's recipe, in the paper's order.
PAPER_TRANSFORMS: tuple[Transform, ...] = (
    horizontal_flip, vertical_flip, gaussian_noise, gaussian_blur,
    contrast(0.5, 1.5, per_channel=True),
    zoom(0.5, 2.0, each_axis=True), rotation(40.0), shear_x, piecewise_affine,
    translation(0.2),
)


class PaperAugmentation:
    """Callable ``(image, mask, seed) -> (image, mask)`` applying 0-4 of the paper's transforms.

    ``image`` is a (size, size, C) float32 canvas in [0, 1], ``mask`` a
    (size, size) uint8 class-index mask; both keep their shape and dtype. The
    same ``seed`` gives the same result, so a run can be reproduced.
    """

    def __init__(self, max_transforms: int = 4,
                 transforms: tuple[Transform, ...] = PAPER_TRANSFORMS) -> None:
        self.max_transforms = max_transforms
        self.transforms = transforms
        self._rng = np.random.default_rng()

    def __call__(
        self, image: np.ndarray, mask: np.ndarray, seed: int | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        rng = np.random.default_rng(seed) if seed is not None else self._rng
        count = int(rng.integers(0, self.max_transforms + 1))
        chosen = np.sort(rng.choice(len(self.transforms), size=count, replace=False))
        out_image, out_mask = image, mask
        for index in chosen:
            out_image, out_mask = self.transforms[index](rng, out_image, out_mask)
        out_image = np.ascontiguousarray(out_image, dtype=np.float32).reshape(image.shape)
        return out_image, np.ascontiguousarray(out_mask, dtype=np.uint8)


def _warp(linear: np.ndarray, shift: tuple[float, float], image: np.ndarray,
          mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Apply ``x -> linear @ (x - centre) + centre + shift``; 0 outside, nearest for the mask."""
    height, width = mask.shape
    centre = np.array([(width - 1) / 2, (height - 1) / 2])
    matrix = np.hstack([linear, (centre - linear @ centre + shift)[:, None]])
    size = (width, height)
    warped = cv2.warpAffine(np.ascontiguousarray(image), matrix, size, flags=cv2.INTER_LINEAR,
                            borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    labels = cv2.warpAffine(np.ascontiguousarray(mask), matrix, size, flags=cv2.INTER_NEAREST,
                            borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    return _keep_channels(warped, image), labels


def _remap(array: np.ndarray, map_x: np.ndarray, map_y: np.ndarray,
           interpolation: int) -> np.ndarray:
    warped = cv2.remap(np.ascontiguousarray(array), map_x, map_y, interpolation,
                       borderMode=cv2.BORDER_CONSTANT)
    return warped.reshape(array.shape)


def _keep_channels(result: np.ndarray, like: np.ndarray) -> np.ndarray:
    """cv2 drops a single channel axis; put it back."""
    return result.reshape(like.shape)


#: Milder candidates for short runs on small data (the training plan's "light"): the
#: paper's ranges (scale x0.5-2, rotate +-40 deg, piecewise affine) need hundreds of
#: epochs to pay off; a run of tens of epochs learns faster from images that still
#: look like the test images. The zoom reaches further out than in (x0.6-1.15): the
#: slices of a volume not trained on are often smaller sections of the same anatomy
#: (on the grey-matter choosing set, ``benchmarks/autoconfig.py --choose``, 30
#: epochs: 86.29 against 85.23 for x0.85-1.15, mean of 2 seeds).
LIGHT_TRANSFORMS: tuple[Transform, ...] = (
    horizontal_flip, contrast(0.75, 1.25, per_channel=False),
    zoom(0.6, 1.15, each_axis=False), rotation(15.0), translation(0.1),
)

#: DataConfig.augmentation -> (candidate transforms, most applied to one image).
STRENGTHS: dict[str, tuple[tuple[Transform, ...], int]] = {
    "paper": (PAPER_TRANSFORMS, 4),
    "light": (LIGHT_TRANSFORMS, 2),
}


def augmentation_for(strength: str) -> PaperAugmentation:
    """The augmentation of a strength: "paper" (0-4 of ten) or "light" (0-2 of five)."""
    if strength not in STRENGTHS:
        raise ValueError(f"augmentation={strength!r}: choose one of {', '.join(STRENGTHS)}.")
    transforms, count = STRENGTHS[strength]
    return PaperAugmentation(count, transforms)
