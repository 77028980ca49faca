"""The fine-tune button keeps a click-conditioned model click-conditioned: it trains with the
same click simulation as ``qtseg train --interactive`` and keeps the epoch that serves clicks
best; an automatic model's fine-tune stays automatic."""

from __future__ import annotations

from pathlib import Path

import pytest

from qtseg_core.checkpoint import load_checkpoint, load_model, save_model
from qtseg_core.finetune import FinetuneSettings, plan_finetune, run_finetune
from qtseg_core.models import add_click_inputs
from qtseg_core.workspace import Workspace
from tests.core.finetune_helpers import TILE, correct, nuclei_workspace, weak_model

ONE_EPOCH = FinetuneSettings(input_size=TILE, epochs=1, patience=0, lr=3e-3, batch_size=2,
                             warmup_epochs=0)


def parent_model(path: Path, clicks: bool) -> Path:
    weak_model(path)
    if clicks:
        save_model(add_click_inputs(load_model(path)), path, input_size=TILE)
    return path


@pytest.mark.parametrize("clicks", [True, False], ids=["click-conditioned", "automatic"])
def test_a_fine_tune_keeps_the_parent_s_kind(tmp_path: Path, clicks: bool) -> None:
    folder, truth = nuclei_workspace(tmp_path / "ws", 3)
    with Workspace.open(folder) as workspace:
        workspace.register_model(parent_model(tmp_path / "parent.safetensors", clicks))
        correct(workspace, truth)
        outcome = run_finetune(plan_finetune(workspace, ONE_EPOCH))
    candidate = load_checkpoint(outcome.candidate_path)
    assert candidate.model.config.click_inputs is clicks
    scores = candidate.metadata.provenance["validation"]
    assert ("val_click_dice" in scores) is clicks  # the epoch was chosen on the robot's clicks
    if clicks:  # the zero click weights moved: simulated clicks reached the network
        assert candidate.model.click_encoder.conv.weight.abs().sum() > 0
