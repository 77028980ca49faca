"""Training augmentation as in the paper (MISSFormer style, the authors' imgaug recipe).

For each image, 0 to 4 of these (uniformly many), identically on image and mask:
flips (each then with probability 0.5), Gaussian noise (sigma = 0.5 % of the
range), Gaussian blur (sigma 1), linear contrast x0.5-1.5 (per channel half the
time), scale 0.5-2 (x and y independently), rotation +-40 deg, x-shear +-16
deg, piecewise affine (scale 0.008-0.03), translation +-20 %.

Where it runs, and why: on the *letterboxed* canvas (``size`` x ``size``),
scaled to [0, 1], before the final min-max to [-1, 1]. This is the authors'
order (augment the padded image, then normalise) and the fastest correct one:
the cost no longer depends on the original resolution, geometry fills with 0
(the padding value, the darkest pixel), the noise and contrast amounts are
fractions of the image's range whatever its dtype, and the network still sees
an exact [-1, 1] min-max input. Masks use nearest-neighbour and fill with 0
(background), so labels stay labels.
"""

from __future__ import annotations

from typing import Any

import albumentations as A
import cv2
import numpy as np


class LinearContrast(A.ImageOnlyTransform):
    """imgaug's LinearContrast on a [0, 1] image: ``0.5 + alpha * (x - 0.5)``, clipped.

    With ``per_channel_p`` a colour image gets one alpha per channel.
    """

    def __init__(
        self, alpha: tuple[float, float] = (0.5, 1.5), per_channel_p: float = 0.5, p: float = 1.0
    ) -> None:
        super().__init__(p=p)
        self.alpha = alpha
        self.per_channel_p = per_channel_p

    def get_params(self) -> dict[str, Any]:
        per_channel = self.py_random.random() < self.per_channel_p
        count = 3 if per_channel else 1
        return {"alphas": [self.py_random.uniform(*self.alpha) for _ in range(count)]}

    def apply(self, img: np.ndarray, alphas: list[float], **params: Any) -> np.ndarray:
        alpha = np.asarray(alphas[: img.shape[-1]] if img.ndim == 3 else alphas[:1], np.float32)
        return np.clip(0.5 + alpha * (img - 0.5), 0.0, 1.0).astype(np.float32, copy=False)


class PiecewiseAffine(A.DualTransform):
    """imgaug-style piecewise affine, hundreds of times faster than ``A.PiecewiseAffine``.

    A ``grid`` x ``grid`` lattice of control points spanning the image is
    jittered by N(0, scale * side) pixels; the displacement is interpolated
    bilinearly between points and applied with ``cv2.remap`` (linear for the
    image, nearest for the mask, 0 outside).
    """

    def __init__(
        self, scale: tuple[float, float] = (0.008, 0.03), grid: int = 4, p: float = 1.0
    ) -> None:
        super().__init__(p=p)
        self.scale = scale
        self.grid = grid

    def get_params_dependent_on_data(
        self, params: dict[str, Any], data: dict[str, Any]
    ) -> dict[str, Any]:
        height, width = params["shape"][:2]
        sigma = self.py_random.uniform(*self.scale)
        jitter = self.random_generator.normal(0.0, sigma, (self.grid, self.grid, 2))
        jitter = (jitter * (width, height)).astype(np.float32)  # (grid, grid, dx dy) pixels
        field = cv2.resize(jitter, (width, height), interpolation=cv2.INTER_LINEAR)
        columns, rows = np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height))
        return {
            "map_x": columns + field[:, :, 0],
            "map_y": rows.astype(np.float32) + field[:, :, 1],
        }

    def apply(
        self, img: np.ndarray, map_x: np.ndarray, map_y: np.ndarray, **params: Any
    ) -> np.ndarray:
        return _remap(img, map_x, map_y, cv2.INTER_LINEAR)

    def apply_to_mask(
        self, mask: np.ndarray, map_x: np.ndarray, map_y: np.ndarray, **params: Any
    ) -> np.ndarray:
        return _remap(mask, map_x, map_y, cv2.INTER_NEAREST)


def _remap(
    array: np.ndarray, map_x: np.ndarray, map_y: np.ndarray, interpolation: int
) -> np.ndarray:
    warped = cv2.remap(array, map_x, map_y, interpolation, borderMode=cv2.BORDER_CONSTANT)
    return warped.reshape(array.shape)  # cv2 drops a single channel axis


def paper_transforms() -> list[A.BasicTransform]:
    """The ten candidate transforms of the paper's recipe, for [0, 1] float32 canvases."""
    constant = {"border_mode": 0, "fill": 0, "fill_mask": 0}  # cv2.BORDER_CONSTANT
    return [
        A.HorizontalFlip(p=0.5),
        A.VerticalFlip(p=0.5),
        A.GaussNoise(std_range=(0.005, 0.005), per_channel=False, p=1.0),
        A.GaussianBlur(blur_limit=0, sigma_limit=(1.0, 1.0), p=1.0),
        LinearContrast((0.5, 1.5), per_channel_p=0.5),
        A.Affine(scale={"x": (0.5, 2.0), "y": (0.5, 2.0)}, p=1.0, **constant),
        A.Affine(rotate=(-40, 40), p=1.0, **constant),
        A.Affine(shear={"x": (-16, 16), "y": (0, 0)}, p=1.0, **constant),
        PiecewiseAffine(scale=(0.008, 0.03), p=1.0),
        A.Affine(translate_percent={"x": (-0.2, 0.2), "y": (-0.2, 0.2)}, p=1.0, **constant),
    ]


class PaperAugmentation:
    """Callable ``(image, mask, seed) -> (image, mask)`` applying 0-4 of :func:`paper_transforms`.

    ``image`` is a (size, size, C) float32 canvas in [0, 1], ``mask`` a
    (size, size) uint8 class-index mask; both keep their shape and dtype. The
    same ``seed`` gives the same result, so a run can be reproduced.
    """

    def __init__(self, max_transforms: int = 4) -> None:
        candidates = paper_transforms()
        choices = [A.NoOp(p=1.0)] + [
            A.SomeOf(candidates, n=count, p=1.0) for count in range(1, max_transforms + 1)
        ]
        self.pipeline = A.Compose([A.OneOf(choices, p=1.0)], strict=True)

    def __call__(
        self, image: np.ndarray, mask: np.ndarray, seed: int | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        if seed is not None:
            self.pipeline.set_random_seed(seed)
        result = self.pipeline(image=image, mask=mask)
        out_image = result["image"].reshape(image.shape).astype(np.float32, copy=False)
        return out_image, result["mask"].astype(np.uint8, copy=False)
