"""Training-free refinement for models without click inputs: a random walker.

The clicks are hard seeds; the current mask's other parts seed themselves, and
pixels far from everything the user called object seed the background. The
walker (scikit-image) then decides the band in between along the image's edges
and those of the model's probability map. It runs in a crop around the object.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import ndimage
from skimage.segmentation import random_walker

from qtseg_core.data.preprocess import match_channels, normalize_min_max
from qtseg_core.interactive.clicks import Click, disk, enforce_clicks
from qtseg_core.interactive.refiners import Crop, object_crop

OBJECT, BACKGROUND = 1, 2


class RandomWalkerRefiner:
    """Random walker on (image, probability) with click and mask seeds.

    band: pixels farther than this from the object (mask and positive clicks)
    seed the background. seed_radius: the disk each click seeds. beta: the
    walker's edge sensitivity (scikit-image's ``beta``; features are in [0, 1]).
    """

    name = "training-free"

    def __init__(self, *, band: int = 20, seed_radius: float = 2.0, beta: float = 500.0) -> None:
        self.band, self.seed_radius, self.beta = band, seed_radius, beta

    def refine(
        self, image: np.ndarray, mask: np.ndarray, clicks: Sequence[Click],
        probability: np.ndarray | None = None,
    ) -> np.ndarray:
        crop = object_crop(mask, clicks, expand=0.3, min_side=4 * self.band)
        local = crop.shift(clicks)
        seeds = self.seeds(mask[crop.slices], local)
        refined = mask.astype(bool, copy=True)
        if (seeds == OBJECT).any() and (seeds == BACKGROUND).any():
            features = _features(image, probability, crop)
            labels = random_walker(features, seeds, beta=self.beta, channel_axis=-1)
            refined[crop.slices] = labels == OBJECT
        else:  # nothing left to call object: a negative click removed the last of it
            refined[crop.slices] = seeds == OBJECT
        return enforce_clicks(refined, clicks)

    def seeds(self, mask: np.ndarray, clicks: Sequence[Click]) -> np.ndarray:
        """(h, w) int32: 0 unknown, OBJECT, BACKGROUND (the walker's labels)."""
        mask = mask.astype(bool)
        kept = _drop_rejected_parts(mask, clicks)
        seeds = np.zeros(mask.shape, dtype=np.int32)
        seeds[ndimage.binary_erosion(kept, iterations=2)] = OBJECT
        positives = np.zeros(mask.shape, dtype=bool)
        for click in clicks:
            if click.positive:
                positives[click.row, click.col] = True
        near = ndimage.distance_transform_edt(~(kept | positives)) <= self.band
        seeds[~near] = BACKGROUND
        for click in clicks:
            seeds[disk(mask.shape, click.row, click.col, self.seed_radius)] = (
                OBJECT if click.positive else BACKGROUND
            )
        return seeds


def _drop_rejected_parts(mask: np.ndarray, clicks: Sequence[Click]) -> np.ndarray:
    """The mask without its connected parts that a negative click landed on."""
    labels, _ = ndimage.label(mask)
    rejected = {labels[c.row, c.col] for c in clicks if not c.positive} - {0}
    return mask & ~np.isin(labels, list(rejected))


def _features(image: np.ndarray, probability: np.ndarray | None, crop: Crop) -> np.ndarray:
    """(h, w, C) float32 in [0, 1]: the crop's grey or colour values, and P(object) if known."""
    pixels = normalize_min_max(match_channels(image[crop.slices], 3), 0.0, 1.0)
    pixels = pixels[..., :1] if np.allclose(pixels[..., 0], pixels[..., 2]) else pixels
    if probability is None:
        return pixels
    return np.concatenate([pixels, probability[crop.slices][..., None].astype(np.float32)], -1)
