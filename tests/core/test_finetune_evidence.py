"""The gate's decision on made-up per-image score lists (old Dice, new Dice)."""

from __future__ import annotations

import math

import numpy as np

from qtseg_core.finetune.evidence import bootstrap_interval, judge


def rows(old: list[float], new: list[float]) -> list[tuple[int, float, float]]:
    return [(i, o, n) for i, (o, n) in enumerate(zip(old, new, strict=True))]


def test_a_clearly_better_model_is_accepted_with_a_positive_interval() -> None:
    verdict = judge(rows([50, 60, 55, 40, 70, 65, 58, 62], [60, 66, 63, 52, 75, 70, 66, 70]))
    assert verdict.accepted and verdict.better == 8 and verdict.worse == 0
    low, high = verdict.interval
    assert 0 < low <= verdict.difference <= high
    assert verdict.certainty.startswith("clear")
    assert "+7.8" in verdict.summary and "on 8 image(s)" in verdict.summary


def test_a_worse_model_is_refused() -> None:
    verdict = judge(rows([70, 72, 68, 75, 71, 69], [60, 65, 66, 70, 64, 60]))
    assert not verdict.accepted and verdict.reason.startswith("refused: worse")
    assert verdict.interval[1] < 0


def test_equal_scores_keep_the_old_model() -> None:
    # 0 -> 0: the candidate still finds nothing; installing it would gain nothing.
    for old, new in (([0.0, 0.0], [0.0, 0.0]), ([40.0, 50.0], [50.0, 40.0])):
        verdict = judge(rows(old, new))
        assert not verdict.accepted and verdict.reason.startswith("refused: no better")
    assert judge(rows([40.0, 50.0, 60.0, 70.0, 80.0], [40.0, 50.5, 60.0, 70.0, 80.0])).accepted


def test_mixed_results_say_the_interval_includes_no_change() -> None:
    verdict = judge(rows([50, 60, 55, 40, 70, 65], [58, 52, 60, 35, 75, 62]))
    low, high = verdict.interval
    assert low < 0 < high and verdict.certainty.startswith("uncertain")


def test_few_images_say_how_uncertain() -> None:
    verdict = judge(rows([1.8, 2.9], [89.2, 99.0]))  # the atlas check's 2 validation slices
    assert verdict.accepted and not verdict.unsure and verdict.images == 2
    assert verdict.certainty.startswith("very uncertain: decided on 2 validation image(s)")
    single = judge(rows([40], [45]))
    assert single.interval == (5.0, 5.0) and "decided on 1 validation" in single.certainty


def test_few_images_install_without_asking_only_on_a_large_gain_on_each() -> None:
    # fewer than 5 images: better on average is not enough; the user is asked
    for old, new in (([0.0], [7.8]),  # the demo: one slice, worse where nobody looked
                     ([0.0], [95.0]),  # one image, however large the gain
                     ([40, 50], [45, 48]),  # better on average, worse on one
                     ([40, 50, 60], [60, 70, 69])):  # +9 on one of three
        verdict = judge(rows(old, new))
        assert not verdict.accepted and verdict.unsure, (old, new)
        assert verdict.reason.startswith("not installed without asking: better on average")
    assert judge(rows([40, 50, 60], [50, 60, 70])).accepted  # +10 on each
    # a worse or equal model is refused, not asked about
    for old, new in (([40, 50], [30, 50]), ([0.0], [0.0])):
        verdict = judge(rows(old, new))
        assert not verdict.accepted and not verdict.unsure
    # with 5 images the mean decides, as before
    assert judge(rows([40, 50, 60, 70, 80], [45, 48, 61, 70, 80])).accepted


def test_non_finite_scores_refuse_the_candidate() -> None:
    verdict = judge(rows([40, 50], [math.nan, 90]))
    assert not verdict.accepted and "not finite" in verdict.reason and "image 0" in verdict.reason


def test_empty_validation_masks_are_not_judged() -> None:
    # A model predicting nothing scores 100 on an empty mask: such images say nothing.
    verdict = judge(rows([80, 0], [0, 100]), empty={1})
    assert not verdict.accepted and verdict.images == 1 and "1 validation image(s) with an " \
        "empty mask left out" in verdict.reason
    refused = judge(rows([0, 0], [100, 100]), empty={0, 1})
    assert not refused.accepted and refused.reason.startswith("refused to judge")


def test_bootstrap_interval_brackets_the_mean() -> None:
    diffs = np.random.default_rng(1).normal(3.0, 2.0, size=40)
    low, high = bootstrap_interval(diffs)
    assert low < diffs.mean() < high and 0.5 < high - low < 2.5
