"""Config resolution (defaults < preset < file < flags), the paper's schedules, the loss."""

from __future__ import annotations

import json

import pytest
import torch

from qtseg_core.training import TrainConfig, read_config_file, resolve_config
from qtseg_core.training.losses import SegmentationLoss, soft_dice_loss
from qtseg_core.training.optim import build_optimizer, lr_factor
from tests.core.test_training_fixtures import one_torch_thread  # noqa: F401

DATA = {"data": {"root": "somewhere"}}


def test_defaults_are_the_papers_recipe():
    config = resolve_config(None, DATA)
    assert (config.optimizer, config.lr, config.weight_decay) == ("adamw", 1e-3, 1e-4)
    assert (config.epochs, config.batch_size, config.input_size) == (350, 32, 512)
    assert (config.scheduler, config.step_size, config.gamma, config.min_lr) == (
        "step",
        50,
        0.5,
        1e-5,
    )
    assert (config.ce_weight, config.dice_weight) == (1.0, 1.0)


def test_fives_preset_then_file_then_flags_win_in_that_order(tmp_path):
    config = resolve_config("fives", DATA)
    assert (config.optimizer, config.lr, config.batch_size, config.scheduler) == (
        "sgd",
        0.01,
        4,
        "poly",
    )
    assert config.input_size == 1024
    settings = tmp_path / "run.toml"
    settings.write_text('preset = "fives"\nepochs = 10\nlr = 0.02\n[data]\nroot = "x"\nfold = 2\n')
    config = resolve_config(None, read_config_file(settings), {"lr": 0.05, "data": {"fold": 3}})
    assert (config.preset, config.epochs, config.lr, config.batch_size) == ("fives", 10, 0.05, 4)
    assert (config.data.root, config.data.fold) == ("x", 3)


def test_config_round_trips_through_json():
    config = resolve_config("busi", DATA, {"model": {"base_width": 8}})
    again = TrainConfig.from_dict(json.loads(json.dumps(config.to_dict())))
    assert again == config


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"lr_rate": 1}, "Unknown training config"),
        ({"optimizer": "adam"}, "adamw, sgd"),
        ({"input_size": 500}, "multiple of 32"),
        ({"data": {}}, "No training data"),
    ],
)
def test_mistakes_are_named(change, message):
    with pytest.raises(ValueError, match=message):
        resolve_config(None, {**DATA, **change} if "data" not in change else change)


def test_step_schedule_halves_every_50_epochs_down_to_the_floor():
    config = resolve_config(None, DATA)
    assert [lr_factor(e, config) for e in (0, 49, 50, 100)] == [1.0, 1.0, 0.5, 0.25]
    assert lr_factor(349, config) * config.lr == pytest.approx(1.5625e-5)
    assert lr_factor(400, config) * config.lr == pytest.approx(1e-5)  # 0.5**8 would be lower
    poly = resolve_config("fives", DATA, {"epochs": 10})
    assert lr_factor(0, poly) == 1.0 and 0 < lr_factor(9, poly) < lr_factor(5, poly) < 1


def test_loss_is_low_for_a_right_answer_and_high_for_missing_a_small_lesion():
    target = torch.zeros(1, 32, 32, dtype=torch.long)
    target[0, 10:13, 10:13] = 1  # a 9-pixel lesion
    right = torch.stack([1 - target.float(), target.float()], 1) * 20 - 10
    missed = torch.stack([torch.ones(1, 32, 32), torch.zeros(1, 32, 32)], 1) * 20 - 10
    loss = SegmentationLoss()
    assert loss(right, target)[0] < 0.01
    assert soft_dice_loss(missed, target) > 0.8  # cross-entropy alone would be small here


def test_finetune_preset_is_the_measured_finetune_recipe():
    from qtseg_core.finetune import FinetuneSettings

    config, settings = resolve_config("finetune", DATA), FinetuneSettings()
    assert (config.epochs, config.lr, config.early_stopping_patience, config.batch_size) == (
        settings.epochs, settings.lr, settings.patience, settings.batch_size
    )
    assert (config.scheduler, config.freeze_batchnorm, config.warmup_epochs) == (
        settings.scheduler, settings.freeze_batchnorm, settings.warmup_epochs
    )


def test_adamw_makes_the_same_update_as_torchs_one_tensor_at_a_time_loop():
    torch.manual_seed(0)
    weights = [torch.nn.Parameter(torch.randn(shape)) for shape in ((5, 3), (7,), (2, 4, 3))]
    copies = [torch.nn.Parameter(w.detach().clone()) for w in weights]
    config = resolve_config(None, DATA, {"lr": 1e-2, "weight_decay": 1e-2})
    product = build_optimizer([{"params": weights}], config)
    loop = torch.optim.AdamW(copies, lr=1e-2, weight_decay=1e-2, foreach=False)
    assert product.defaults["fused"]  # the one-pass kernel, on the CPU too
    for step in range(3):
        for ours, theirs in zip(weights, copies, strict=True):
            ours.grad = torch.full_like(ours, step + 1.0) + ours.detach()
            theirs.grad = ours.grad.clone()
        product.step()
        loop.step()
    for ours, theirs in zip(weights, copies, strict=True):
        assert torch.allclose(ours, theirs, atol=1e-6)
