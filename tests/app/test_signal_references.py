"""Emitting many signals does not take references from True (PySide6 6.12.0; issue 13)."""

from __future__ import annotations

import sys

import numpy as np

from qtseg_app.services import PredictionService  # importing the services applies the fix


def test_thousands_of_emits_leave_true_as_it_was(qtbot) -> None:
    service = PredictionService(lambda image_id: np.zeros((4, 4), np.uint8))
    before = sys.getrefcount(True)
    for waiting in range(5_000):  # a Predict all emits this once per image and more
        service.queue_changed.emit(waiting)
    assert abs(sys.getrefcount(True) - before) < 50  # 5,000 fewer without the fix
