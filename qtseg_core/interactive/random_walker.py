"""Training-free refinement for models without click inputs: a random walker.

The clicks are hard seeds (their own pixel); pixels farther than a band from
everything the user called object seed the background, the band scaling with
the object's size; the current mask is kept as it is farther than two bands
from every click and in the parts no click landed on, and redrawn near the
clicks. The walker (scikit-image) then
decides the rest along the image's edges and those of the model's probability
map. It runs in a crop around the object. The settings were chosen with
``benchmarks/annotation_effort.py`` on the validation volumes (see the README).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import ndimage
from skimage.segmentation import random_walker

from qtseg_core.data.preprocess import match_channels, normalize_min_max
from qtseg_core.interactive.clicks import Click, disk, enforce_clicks
from qtseg_core.interactive.refiners import clicks_in, object_crop
from qtseg_core.pixel_rect import Rect

OBJECT, BACKGROUND = 1, 2


class RandomWalkerRefiner:
    """Random walker on (image, probability) with click seeds, the mask kept away from them.

    band: pixels farther than this from the object (mask and positive clicks)
    seed the background; it is ``band_scale`` x the object's equivalent
    diameter, kept within ``min_band``..``max_band`` pixels. seed_radius: the
    disk each click seeds (0: its pixel). keep_beyond: the mask keeps its label
    farther than this many bands from every click. beta: the walker's edge
    sensitivity (scikit-image's ``beta``; features are in [0, 1]).
    """

    name = "training-free"

    def __init__(self, *, band_scale: float = 1.0, min_band: int = 12, max_band: int = 30,
                 seed_radius: float = 0.0, keep_beyond: float = 2.0,
                 beta: float = 500.0) -> None:
        self.band_scale, self.min_band, self.max_band = band_scale, min_band, max_band
        self.seed_radius, self.keep_beyond, self.beta = seed_radius, keep_beyond, beta

    def band(self, mask: np.ndarray, clicks: Sequence[Click]) -> int:
        """The band in pixels for an object of ``mask``'s area plus the positive clicks."""
        area = int(mask.sum()) + sum(click.positive for click in clicks)
        diameter = 2.0 * np.sqrt(area / np.pi)
        return int(np.clip(self.band_scale * diameter, self.min_band, self.max_band))

    def refine(
        self, image: np.ndarray, mask: np.ndarray, clicks: Sequence[Click],
        probability: np.ndarray | None = None,
    ) -> np.ndarray:
        band = self.band(mask, clicks)
        crop = object_crop(mask, clicks, expand=0.3, min_side=4 * band)
        local = clicks_in(crop, clicks)
        seeds = self.seeds(mask[crop.slices], local, band)
        refined = mask.astype(bool, copy=True)
        if (seeds == OBJECT).any() and (seeds == BACKGROUND).any():
            features = _features(image, probability, crop)
            labels = random_walker(features, seeds, beta=self.beta, channel_axis=-1)
            refined[crop.slices] = labels == OBJECT
        else:  # nothing left to call object: a negative click removed the last of it
            refined[crop.slices] = seeds == OBJECT
        return enforce_clicks(refined, clicks)

    def seeds(self, mask: np.ndarray, clicks: Sequence[Click], band: int) -> np.ndarray:
        """(h, w) int32: 0 unknown, OBJECT, BACKGROUND (the walker's labels)."""
        mask = mask.astype(bool)
        kept = _drop_rejected_parts(mask, clicks)
        seeds = np.zeros(mask.shape, dtype=np.int32)
        positives = np.zeros(mask.shape, dtype=bool)
        for click in clicks:
            if click.positive:
                positives[click.row, click.col] = True
        near = ndimage.distance_transform_edt(~(kept | positives)) <= band
        seeds[~near] = BACKGROUND
        far = _distance_to_clicks(mask.shape, clicks) > self.keep_beyond * band
        seeds[far & near] = np.where(mask[far & near], OBJECT, BACKGROUND)
        seeds[ndimage.binary_erosion(_untouched_parts(kept, clicks))] = OBJECT
        for click in clicks:
            side = OBJECT if click.positive else BACKGROUND
            seeds[disk(mask.shape, click.row, click.col, self.seed_radius)] = side
        return seeds


def _distance_to_clicks(shape: tuple[int, int], clicks: Sequence[Click]) -> np.ndarray:
    """(h, w) float: each pixel's distance to the nearest click."""
    away = np.ones(shape, dtype=bool)
    for click in clicks:
        away[click.row, click.col] = False
    return ndimage.distance_transform_edt(away)


def _untouched_parts(mask: np.ndarray, clicks: Sequence[Click]) -> np.ndarray:
    """The connected parts of the mask that no click landed on (the user left them)."""
    labels, _ = ndimage.label(mask)
    touched = {labels[c.row, c.col] for c in clicks} - {0}
    return mask & ~np.isin(labels, [0, *touched])


def _drop_rejected_parts(mask: np.ndarray, clicks: Sequence[Click]) -> np.ndarray:
    """The mask without its connected parts that a negative click landed on."""
    labels, _ = ndimage.label(mask)
    rejected = {labels[c.row, c.col] for c in clicks if not c.positive} - {0}
    return mask & ~np.isin(labels, list(rejected))


def _features(image: np.ndarray, probability: np.ndarray | None, crop: Rect) -> np.ndarray:
    """(h, w, C) float32 in [0, 1]: the crop's grey or colour values, and P(object) if known."""
    pixels = normalize_min_max(match_channels(image[crop.slices], 3), 0.0, 1.0)
    pixels = pixels[..., :1] if np.allclose(pixels[..., 0], pixels[..., 2]) else pixels
    if probability is None:
        return pixels
    return np.concatenate([pixels, probability[crop.slices][..., None].astype(np.float32)], -1)
