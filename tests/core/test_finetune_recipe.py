"""The fine-tune recipe's knobs: encoder learning rate, warm-up, frozen BatchNorm statistics."""

from __future__ import annotations

from dataclasses import replace

import torch

from qtseg_core.finetune.settings import FinetuneSettings, finetune_recipe
from qtseg_core.models import build_model
from qtseg_core.training import resolve_config
from qtseg_core.training.loop import freeze_batchnorm_statistics
from qtseg_core.training.optim import build_optimizer, lr_factor, parameter_groups
from tests.core.finetune_helpers import TINY

PAIRS = {"train_pairs": [("a.png", "a.png")], "val_pairs": [("b.png", "b.png")]}


def config(**values: object):  # noqa: ANN201
    return resolve_config("finetune", overrides={"data": PAIRS, **values})


def test_the_encoder_learns_more_slowly() -> None:
    model = build_model("qtseg", **TINY)
    optimizer = build_optimizer(parameter_groups(model, config(encoder_lr_scale=0.1)),
                                config(encoder_lr_scale=0.1))
    encoder, rest = optimizer.param_groups
    assert encoder["lr"] == config().lr * 0.1 and rest["lr"] == config().lr
    assert len(encoder["params"]) + len(rest["params"]) == len(list(model.parameters()))
    assert len(parameter_groups(model, config())) == 1


def test_warm_up_ramps_the_learning_rate() -> None:
    warm = config(warmup_epochs=3, scheduler="constant")
    assert [lr_factor(e, warm) for e in range(5)] == [0.25, 0.5, 0.75, 1.0, 1.0]


def test_frozen_batchnorm_keeps_its_statistics() -> None:
    model = build_model("qtseg", **TINY).train()
    before = {k: v.clone() for k, v in model.state_dict().items() if "running_mean" in k}
    freeze_batchnorm_statistics(model)
    model(torch.randn(2, 3, 64, 64) * 5 + 3)
    after = model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    model.train()
    model(torch.randn(2, 3, 64, 64) * 5 + 3)
    assert not all(torch.equal(before[k], model.state_dict()[k]) for k in before)


def test_recipe_is_a_function_of_the_data_size() -> None:
    few, many = finetune_recipe(1), finetune_recipe(400)
    assert few.epochs > many.epochs and many.epochs >= 30
    assert few.patience < few.epochs


def test_a_handful_of_corrections_gets_enough_steps_to_find_a_new_lesion() -> None:
    # benchmarks/finetune_gain.py unseen-volume: 60 steps on 5 slices learnt nothing
    # (2.8 Dice on untouched slices), 160 steps reached 32; atlas grey matter, 10 slices:
    # cosine decay over 160 steps stopped learning too early, over 240 it did not, and
    # 360 did better than 240 on the choosing block (87.3 -> 88.9).
    steps = {}
    for images in (5, 8, 10, 12):
        recipe = finetune_recipe(images)
        steps[images] = recipe.epochs * -(-images // recipe.batch_size)
        assert recipe.patience >= recipe.epochs // 3
    assert min(steps.values()) >= 240 and steps[10] >= 360  # 5-8 images: the 120-epoch cap
    assert finetune_recipe(1).epochs == 120  # the epoch cap: one image gets 120 steps
    assert finetune_recipe(400).epochs == 30


def test_batchnorm_statistics_train_once_the_images_fill_a_batch() -> None:
    # benchmarks/finetune_gain.py atlas-volume: 10 slices, frozen statistics stalled
    # (validation Dice <= 52), training ones reached 97.8; one image overfits unfrozen.
    assert finetune_recipe(1).freeze_batchnorm and finetune_recipe(3).freeze_batchnorm
    assert not finetune_recipe(4).freeze_batchnorm and not finetune_recipe(10).freeze_batchnorm
    assert not finetune_recipe(8, batch_size=8).freeze_batchnorm
    assert finetune_recipe(7, batch_size=8).freeze_batchnorm


def test_plain_settings_are_the_recipe_bar_the_knobs_it_sets_from_the_data_size() -> None:
    # the settings dialog's fields and a caller's FinetuneSettings(epochs=...) start from these
    assert replace(finetune_recipe(10), epochs=60, patience=20) == FinetuneSettings()


def test_the_recipe_decays_the_learning_rate_to_its_floor_at_the_last_epoch() -> None:
    recipe = finetune_recipe(10).resolved(256)
    run = config(**recipe.train_overrides())
    rates = [lr_factor(epoch, run) * run.lr for epoch in range(recipe.epochs)]
    assert rates[recipe.warmup_epochs] == run.lr  # full rate after the warm-up
    assert rates == sorted(rates[:recipe.warmup_epochs + 1]) + sorted(
        rates[recipe.warmup_epochs + 1:], reverse=True)
    assert abs(rates[-1] - run.min_lr) < 1e-9
