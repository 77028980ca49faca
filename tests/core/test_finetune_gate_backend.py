"""The fine-tune gate scores its candidate with torch: no ONNX export for a model it may drop."""

from __future__ import annotations

import cv2

from qtseg_core.finetune import TrainingPair
from qtseg_core.finetune.engine import score_model
from qtseg_core.models import onnx_runtime
from qtseg_core.models.inference_fast import BACKEND_VARIABLE
from tests.core.finetune_helpers import nuclei_tiles, weak_model


def test_scoring_a_candidate_starts_no_export_even_with_the_runtime_installed(
    monkeypatch, tmp_path
):
    exports = []
    monkeypatch.setenv(BACKEND_VARIABLE, "auto")  # as a user runs it (the suite: torch)
    monkeypatch.setattr(onnx_runtime, "available", lambda: True)
    monkeypatch.setattr(onnx_runtime, "BackgroundSwitch",
                        lambda *args: exports.append(args) or (_ for _ in ()).throw(AssertionError))
    pairs = []
    for index, (name, image, mask) in enumerate(nuclei_tiles(2)):
        cv2.imwrite(str(tmp_path / f"{name}.png"), image)
        cv2.imwrite(str(tmp_path / f"{name}_mask.png"), mask)
        pairs.append(TrainingPair(index, name, str(tmp_path / f"{name}.png"),
                                  str(tmp_path / f"{name}_mask.png")))

    scores = score_model(weak_model(tmp_path / "candidate.safetensors"), tuple(pairs))

    assert sorted(scores) == [0, 1] and all(0 <= s <= 100 for s in scores.values())
    assert exports == []
