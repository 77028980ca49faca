"""Training-free refinement for models without click inputs: a random walker.

The clicks are hard seeds (their own pixel); pixels farther than a band from
everything the user called object seed the background, the band scaling with
the object's size; the current mask is kept as it is farther than two bands
from every click and in the parts no click landed on, and redrawn near the
clicks. A positive click with no mask near it (a missed object, whose size
nothing tells yet) tries the band doubled a few times and keeps the answer
whose border lies on the strongest edges (``band_search``). The walker
(scikit-image) decides the rest along the image's edges and those of the
model's probability map, in a crop around the object. The settings were chosen
with ``benchmarks/annotation_effort.py`` on the validation sets (see the README).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import ndimage
from skimage.segmentation import random_walker

from qtseg_core.data.preprocess import match_channels, normalize_min_max
from qtseg_core.interactive.band_search import near_mask, sharpest, walk_coarse
from qtseg_core.interactive.clicks import Click, disk, enforce_clicks
from qtseg_core.interactive.refiners import clicks_in, object_crop
from qtseg_core.pixel_rect import Rect

OBJECT, BACKGROUND = 1, 2


class RandomWalkerRefiner:
    """Random walker on (image, probability) with click seeds, the mask kept away from them.

    band: pixels farther than this from the object (mask and positive clicks)
    seed the background; it is ``band_scale`` x the object's equivalent
    diameter, kept within ``min_band``..``max_band`` pixels. search: how many
    bands (doubling, up to ``max_search_band``) a click on a missed object
    tries. seed_radius: the disk each click seeds (0: its pixel). keep_beyond:
    the mask keeps its label farther than this many bands from every click.
    beta: the walker's edge sensitivity (scikit-image's ``beta``; features are
    in [0, 1]). Bands wider than ``max_band`` are walked on a coarser grid.
    """

    name = "training-free"

    def __init__(self, *, band_scale: float = 1.0, min_band: int = 12, max_band: int = 30,
                 search: int = 4, max_search_band: int = 96, seed_radius: float = 0.0,
                 keep_beyond: float = 2.0, beta: float = 500.0) -> None:
        self.band_scale, self.min_band, self.max_band = band_scale, min_band, max_band
        self.search, self.max_search_band = search, max_search_band
        self.seed_radius, self.keep_beyond, self.beta = seed_radius, keep_beyond, beta

    def band(self, mask: np.ndarray, clicks: Sequence[Click]) -> int:
        """The band in pixels for an object of ``mask``'s area plus the positive clicks."""
        area = int(mask.sum()) + sum(click.positive for click in clicks)
        diameter = 2.0 * np.sqrt(area / np.pi)
        return int(np.clip(self.band_scale * diameter, self.min_band, self.max_band))

    def bands(self, mask: np.ndarray, clicks: Sequence[Click]) -> list[int]:
        """The bands to try: one, or for a positive click with no mask near it, doublings."""
        band, click = self.band(mask, clicks), clicks[-1]
        if self.search <= 1 or not click.positive or near_mask(mask, click, band):
            return [band]
        return sorted({min(band * 2**k, self.max_search_band) for k in range(self.search)})

    def refine(
        self, image: np.ndarray, mask: np.ndarray, clicks: Sequence[Click],
        probability: np.ndarray | None = None,
    ) -> np.ndarray:
        mask = mask.astype(bool)
        tries = [self.walk(image, mask, clicks, probability, b) for b in self.bands(mask, clicks)]
        return enforce_clicks(sharpest(image, tries, clicks[-1]), clicks)

    def walk(
        self, image: np.ndarray, mask: np.ndarray, clicks: Sequence[Click],
        probability: np.ndarray | None, band: int,
    ) -> np.ndarray:
        """The (H, W) bool mask after one walk with a background band of ``band`` pixels."""
        crop = object_crop(mask, clicks, expand=0.3, min_side=4 * band)
        local = clicks_in(crop, clicks)
        seeds = self.seeds(mask[crop.slices], local, band)
        refined = mask.copy()
        if (seeds == OBJECT).any() and (seeds == BACKGROUND).any():
            features = _features(image, probability, crop)
            if band > self.max_band:
                scale = self.max_band / band
                refined[crop.slices] = walk_coarse(features, seeds, local, scale, self.beta)
            else:
                labels = random_walker(features, seeds, beta=self.beta, channel_axis=-1)
                refined[crop.slices] = labels == OBJECT
        else:  # nothing left to call object: a negative click removed the last of it
            refined[crop.slices] = seeds == OBJECT
        return refined

    def seeds(self, mask: np.ndarray, clicks: Sequence[Click], band: int) -> np.ndarray:
        """(h, w) int32: 0 unknown, OBJECT, BACKGROUND (the walker's labels)."""
        mask = mask.astype(bool)
        kept = _drop_rejected_parts(mask, clicks, wider_than=2 * band)
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


def _drop_rejected_parts(
    mask: np.ndarray, clicks: Sequence[Click], wider_than: float
) -> np.ndarray:
    """The mask without its connected parts that a negative click landed on.

    A part that a positive click claims and whose equivalent diameter is over
    ``wider_than`` pixels stays: the walker could not grow it back from its
    clicks, so it is cut near the negative click instead (a leak of a large
    object, not a false alarm of its own).
    """
    labels, _ = ndimage.label(mask)
    rejected = {labels[c.row, c.col] for c in clicks if not c.positive} - {0}
    sizes = np.bincount(labels.ravel())
    claimed = {labels[c.row, c.col] for c in clicks if c.positive} - {0}
    rejected -= {part for part in claimed if 2 * np.sqrt(sizes[part] / np.pi) > wider_than}
    return mask & ~np.isin(labels, list(rejected))


def _features(image: np.ndarray, probability: np.ndarray | None, crop: Rect) -> np.ndarray:
    """(h, w, C) float32 in [0, 1]: the crop's grey or colour values, and P(object) if known."""
    pixels = normalize_min_max(match_channels(image[crop.slices], 3), 0.0, 1.0)
    pixels = pixels[..., :1] if np.allclose(pixels[..., 0], pixels[..., 2]) else pixels
    if probability is None:
        return pixels
    return np.concatenate([pixels, probability[crop.slices][..., None].astype(np.float32)], -1)
