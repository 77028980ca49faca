"""Thin structures defined by their intensity (grey matter on T1): the clicks' intensity class.

A random walker spreads from a click only as far as its background band, so
it cannot follow a ribbon such as the cortex across a whole slice. But grey
matter on T1 is an intensity class, between cerebrospinal fluid and white
matter: one click in it and one in each neighbouring tissue define it across
the image. Here each click's neighbourhood (a disk of ``REFERENCE_RADIUS``)
gives a reference intensity; a pixel belongs to the class when its intensity
lies within ``SPREAD`` standard deviations of a positive click's reference
and nearer to it than to every negative click's reference. The standard
deviation is estimated from the clicks' neighbourhoods, then again from the
pixels found, a few times (ITK's ConfidenceConnected region growing does the
same, there from one seed region). The class is computed on the image's
256-level histogram, so each try costs a table look-up.

When to use it (``class_answer``): only once the clicks show that the user
means such a class: a click on the side that the class of the clicks before it
foresaw (a positive one on more of the same intensity beyond where the walk
reached, a negative one on another intensity it had taken in), far from the
mask's outline, while that class is thin, its pixels on average at most
``THIN_DEPTH`` pixels from its border (specks and holes of noise left out).
Once the mask is the class, later clicks refine the class. Objects such as a
brain mask or a lesion, whose outline the clicks correct, keep the walker.
The settings were chosen on the validation sets with
``benchmarks/annotation_effort.py`` (see the README).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import ndimage

from qtseg_core.data.preprocess import match_channels, normalize_min_max
from qtseg_core.interactive.clicks import Click, disk
from qtseg_core.interactive.robot import iou

#: Pixels around a click whose intensities are its reference.
REFERENCE_RADIUS = 2
#: A pixel is in the class within this many standard deviations of a positive reference.
SPREAD = 2.5
#: Re-estimates of the standard deviation from the pixels found.
ROUNDS = 2
#: The smallest standard deviation used (intensities in [0, 1]): flat regions still spread.
MIN_SIGMA = 0.02
#: A class whose pixels lie on average at most this many pixels from its border is thin.
THIN_DEPTH = 4.0
#: Specks and holes of the class up to this many pixels are noise: dropped and filled.
SPECK = 8
#: A mask whose IoU with the class of the clicks so far is at least this is that class.
AGREEMENT = 0.95
LEVELS = 256


class IntensityClass:
    """The intensity class of the clicks on one image: ``mask(clicks)`` -> (H, W) bool."""

    def __init__(self, image: np.ndarray) -> None:
        # (H, W) in [0, 1]; colour as its luminance
        self.grey = normalize_min_max(match_channels(image, 1)[..., 0], 0.0, 1.0)
        self.levels = np.rint(self.grey * (LEVELS - 1)).astype(np.intp)
        self.counts = np.bincount(self.levels.ravel(), minlength=LEVELS).astype(np.float64)
        self.values = np.arange(LEVELS) / (LEVELS - 1)

    def reference(self, click: Click) -> tuple[float, float]:
        """(mean, standard deviation) of the intensities around ``click``."""
        top, left = max(click.row - REFERENCE_RADIUS, 0), max(click.col - REFERENCE_RADIUS, 0)
        window = self.grey[top : click.row + REFERENCE_RADIUS + 1,
                           left : click.col + REFERENCE_RADIUS + 1]
        near = window[disk(window.shape, click.row - top, click.col - left, REFERENCE_RADIUS)]
        return float(near.mean()), float(near.std())

    def levels_in(self, clicks: Sequence[Click]) -> np.ndarray | None:
        """(LEVELS,) bool: the intensity levels in the class; None without a positive click."""
        positive = [self.reference(c) for c in clicks if c.positive]
        if not positive:
            return None
        means = np.array([mean for mean, _ in positive])
        sigma = max(float(np.sqrt(np.mean([std**2 for _, std in positive]))), MIN_SIGMA)
        to_positive = np.abs(self.values[:, None] - means).min(axis=1)
        negatives = [self.reference(c)[0] for c in clicks if not c.positive]
        to_negative = (np.abs(self.values[:, None] - np.array(negatives)).min(axis=1)
                       if negatives else np.full(LEVELS, np.inf))
        nearest = np.abs(self.values[:, None] - means).argmin(axis=1)
        for _ in range(ROUNDS + 1):
            inside = (to_positive <= SPREAD * sigma) & (to_positive < to_negative)
            sigma = max(self._spread(inside, nearest, means), MIN_SIGMA)
        return inside

    def _spread(self, inside: np.ndarray, nearest: np.ndarray, means: np.ndarray) -> float:
        """The pooled standard deviation of the class's pixels about their nearest reference's
        own mean (one group per positive reference)."""
        variances = []
        for index in range(len(means)):
            weights = self.counts * (inside & (nearest == index))
            if weights.sum() > 10:
                mean = np.average(self.values, weights=weights)
                variances.append(np.average((self.values - mean) ** 2, weights=weights))
        return float(np.sqrt(np.mean(variances))) if variances else 0.0

    def mask(self, clicks: Sequence[Click]) -> np.ndarray | None:
        """(H, W) bool: the pixels of the clicks' class, without specks and holes of up to
        ``SPECK`` pixels (noise); None without a positive click."""
        levels = self.levels_in(clicks)
        if levels is None:
            return None
        return ~_without_specks(~_without_specks(levels[self.levels]))

    def contains(self, clicks: Sequence[Click], click: Click) -> bool:
        """Whether ``click``'s pixel lies in the class of ``clicks``."""
        levels = self.levels_in(clicks)
        return levels is not None and bool(levels[self.levels[click.row, click.col]])


def _without_specks(mask: np.ndarray) -> np.ndarray:
    """The mask without its connected parts of up to ``SPECK`` pixels."""
    labels, _ = ndimage.label(mask)
    large = np.bincount(labels.ravel()) > SPECK
    large[0] = False
    return large[labels]


def is_thin(mask: np.ndarray, depth: float = THIN_DEPTH) -> bool:
    """Whether the mask's pixels lie on average at most ``depth`` pixels from its border."""
    if not mask.any():
        return False
    return float(ndimage.distance_transform_edt(mask)[mask].mean()) <= depth


def class_answer(
    classes: IntensityClass, mask: np.ndarray, clicks: Sequence[Click], beyond: float,
    positive_only: bool = False,
) -> np.ndarray | None:
    """The clicks' class when they ask for a thin intensity class, else None (walk).

    mask: the (H, W) bool mask before the newest click. They ask for it when the
    mask is already the class of the clicks before (``AGREEMENT``), or when the
    newest click lies on the side that this class gives it, farther than
    ``beyond`` pixels from the mask's outline, and the class is thin. The robot
    (and a person) clicks where the mask is wrong, so such a click is a correction
    the class had foreseen and the walk had not; a click near the outline only
    moves the outline (a brain mask's last few pixels), which says nothing of a class.
    """
    before, click = clicks[:-1], clicks[-1]
    previous = classes.mask(before)
    if previous is None:
        return None
    if (previous.any() and iou(mask, previous) >= AGREEMENT) or (
        classes.contains(before, click) == click.positive
        and (click.positive or not positive_only)
        and _to_outline(mask, click) > beyond
        and is_thin(previous)
    ):
        return classes.mask(clicks)
    return None


def _to_outline(mask: np.ndarray, click: Click) -> float:
    """The distance in pixels from ``click`` to the mask's outline (inf for an empty mask)."""
    rows, cols = np.nonzero(mask & ~ndimage.binary_erosion(mask))
    if rows.size == 0:
        return float("inf")
    return float(np.sqrt(((rows - click.row) ** 2 + (cols - click.col) ** 2).min()))
