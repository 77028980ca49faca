"""Training a click-conditioned QTSeg: simulated clicks reach the model; ``--interactive``
keeps the epoch whose validation Dice after the robot's clicks is best."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import torch
from torch import nn

from qtseg_core import load_model
from qtseg_core.checkpoint import load_checkpoint
from qtseg_core.cli import main
from qtseg_core.interactive.simulation import ClickSimulation, random_clicks
from qtseg_core.training.distributed import DistributedContext
from qtseg_core.training.loop import StepSettings
from qtseg_core.training.validation import validate_clicks
from tests.core.test_cli_train import TINY
from tests.core.test_training_fixtures import make_generic_dataset, one_torch_thread  # noqa: F401


class PredictsNothing(nn.Module):
    """Background everywhere; records the click inputs of every call."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[torch.Tensor | None] = []

    def forward(self, images: torch.Tensor, clicks: torch.Tensor | None = None) -> torch.Tensor:
        self.calls.append(clicks)
        logits = torch.zeros(images.shape[0], 2, *images.shape[-2:])
        logits[:, 0] = 1.0
        return logits


class FollowsClicks(PredictsNothing):
    """Background with no clicks; then the previous mask plus the positive disks, minus the
    negative ones (a perfect click-follower, for what the validation measures)."""

    config = SimpleNamespace(click_inputs=True)

    def forward(self, images: torch.Tensor, clicks: torch.Tensor | None = None) -> torch.Tensor:
        logits = super().forward(images, clicks)
        if clicks is not None:
            wanted = ((clicks[:, 0] > 0) | (clicks[:, 1] > 0)) & ~(clicks[:, 2] > 0)
            logits[:, 1] = wanted.float() * 2.0
        return logits


def batch(side=20):
    images = torch.zeros(2, 3, 64, 64)
    masks = torch.zeros(2, 64, 64, dtype=torch.long)
    masks[:, 20 : 20 + side, 24 : 24 + side] = 1
    return images, masks


def test_the_automatic_share_gets_no_clicks():
    model, (images, masks) = PredictsNothing(), batch()
    ClickSimulation(automatic_share=1.0).forward(model, images, masks)
    final = model.calls[-1]
    assert final is None or not final.any()


def test_clicked_samples_get_a_positive_click_inside_the_missed_object():
    torch.manual_seed(0)
    model, (images, masks) = PredictsNothing(), batch()
    logits, targets = ClickSimulation(automatic_share=0.0, zoom_share=0.0).forward(
        model, images, masks
    )
    assert logits.shape == (2, 2, 64, 64) and torch.equal(targets, masks)
    final = model.calls[-1]  # previous mask, positive, negative click maps
    positive = final[:, 1] > 0
    assert positive.any(dim=(1, 2)).all()
    assert (masks[positive] == 1).float().mean() > 0.8  # the disks lie in the object


def test_zoomed_samples_keep_their_object_on_the_canvas():
    torch.manual_seed(1)
    model, (images, masks) = PredictsNothing(), batch(side=8)
    _, targets = ClickSimulation(automatic_share=0.0, zoom_share=1.0).forward(model, images, masks)
    grown = (targets > 0).float().mean(dim=(1, 2))
    assert (grown > (masks > 0).float().mean(dim=(1, 2))).all()  # the object got bigger


def test_validation_scores_what_the_robot_s_clicks_give():
    images, masks = batch(side=20)
    loader = [{"image": images, "mask": masks, "skipped": []}]
    settings, context = StepSettings(torch.device("cpu")), DistributedContext()
    follows = validate_clicks(FollowsClicks(), loader, settings, context)
    ignores = validate_clicks(PredictsNothing(), loader, settings, context)
    assert ignores == {"val_dice_1_click": 0.0, "val_dice_3_clicks": 0.0, "val_click_dice": 0.0}
    # one 5 px disk in a 20 px square, then two more where the square is still missed
    assert 0 < follows["val_dice_1_click"] < follows["val_dice_3_clicks"] < 100
    assert follows["val_click_dice"] == (follows["val_dice_1_click"] +
                                         follows["val_dice_3_clicks"]) / 3


def test_random_clicks_fall_on_their_side():
    truth = np.zeros((32, 32), dtype=bool)
    truth[8:20, 8:20] = True
    clicks = random_clicks(truth, np.random.default_rng(0), most=3)
    assert any(c.positive for c in clicks)
    assert all(truth[c.row, c.col] == c.positive for c in clicks)


def test_train_interactive_saves_a_click_conditioned_model_that_learned_from_clicks(
    tmp_path, capsys
):
    data = make_generic_dataset(tmp_path / "data")
    run = tmp_path / "run"
    assert main(["train", str(data), "-o", str(run), *TINY, "--epochs", "2", "--interactive"]) == 0
    assert "best validation Dice after clicks" in capsys.readouterr().out
    model = load_model(run / "last.safetensors")
    assert model.config.click_inputs is True
    assert model.click_encoder.conv.weight.abs().sum() > 0  # the click weights moved off zero
    epochs = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    click_scores = [epoch["val_click_dice"] for epoch in epochs]
    assert all("val_dice" in epoch and "val_dice_3_clicks" in epoch for epoch in epochs)
    best = load_checkpoint(run / "best.safetensors").metadata.provenance
    assert best["epoch"] == 1 + int(np.argmax(click_scores))  # chosen on the clicks
    assert epochs[-1]["best_val_dice"] == max(click_scores)
