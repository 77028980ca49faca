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
``THIN_DEPTH`` pixels from its border in a 256-px image, proportionally more in
larger ones (specks and holes of noise left out).
Once the mask is the class, later clicks refine the class. Objects such as a
brain mask or a lesion, whose outline the clicks correct, keep the walker.

A model that has learnt such a class (after a fine-tune on the user's
corrections) predicts a nearly right ribbon, whose errors lie beside its
outline, where the rule above does not look, and a walk from a negative click
there dropped the whole ribbon (one connected part). So when the model's own
mask is a thin class of its intensities (``model_evidence``: its median and
spread, the darker and brighter tissue just outside it, ``SELF_AGREEMENT``;
grey matter between fluid and white matter, white matter above grey matter),
every click corrects that class instead
(``model_class``): a band of intensity levels whose limits each click moves
as little as it can.
The settings were chosen on the validation sets with
``benchmarks/annotation_effort.py`` (see the README).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

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
#: A class whose pixels lie on average at most this many pixels from its border is thin
#: (in an image of at most 256 px a side; scaled with the shorter side above that).
THIN_DEPTH = 4.0
#: Specks and holes of the class up to this many pixels are noise: dropped and filled.
SPECK = 8
#: A mask whose IoU with the class of the clicks so far is at least this is that class.
AGREEMENT = 0.95
#: A model's mask whose IoU with the class of its own intensities is at least this is that class.
SELF_AGREEMENT = 0.6
#: The ring outside a mask, in pixels, whose darker and brighter parts are its neighbours,
RING = 3
#: beyond this many of the mask's robust standard deviations from its median.
NEIGHBOUR_SPREAD = 1.5
LEVELS = 256


@dataclass(frozen=True)
class Evidence:
    """What defines a class: references of it, (mean, standard deviation) each, and the mean
    intensities of what is not it."""

    positive: tuple[tuple[float, float], ...] = ()
    negative: tuple[float, ...] = ()

    def __add__(self, other: Evidence) -> Evidence:
        return Evidence(self.positive + other.positive, self.negative + other.negative)


@dataclass(frozen=True)
class Band:
    """Intensity levels ``low``..``high`` (inclusive); ``middle``: the level of its reference."""

    low: int
    high: int
    middle: int

    @classmethod
    def around(cls, levels: np.ndarray, middle: int) -> Band:
        """The band from the lowest to the highest of ``levels`` ((LEVELS,) bool)."""
        inside = np.nonzero(levels)[0]
        return cls(int(inside.min()), int(inside.max()), middle)

    def holds(self, level: int) -> bool:
        return self.low <= level <= self.high

    def widened(self, level: int) -> Band:
        return Band(min(self.low, level), max(self.high, level), self.middle)

    def without(self, level: int) -> Band:
        """The band with its limit on ``level``'s side of the middle moved just past it."""
        if level >= self.middle:
            return Band(self.low, level - 1, self.middle)
        return Band(level + 1, self.high, self.middle)


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

    def evidence(self, clicks: Sequence[Click], prior: Evidence = Evidence()) -> Evidence:
        """The clicks' references (and their negatives) added to ``prior``."""
        return prior + Evidence(tuple(self.reference(c) for c in clicks if c.positive),
                                tuple(self.reference(c)[0] for c in clicks if not c.positive))

    def mask_evidence(self, mask: np.ndarray) -> Evidence | None:
        """A mask as evidence of its class: its median intensity with its pixels' spread, and
        its neighbours, the darker and the brighter tissue of the ``RING`` outside it.

        A neighbour is the ring's pixels more than ``NEIGHBOUR_SPREAD`` robust spreads
        (1.4826 x the median absolute deviation, which the mask's few pixels of other tissue
        do not widen) below or above the median, by their mean intensity; only when a larger
        share of the ring than of the mask lies there (else they are the class's own tail, in
        pixels the mask missed). None for an empty mask.
        """
        inside = self.grey[mask]
        if inside.size == 0:
            return None
        median = float(np.median(inside))
        reach = NEIGHBOUR_SPREAD * max(1.4826 * float(np.median(np.abs(inside - median))),
                                       MIN_SIGMA)
        ring = self.grey[ndimage.binary_dilation(mask, iterations=RING) & ~mask]
        neighbours = tuple(
            float(ring[beyond(ring)].mean())
            for beyond in (lambda v: v < median - reach, lambda v: v > median + reach)
            if beyond(ring).sum() > SPECK and beyond(ring).mean() > beyond(inside).mean()
        )
        return Evidence(((median, max(float(inside.std()), MIN_SIGMA)),), neighbours)

    def levels_in(self, clicks: Sequence[Click], prior: Evidence = Evidence()) -> np.ndarray | None:
        """(LEVELS,) bool: the intensity levels in the class of ``prior`` and the clicks;
        None without a positive reference."""
        evidence = self.evidence(clicks, prior)
        if not evidence.positive:
            return None
        means = np.array([mean for mean, _ in evidence.positive])
        sigma = max(float(np.sqrt(np.mean([std**2 for _, std in evidence.positive]))), MIN_SIGMA)
        to_positive = np.abs(self.values[:, None] - means).min(axis=1)
        to_negative = (np.abs(self.values[:, None] - np.array(evidence.negative)).min(axis=1)
                       if evidence.negative else np.full(LEVELS, np.inf))
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

    def mask(self, clicks: Sequence[Click], prior: Evidence = Evidence()) -> np.ndarray | None:
        """(H, W) bool: the pixels of the class of ``prior`` and the clicks, without specks and
        holes of up to ``SPECK`` pixels (noise); None without a positive reference."""
        levels = self.levels_in(clicks, prior)
        if levels is None:
            return None
        return _denoised(levels[self.levels])

    def level(self, intensity: float) -> int:
        """The level (0..LEVELS-1) of an intensity in [0, 1]."""
        return int(np.rint(intensity * (LEVELS - 1)))

    def in_band(self, band: Band) -> np.ndarray:
        """(H, W) bool: the pixels of the band's levels, without specks and holes (``mask``)."""
        return _denoised((self.levels >= band.low) & (self.levels <= band.high))

    def contains(self, clicks: Sequence[Click], click: Click) -> bool:
        """Whether ``click``'s pixel lies in the class of ``clicks``."""
        levels = self.levels_in(clicks)
        return levels is not None and bool(levels[self.levels[click.row, click.col]])


def _denoised(mask: np.ndarray) -> np.ndarray:
    """The mask without its specks and holes of up to ``SPECK`` pixels (noise)."""
    return ~_without_specks(~_without_specks(mask))


def _without_specks(mask: np.ndarray) -> np.ndarray:
    """The mask without its connected parts of up to ``SPECK`` pixels."""
    labels, _ = ndimage.label(mask)
    large = np.bincount(labels.ravel()) > SPECK
    large[0] = False
    return large[labels]


def is_thin(mask: np.ndarray, depth: float = THIN_DEPTH) -> bool:
    """Whether the mask's pixels lie on average at most ``depth`` pixels from its border, in
    an image of at most 256 pixels a side; ``depth`` grows with larger images' shorter side
    (a cortex 4 pixels deep at 1 mm is 8 at 0.5 mm)."""
    if not mask.any():
        return False
    scaled = depth * max(1.0, min(mask.shape) / 256)
    return float(ndimage.distance_transform_edt(mask)[mask].mean()) <= scaled


def class_answer(
    classes: IntensityClass, mask: np.ndarray, clicks: Sequence[Click], beyond: float,
    positive_only: bool = False, automatic: np.ndarray | None = None,
) -> np.ndarray | None:
    """The clicks' class when they ask for a thin intensity class, else None (walk).

    mask: the (H, W) bool mask before the newest click. They ask for it when the
    mask is already the class of the clicks before (``AGREEMENT``), or when the
    newest click lies on the side that this class gives it, farther than
    ``beyond`` pixels from the mask's outline, and the class is thin. The robot
    (and a person) clicks where the mask is wrong, so such a click is a correction
    the class had foreseen and the walk had not; a click near the outline only
    moves the outline (a brain mask's last few pixels), which says nothing of a class.
    automatic: the model's own (H, W) bool mask, if any: when it is a thin class of
    its own intensities (``model_evidence``), that class as the clicks correct it
    (``model_class``) instead.
    positive_only: only a positive click asks (a box's object).
    """
    if automatic is not None and (prior := model_evidence(classes, automatic, clicks)) is not None:
        return model_class(classes, clicks, prior, positive_only)
    return _clicks_class(classes, mask, clicks, beyond, positive_only)


def _clicks_class(
    classes: IntensityClass, mask: np.ndarray, clicks: Sequence[Click], beyond: float,
    positive_only: bool,
) -> np.ndarray | None:
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


def model_evidence(
    classes: IntensityClass, automatic: np.ndarray, clicks: Sequence[Click] = (),
) -> Evidence | None:
    """The evidence of the model's mask ``automatic`` when it is a thin class of its own
    intensities (``mask_evidence``) and agrees with it (IoU at least ``SELF_AGREEMENT``),
    else None. A mask that took in some of one neighbour (a grey-matter model trained on
    masks that held white matter's edge) finds only the other in its ring, and its class,
    without that limit, is not thin; the first negative click on the missing side of its
    median stands for that neighbour."""
    prior = classes.mask_evidence(automatic)
    if prior is None:
        return None
    median = prior.positive[0][0]
    for click in clicks:
        mean = classes.reference(click)[0]
        if not click.positive and all((n < median) != (mean < median) for n in prior.negative):
            prior = Evidence(prior.positive, (*prior.negative, mean))
    own = classes.mask((), prior)
    return prior if iou(automatic, own) >= SELF_AGREEMENT and is_thin(own) else None


def model_class(
    classes: IntensityClass, clicks: Sequence[Click], prior: Evidence,
    positive_only: bool = False,
) -> np.ndarray | None:
    """The class of the model's mask (its ``prior``) as the clicks correct it, or None (walk).

    The class is a band of intensity levels, and each click moves the band's limits as
    little as it can: a positive click off the band widens it to the click's level (its
    reference's mean), a negative click in the band moves the nearer limit (the side of the
    band's middle it lies on) to just past its level. A midpoint between references, as the
    clicks' own class uses, moves a limit too far when the model was already near (IoU 0.88
    -> 0.68 after one negative click on an atlas slice). Two other rules did worse on the
    atlas grey matter: a limit moved one standard deviation of the click's tissue further,
    and a negative click that cut only where it lay when moving the limit everywhere changed
    the class by more than 10 % (IoU). None for a negative click after a box
    (``positive_only``).
    """
    if positive_only and not clicks[-1].positive:
        return None
    band = Band.around(classes.levels_in((), prior), classes.level(prior.positive[0][0]))
    for click in clicks:
        level = classes.level(classes.reference(click)[0])
        if click.positive:
            band = band.widened(level)
        elif band.holds(level):
            band = band.without(level)
    return classes.in_band(band)


def _to_outline(mask: np.ndarray, click: Click) -> float:
    """The distance in pixels from ``click`` to the mask's outline (inf for an empty mask)."""
    rows, cols = np.nonzero(mask & ~ndimage.binary_erosion(mask))
    if rows.size == 0:
        return float("inf")
    return float(np.sqrt(((rows - click.row) ** 2 + (cols - click.col) ** 2).min()))
