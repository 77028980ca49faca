"""The paper's metrics against hand-computed cases, numpy and torch alike."""

from __future__ import annotations

import csv

import numpy as np
import pytest
import torch

from qtseg_core.metrics import ScoreTable, batch_dice, batch_scores, image_scores, summarize


def _mask(rows: list[str]) -> np.ndarray:
    return np.array([[int(c) for c in row] for row in rows], np.uint8)


GT = _mask(["0110", "0110", "0000", "0000"])  # 4 foreground pixels
PRED = _mask(["0111", "0000", "0000", "0000"])  # TP 2, FP 1, FN 2, TN 11


def test_hand_computed_binary_case():
    scores = image_scores(PRED, GT)
    assert scores["dice"] == pytest.approx(2 * 2 / (2 * 2 + 1 + 2))  # 4/7
    assert scores["iou"] == pytest.approx(2 / 5)
    assert scores["accuracy"] == pytest.approx(13 / 16)
    assert scores["mae"] == pytest.approx(3 / 16)


def test_empty_ground_truth_and_empty_prediction_is_perfect():
    empty = np.zeros((4, 4), np.uint8)
    assert image_scores(empty, empty) == {"dice": 1.0, "iou": 1.0, "accuracy": 1.0, "mae": 0.0}


def test_missed_lesion_and_false_alarm_score_zero():
    empty = np.zeros((4, 4), np.uint8)
    assert image_scores(empty, GT)["dice"] == 0.0  # missed everything
    assert image_scores(GT, empty)["iou"] == 0.0  # predicted on a healthy image


def test_logits_and_probabilities_are_binarised_by_argmax():
    logits = np.stack([1 - PRED, PRED]).astype(np.float32) * 5 - 2
    assert image_scores(logits, GT) == image_scores(PRED, GT)
    foreground = PRED[None].astype(np.float32) * 0.8 + 0.1  # one-channel probability
    assert image_scores(foreground, GT) == image_scores(PRED, GT)


def test_multiclass_is_one_vs_rest_over_foreground_classes():
    gt = _mask(["1122", "1122", "0000", "0000"])
    pred = _mask(["1120", "1222", "0000", "0000"])
    scores = image_scores(pred, gt, num_classes=3)
    assert scores["dice/1"] == pytest.approx(2 * 3 / (2 * 3 + 0 + 1))
    assert scores["dice/2"] == pytest.approx(2 * 3 / (2 * 3 + 1 + 1))
    assert scores["dice"] == pytest.approx((scores["dice/1"] + scores["dice/2"]) / 2)


def test_size_mismatch_says_how_to_fix_it():
    with pytest.raises(ValueError, match="Letterbox.restore"):
        image_scores(np.zeros((4, 5), np.uint8), GT)


def test_summary_is_the_mean_of_per_image_values_times_100(tmp_path):
    table = ScoreTable()
    table.add("a", PRED, GT)
    table.add("b", GT, GT)
    summary = table.summary()
    assert summary["dice"] == pytest.approx(100 * (4 / 7 + 1) / 2)
    assert summary == summarize(table.rows)
    rows = list(csv.DictReader(open(table.write_csv(tmp_path / "scores.csv"))))
    assert [r["id"] for r in rows] == ["a", "b", "mean x100"]


@pytest.mark.parametrize("num_classes", [2, 3])
def test_torch_batch_matches_numpy_per_image(num_classes):
    rng = np.random.default_rng(0)
    gt = rng.integers(0, num_classes, (3, 16, 16))
    gt[2] = 0  # an image with empty ground truth...
    logits = rng.normal(size=(3, num_classes, 16, 16)).astype(np.float32)
    logits[2, 0] = 10  # ...and an empty prediction
    batch = batch_scores(torch.from_numpy(logits), torch.from_numpy(gt), num_classes)
    for i in range(3):
        expected = image_scores(logits[i], gt[i], num_classes)
        for name, values in batch.items():
            assert values[i].item() == pytest.approx(expected[name])
    assert batch_dice(torch.from_numpy(logits), torch.from_numpy(gt), num_classes)[2] == 1.0
