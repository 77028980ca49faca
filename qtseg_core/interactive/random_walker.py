"""Training-free refinement for models without click inputs: a random walker.

The clicks are hard seeds (their own pixel); pixels farther than a band from
everything the user called object seed the background, the band scaling with
the object's size; the current mask is kept as it is farther than two bands
from every click and in the parts no click landed on, and redrawn near the
clicks. A positive click with no mask near it (a missed object, whose size
nothing tells yet) tries the band doubled a few times and keeps the answer
whose border lies on the strongest edges (``band_search``). The walker
(scikit-image) decides the rest along the image's edges and those of the
model's probability map, in a crop around the object. Once the clicks ask for a
thin intensity class instead (grey matter on T1: a click far from the mask's
outline on the side that the intensity class of the clicks before it foresaw),
the answer is that class across the whole image (``intensity_class``), which a
walk from a click cannot reach along a ribbon; so it is when the model's own
mask (P >= 0.5) is such a class (a model fine-tuned on grey matter), the clicks
then correcting that class. The settings were chosen
with ``benchmarks/annotation_effort.py`` on the validation sets (see the README).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import ndimage

from qtseg_core.data.preprocess import match_channels, normalize_min_max
from qtseg_core.interactive.band_search import near_mask, sharpest, walk_coarse
from qtseg_core.interactive.box_prompt import (
    BACKGROUND,
    BOX_MARGIN,
    CORE_SHARE,
    OBJECT,
    box_core,
    box_seeds,
    check_box,
    grown,
    walk_box,
)
from qtseg_core.interactive.clicks import Click, disk, enforce_clicks
from qtseg_core.interactive.intensity_class import IntensityClass, class_answer
from qtseg_core.interactive.refiners import clicks_in, object_crop
from qtseg_core.interactive.walker_solver import walk_labels
from qtseg_core.pixel_rect import Rect

BOX_CONTEXT = 8  # pixels of background seeds walked around a box and its margin


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
    box_core: the share of a box prompt's height and width, at its middle, that
    seeds the object (``outline``); release: the radius, in bands, of the part of
    that middle a negative click on it stops seeding. intensity_classes: once the
    clicks ask for a thin intensity class (``intensity_class.class_answer``: a click
    farther than ``min_band`` from the mask's outline on the side the class of the
    clicks before it foresaw; grey matter on T1), or the model's mask from
    ``probability`` is such a class, the whole image's class is the answer instead of
    the walk.
    """

    name = "training-free"

    def __init__(self, *, band_scale: float = 1.0, min_band: int = 12, max_band: int = 30,
                 search: int = 4, max_search_band: int = 96, seed_radius: float = 0.0,
                 keep_beyond: float = 2.0, beta: float = 500.0,
                 box_core: float = CORE_SHARE, release: float = 0.25,
                 intensity_classes: bool = True) -> None:
        self.band_scale, self.min_band, self.max_band = band_scale, min_band, max_band
        self.search, self.max_search_band = search, max_search_band
        self.seed_radius, self.keep_beyond, self.beta = seed_radius, keep_beyond, beta
        self.box_core, self.release = box_core, release
        self.intensity_classes = intensity_classes

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
        probability: np.ndarray | None = None, box: Rect | None = None,
    ) -> np.ndarray:
        """The mask after ``clicks``. ``box``: the box that began the run (``outline``);
        a click inside it (and its margin) then redraws only the box, its middle standing
        for a positive click; a click outside it is an ordinary click. Once the clicks ask
        for a thin intensity class the mask is that class: the whole mask without a box, the
        box and its margin after one (and there only on a positive click)."""
        mask = mask.astype(bool)
        clicks = self.standing(mask, clicks)
        area = None if box is None else grown(box, BOX_MARGIN, mask.shape)
        if area is not None and not _holds(area, clicks[-1]):
            box = area = None
        if self.intensity_classes:
            automatic = None if probability is None else probability >= 0.5
            found = class_answer(IntensityClass(image), mask, clicks, beyond=self.min_band,
                                 positive_only=box is not None, automatic=automatic)
            if found is not None:  # a thin structure of one intensity, such as grey matter
                if area is not None:  # the box's object: the class inside the box only
                    found, inside = mask.copy(), found
                    found[area.slices] = inside[area.slices]
                return enforce_clicks(found, clicks)
        tries = [self.walk(image, mask, clicks, probability, b, box)
                 for b in self.bands(mask, clicks)]
        return enforce_clicks(sharpest(image, tries, clicks[-1]), clicks)

    def standing(self, mask: np.ndarray, clicks: Sequence[Click]) -> list[Click]:
        """The clicks still in force, the newest last. A negative click on a part of the mask
        that lies nearer to an earlier positive click on that part than to the part's outline
        takes the positive click back: it rejects what that click found, not its edge (while
        the positive click seeded, the walk grew a fragment of it back around it). A positive
        click whose pixel an earlier answer left off the mask was taken back so."""
        *earlier, newest = clicks
        earlier = [c for c in earlier if not c.positive or mask[c.row, c.col]]
        if newest.positive or not mask[newest.row, newest.col]:
            return [*earlier, newest]
        labels = ndimage.label(mask)[0]
        part = labels == labels[newest.row, newest.col]
        depth = _depth_in(part, newest)
        return [c for c in earlier if not (
            c.positive and part[c.row, c.col]
            and np.hypot(c.row - newest.row, c.col - newest.col) < depth
        )] + [newest]

    def outline(
        self, image: np.ndarray, mask: np.ndarray, box: Rect,
        probability: np.ndarray | None = None,
    ) -> np.ndarray:
        """The (H, W) bool mask with the object inside ``box`` outlined (a box prompt,
        ``box_prompt``): the box and its margin are redrawn, the rest is left as it was."""
        box = check_box(box, mask.shape)
        crop = grown(box, BOX_MARGIN + BOX_CONTEXT, mask.shape)
        seeds = box_seeds(crop.shape, _within(box, crop), BOX_MARGIN, self.box_core)
        inside = walk_box(_features(image, probability, crop), seeds, self.beta)
        refined = mask.astype(bool, copy=True)
        redrawn = grown(box, BOX_MARGIN, mask.shape)
        refined[redrawn.slices] = inside[_within(redrawn, crop).slices]
        return refined

    def walk(
        self, image: np.ndarray, mask: np.ndarray, clicks: Sequence[Click],
        probability: np.ndarray | None, band: int, box: Rect | None = None,
    ) -> np.ndarray:
        """The (H, W) bool mask after one walk with a background band of ``band`` pixels;
        with the run's ``box`` only the box and its margin are walked and redrawn."""
        if box is None:
            crop = object_crop(mask, clicks, expand=0.3, min_side=4 * band)
        else:
            crop = grown(box, BOX_MARGIN + BOX_CONTEXT, mask.shape)
        local = clicks_in(crop, [c for c in clicks if _holds(crop, c)])
        run_box = self._run_box(box, crop, local, band)
        seeds = self.seeds(mask[crop.slices], local, band, run_box)
        if run_box is not None:
            seeds[~run_box[1]] = BACKGROUND  # the box's object lies inside it
        if (seeds == OBJECT).any() and (seeds == BACKGROUND).any():
            features = _features(image, probability, crop)
            if band > self.max_band:
                walked = walk_coarse(features, seeds, local, self.max_band / band, self.beta)
            else:
                walked = walk_labels(features, seeds, self.beta) == OBJECT
        else:  # nothing left to call object: a negative click removed the last of it
            walked = seeds == OBJECT
        refined = mask.copy()
        if box is None:
            refined[crop.slices] = walked
        else:
            redrawn = grown(box, BOX_MARGIN, mask.shape)
            refined[redrawn.slices] = walked[_within(redrawn, crop).slices]
        return refined

    def _run_box(
        self, box: Rect | None, crop: Rect, clicks: Sequence[Click], band: int
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """The run's box in ``crop``: its middle and the box with its margin ((h, w) bool
        each); None without a box. A negative click on the middle releases the middle
        within ``release`` bands of it, so the rest still claims the boxed object (which
        the click then cuts, not drops); None once nothing of the middle is left."""
        if box is None:
            return None
        local = _within(box, crop)
        core = box_core(crop.shape, local, self.box_core)
        for click in clicks:
            if not click.positive and core[click.row, click.col]:
                core &= ~disk(crop.shape, click.row, click.col, self.release * band)
        if not core.any():
            return None
        region = np.zeros(crop.shape, dtype=bool)
        region[grown(local, BOX_MARGIN, crop.shape).slices] = True
        return core, region

    def seeds(
        self, mask: np.ndarray, clicks: Sequence[Click], band: int,
        box: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> np.ndarray:
        """(h, w) int32: 0 unknown, OBJECT, BACKGROUND (the walker's labels). ``box``: the
        run's box (``_run_box``): its middle is seeded and claims its part as a positive
        click would, and the mask's parts inside and outside the box are parts apart."""
        mask = mask.astype(bool)
        core, region = box if box is not None else (np.zeros(mask.shape, dtype=bool), None)
        positives = core.copy()
        for click in clicks:
            if click.positive:
                positives[click.row, click.col] = True
        kept = _drop_rejected_parts(_parts(mask, region), clicks, positives, 2 * band)
        seeds = np.zeros(mask.shape, dtype=np.int32)
        near = ndimage.distance_transform_edt(~(kept | positives)) <= band
        seeds[~near] = BACKGROUND
        far = _distance_to_clicks(mask.shape, clicks) > self.keep_beyond * band
        seeds[far & near] = np.where(mask[far & near], OBJECT, BACKGROUND)
        seeds[ndimage.binary_erosion(_untouched_parts(_parts(kept, region), clicks))] = OBJECT
        seeds[positives] = OBJECT
        for click in clicks:
            side = OBJECT if click.positive else BACKGROUND
            seeds[disk(mask.shape, click.row, click.col, self.seed_radius)] = side
        return seeds


def _holds(rect: Rect, click: Click) -> bool:
    return rect.top <= click.row < rect.bottom and rect.left <= click.col < rect.right


def _within(rect: Rect, crop: Rect) -> Rect:
    """``rect`` in ``crop``'s own coordinates."""
    return Rect(rect.top - crop.top, rect.left - crop.left,
                rect.bottom - crop.top, rect.right - crop.left)


def _depth_in(part: np.ndarray, click: Click) -> float:
    """How far ``click`` lies inside ``part`` ((H, W) bool): its distance to the part's outline."""
    rows, cols = np.nonzero(part)
    top, left = max(rows.min() - 1, 0), max(cols.min() - 1, 0)
    window = np.pad(part[top : rows.max() + 2, left : cols.max() + 2], 1)
    return float(ndimage.distance_transform_edt(window)[click.row - top + 1, click.col - left + 1])


def _distance_to_clicks(shape: tuple[int, int], clicks: Sequence[Click]) -> np.ndarray:
    """(h, w) float: each pixel's distance to the nearest click."""
    away = np.ones(shape, dtype=bool)
    for click in clicks:
        away[click.row, click.col] = False
    return ndimage.distance_transform_edt(away)


def _parts(mask: np.ndarray, region: np.ndarray | None = None) -> np.ndarray:
    """(h, w) int labels of the mask's connected parts (0 off the mask); with ``region``
    (the run's box) what lies inside it and what lies outside are parts apart."""
    if region is None:
        return ndimage.label(mask)[0]
    inner, count = ndimage.label(mask & region)
    outer, _ = ndimage.label(mask & ~region)
    return np.where(outer > 0, outer + count, inner)


def _untouched_parts(labels: np.ndarray, clicks: Sequence[Click]) -> np.ndarray:
    """The parts (``_parts`` labels) that no click landed on (the user left them)."""
    touched = {labels[c.row, c.col] for c in clicks} - {0}
    return ~np.isin(labels, [0, *touched])


def _drop_rejected_parts(
    labels: np.ndarray, clicks: Sequence[Click], positives: np.ndarray, wider_than: float
) -> np.ndarray:
    """The mask (its ``_parts`` labels) without the parts that a negative click landed on.

    A part that a positive click (a pixel of ``positives``) claims and whose
    equivalent diameter is over ``wider_than`` pixels stays: the walker could
    not grow it back from its clicks, so it is cut near the negative click
    instead (a leak of a large object, not a false alarm of its own).
    """
    rejected = {labels[c.row, c.col] for c in clicks if not c.positive} - {0}
    sizes = np.bincount(labels.ravel())
    claimed = set(np.unique(labels[positives]).tolist()) - {0}
    rejected -= {part for part in claimed if 2 * np.sqrt(sizes[part] / np.pi) > wider_than}
    return (labels > 0) & ~np.isin(labels, list(rejected))


def _features(image: np.ndarray, probability: np.ndarray | None, crop: Rect) -> np.ndarray:
    """(h, w, C) float32 in [0, 1]: the crop's grey or colour values, and P(object) if known."""
    pixels = normalize_min_max(match_channels(image[crop.slices], 3), 0.0, 1.0)
    pixels = pixels[..., :1] if np.allclose(pixels[..., 0], pixels[..., 2]) else pixels
    if probability is None:
        return pixels
    return np.concatenate([pixels, probability[crop.slices][..., None].astype(np.float32)], -1)
