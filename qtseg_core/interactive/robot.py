"""The robot user: the protocol of ``benchmarks/annotation_effort.py``.

Start from the model's automatic mask (click 0). Each next click goes to the
largest error region, false negative or false positive (whichever has more
pixels), at its point farthest from the region's border (the maximum of its
distance transform; the image edge counts as border): positive on a miss,
negative on a false alarm. NoC@t is the number of clicks needed to reach
IoU >= t: 0 if the automatic mask already does, ``max_clicks + 1`` if never.

With a box (the benchmark's ``box+`` modes) the robot's first interaction is
the object's bounding box, each side moved by up to a few pixels (a person's
drag is not exact); it counts as one interaction, and corrective clicks follow.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage

from qtseg_core.interactive.clicks import Click
from qtseg_core.pixel_rect import Rect

#: The thresholds and click counts the benchmark reports.
THRESHOLDS = (0.85, 0.9)
REPORTED_CLICKS = (0, 1, 3, 5)
#: Pixels each side of the robot's box may be off the object's bounding box.
BOX_JITTER = 3


def iou(mask: np.ndarray, truth: np.ndarray) -> float:
    """Intersection over union of two (H, W) masks (nonzero = object); 1.0 when both are empty."""
    mask, truth = mask.astype(bool), truth.astype(bool)
    union = np.logical_or(mask, truth).sum()
    return 1.0 if union == 0 else float(np.logical_and(mask, truth).sum() / union)


def largest_region(errors: np.ndarray) -> np.ndarray:
    """(H, W) bool: the largest 4-connected region of ``errors`` (empty when there is none)."""
    labels, count = ndimage.label(errors)
    if count == 0:
        return np.zeros(errors.shape, dtype=bool)
    sizes = np.bincount(labels.ravel())[1:]
    return labels == 1 + int(np.argmax(sizes))


def interior_point(region: np.ndarray) -> tuple[int, int]:
    """(row, col) of the region's pixel farthest from its border (first one in row order)."""
    padded = np.pad(region, 1)  # the image edge is a border too
    distance = ndimage.distance_transform_edt(padded)[1:-1, 1:-1]
    row, col = np.unravel_index(int(np.argmax(distance)), region.shape)
    return int(row), int(col)


def next_click(mask: np.ndarray, truth: np.ndarray) -> Click | None:
    """Where the robot clicks next on ``mask`` given the ``truth``; None when they agree."""
    mask, truth = mask.astype(bool), truth.astype(bool)
    missed = largest_region(truth & ~mask)
    false_alarm = largest_region(mask & ~truth)
    if not missed.any() and not false_alarm.any():
        return None
    positive = missed.sum() >= false_alarm.sum()
    row, col = interior_point(missed if positive else false_alarm)
    return Click(row, col, positive)


def box_around(
    truth: np.ndarray, rng: np.random.Generator, jitter: int = BOX_JITTER
) -> Rect | None:
    """The object's bounding box with each side moved by -jitter..jitter pixels, cut to the
    image (None when there is no object)."""
    rows, cols = np.nonzero(truth)
    if rows.size == 0:
        return None
    top, left, bottom, right = rng.integers(-jitter, jitter + 1, size=4)
    box = Rect(int(rows.min() + top), int(cols.min() + left),
               int(rows.max() + 1 + bottom), int(cols.max() + 1 + right))
    return box.clip(*truth.shape)


def clicks_to_reach(ious: Sequence[float], threshold: float, max_clicks: int) -> int:
    """NoC@threshold of one image: ``ious[k]`` is the IoU after k clicks."""
    for clicks, value in enumerate(ious[: max_clicks + 1]):
        if value >= threshold:
            return clicks
    return max_clicks + 1


#: A correction step: (clicks so far, the newest last) -> the new (H, W) bool mask.
Correct = Callable[[list[Click]], np.ndarray]
#: The robot's first interaction when it is not a click (a box prompt) -> the new mask.
FirstStep = Callable[[], np.ndarray]


@dataclass
class Trajectory:
    """One image's run: IoU after 0, 1, 2... interactions, the clicks, seconds per correction."""

    ious: list[float]
    clicks: list[Click] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)

    def iou_after(self, clicks: int) -> float:
        """IoU after ``clicks`` clicks (the last one reached when the robot stopped early)."""
        return self.ious[min(clicks, len(self.ious) - 1)]


def run_robot(
    initial: np.ndarray, truth: np.ndarray, correct: Correct, max_clicks: int = 20,
    thresholds: Sequence[float] = THRESHOLDS, reported: Sequence[int] = REPORTED_CLICKS,
    first: FirstStep | None = None,
) -> Trajectory:
    """Click on ``initial`` until the mask is perfect or ``max_clicks`` interactions are spent.

    ``first``, when given, is the first interaction (a box); ``correct`` gets
    the clicks after it. The robot also stops once every threshold is reached
    and every reported count is done: no figure the benchmark prints depends on
    later clicks (``Trajectory.iou_after`` then repeats the last IoU).
    """
    mask = initial.astype(bool)
    trajectory = Trajectory([iou(mask, truth)])
    if first is not None and max_clicks > 0:
        mask = _timed(trajectory, first, truth)
    while len(trajectory.ious) - 1 < max_clicks:
        if _done(trajectory, thresholds, reported):
            break
        click = next_click(mask, truth)
        if click is None:
            break
        trajectory.clicks.append(click)
        mask = _timed(trajectory, lambda: correct(list(trajectory.clicks)), truth)
    return trajectory


def _timed(trajectory: Trajectory, step: FirstStep, truth: np.ndarray) -> np.ndarray:
    """Run one interaction, recording its seconds and the IoU after it."""
    start = time.perf_counter()
    mask = step().astype(bool)
    trajectory.seconds.append(time.perf_counter() - start)
    trajectory.ious.append(iou(mask, truth))
    return mask


def _done(trajectory: Trajectory, thresholds: Sequence[float], reported: Sequence[int]) -> bool:
    clicks = len(trajectory.ious) - 1
    return clicks >= max(reported) and max(trajectory.ious) >= max(thresholds)


def summarise(trajectories: Sequence[Trajectory], max_clicks: int) -> dict:
    """The benchmark's figures for one mode: mean NoC, mean IoU after k clicks, s a click."""
    seconds = [s for t in trajectories for s in t.seconds]
    return {
        "noc": {
            str(t): float(np.mean([clicks_to_reach(r.ious, t, max_clicks) for r in trajectories]))
            for t in THRESHOLDS
        },
        "iou_after": {
            str(k): float(np.mean([r.iou_after(k) for r in trajectories])) for k in REPORTED_CLICKS
        },
        "seconds_per_click": float(np.mean(seconds)) if seconds else 0.0,
    }
