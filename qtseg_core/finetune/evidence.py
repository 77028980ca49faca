"""The gate's evidence: old and new model scored on the same validation images.

``judge(rows, empty=...) -> Verdict`` decides from per-image Dice pairs alone,
so the fine-tune's process and the workspace's owner (which re-checks, never
trusting the other's flag) reach the same verdict from the same numbers:

- images whose validation mask shows nothing are left out (a model that
  predicts nothing scores 100 on them); with none left it refuses to judge;
- a non-finite score (NaN, inf) refuses the candidate;
- otherwise the candidate is refused when its mean Dice is worse or equal
  (an equal score, often 0 -> 0, a model that still finds nothing, gains
  nothing, and installing it would re-predict every unreviewed image and add
  a version for nothing), and accepted when it is higher, with one bar for
  few images: on fewer than ``FEW_IMAGES`` it is accepted only when it is
  better on every one of at least 2 images by at least ``CLEAR_GAIN`` Dice.
  Else it is ``unsure``: better on average, not shown to be; the caller asks
  the user (the app) or keeps the old model unless told to install (the CLI).
  One image cannot show that a model is better where nobody looked (the demo:
  0 -> 7.8 on its one validation slice, 9.1 -> 6.0 on the untouched ones), and
  on the 2 validation slices of an atlas volume the score swung by up to 8
  points from one epoch to the next (benchmarks/finetune_gain.py).

It reports the mean per-image difference with a bootstrap 95 % interval
(resampling images) and says in words how sure the decision is: with fewer
than ``FEW_IMAGES`` images, or an interval that straddles zero, it says the
decision could go the other way.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np

FEW_IMAGES = 5
#: With fewer than FEW_IMAGES validation images, the gain on each that installs without asking.
CLEAR_GAIN = 10.0
BOOTSTRAP_SAMPLES = 2000
ScoreRow = tuple[int, float, float]  # (image id, old Dice, new Dice), Dice x100


@dataclass(frozen=True)
class Verdict:
    """What the evidence says: ``accepted``, the means, the difference and its spread."""

    accepted: bool
    images: int
    old_dice: float = math.nan
    new_dice: float = math.nan
    difference: float = math.nan
    interval: tuple[float, float] = (math.nan, math.nan)
    better: int = 0
    worse: int = 0
    reason: str = ""
    certainty: str = ""
    unsure: bool = False  # better on average, but too few images clear the bar: ask
    per_image: tuple[ScoreRow, ...] = ()  # the rows judged (image id, old, new)

    @property
    def summary(self) -> str:
        """e.g. 'new 71.2 vs old 64.0 Dice, +7.2 (95 % interval +3.1 to +11.0) on 6 images'."""
        if not self.images:
            return self.reason
        low, high = self.interval
        return (f"new {self.new_dice:.1f} vs old {self.old_dice:.1f} Dice, "
                f"{self.difference:+.1f} (95 % interval {low:+.1f} to {high:+.1f}) on "
                f"{self.images} image(s), better on {self.better}, worse on {self.worse}")


def judge(rows: Sequence[ScoreRow], empty: Collection[int] = ()) -> Verdict:
    """The verdict on ``rows``; ``empty`` lists image ids whose validation mask is empty."""
    bad = [(i, old, new) for i, old, new in rows if not (math.isfinite(old)
                                                          and math.isfinite(new))]
    if bad:
        image_id, old, new = bad[0]
        return Verdict(False, 0, reason=(
            f"refused: scores are not finite on {len(bad)} image(s) (image {image_id}: old "
            f"{old}, new {new}); the new model is broken, keep the old one"))
    if not rows:
        return Verdict(False, 0, reason="refused: no validation image was scored")
    judged = [row for row in rows if row[0] not in set(empty)]
    if not judged:
        return Verdict(False, 0, reason=(
            f"refused to judge: the {len(rows)} validation mask(s) show nothing to segment, "
            "and an empty mask scores 100 for a model that predicts nothing; mark images "
            "with a lesion as validation"))
    return _compare(judged, len(rows) - len(judged))


def _compare(rows: Sequence[ScoreRow], left_out: int) -> Verdict:
    old = np.array([row[1] for row in rows], dtype=float)
    new = np.array([row[2] for row in rows], dtype=float)
    diff = new - old
    better = bool(new.mean() > old.mean())
    unsure = better and not clears_the_bar(diff)
    verdict = Verdict(
        better and not unsure, len(rows), float(old.mean()), float(new.mean()),
        float(diff.mean()), bootstrap_interval(diff), int((diff > 0).sum()),
        int((diff < 0).sum()), unsure=unsure, per_image=tuple(rows))
    reason = _reason(verdict, new.mean() == old.mean())
    if left_out:
        reason += f" ({left_out} validation image(s) with an empty mask left out)"
    return _with_words(verdict, reason)


def clears_the_bar(differences: np.ndarray) -> bool:
    """Whether per-image gains (new - old) of a model better on average show it is better:
    always with FEW_IMAGES or more; with fewer, a gain of CLEAR_GAIN on each of at least 2."""
    if differences.size >= FEW_IMAGES:
        return True
    return differences.size >= 2 and bool((differences >= CLEAR_GAIN).all())


def _reason(verdict: Verdict, equal: bool) -> str:
    if verdict.accepted:
        return "accepted: better than the old model"
    if verdict.unsure:
        return (f"not installed without asking: better on average ({verdict.difference:+.1f}), "
                f"but on {verdict.images} validation image(s) the bar is a gain of at least "
                f"{CLEAR_GAIN:.0f} Dice on each of at least 2 images")
    return "refused: no better than the old model (equal scores)" if equal else (
        "refused: worse than the old model")


def _with_words(verdict: Verdict, reason: str) -> Verdict:
    low, high = verdict.interval
    if verdict.images < FEW_IMAGES:
        certainty = (f"very uncertain: decided on {verdict.images} validation image(s) "
                     f"(the interval {low:+.1f} to {high:+.1f} Dice is only a rough guide); "
                     "validate on more images to be sure")
    elif low > 0 or high < 0:
        certainty = "clear: the whole 95 % interval is on one side of zero"
    else:
        certainty = "uncertain: the 95 % interval includes no change"
    return Verdict(**{**verdict.__dict__, "reason": reason, "certainty": certainty})


def bootstrap_interval(differences: np.ndarray, *, seed: int = 0) -> tuple[float, float]:
    """95 % percentile bootstrap interval of the mean of per-image ``differences``."""
    if differences.size == 1:
        return float(differences[0]), float(differences[0])
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, differences.size, size=(BOOTSTRAP_SAMPLES, differences.size))
    means = differences[picks].mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    return float(low), float(high)
