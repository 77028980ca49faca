"""The training planner on made-up fingerprints, and the plan as `qtseg train` applies it."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from qtseg_core.cli import main
from qtseg_core.data.augment import augmentation_for
from qtseg_core.training import DataConfig, TrainConfig, auto_configure, autoconfig, resolve_config
from qtseg_core.training.fingerprint import DataFingerprint
from qtseg_core.training.optim import lr_factor
from qtseg_core.training.planner import (
    MIN_EPOCHS,
    MIN_STEPS,
    DeviceFacts,
    plan_input_size,
    plan_training,
)
from tests.core.test_training_fixtures import TINY_MODEL, make_generic_dataset, one_torch_thread  # noqa: F401

LAPTOP = DeviceFacts(kind="cpu", memory_gib=8.0, threads=2)
BIG_GPU = DeviceFacts(kind="cuda", memory_gib=80.0, threads=8)


def prints(images: int, side: int = 512, thickness: float | None = 40.0) -> DataFingerprint:
    return DataFingerprint(
        num_images=images,
        num_val_images=max(1, images // 5),
        median_height=side,
        median_width=side,
        max_side=side,
        aspect_ratio=1.0,
        channels=1,
        class_fractions=(0.8, 0.2),
        object_thickness_px=thickness,
    )


def test_tiny_data_gets_a_small_batch_and_enough_optimiser_steps():
    plan = plan_training(prints(12, side=256), LAPTOP)
    assert plan.batch_size == 2
    assert plan.optimizer_steps >= MIN_STEPS and plan.epochs >= MIN_EPOCHS
    assert plan.scheduler == "cosine" and plan.warmup_epochs >= 1
    assert plan.augmentation == "light" and not plan.keep_paper


def test_the_papers_37_slices_get_many_more_steps_than_the_paper_recipe():
    plan = plan_training(prints(37, side=217), LAPTOP)
    paper_steps = 350 * math.ceil(37 / 32)
    assert plan.input_size == 224 and plan.batch_size == 2
    assert plan.optimizer_steps > 2 * paper_steps


def test_small_data_sets_get_about_sixteen_optimiser_steps_per_epoch():
    batches = {n: plan_training(prints(n, side=217), LAPTOP).batch_size for n in (22, 37, 70, 140)}
    assert batches == {22: 2, 37: 2, 70: 4, 140: 8}
    assert plan_training(prints(37, side=217), LAPTOP).steps_per_epoch == 19
    assert plan_training(prints(5_000, side=217), LAPTOP).batch_size == 8  # the CPU's cap
    assert plan_training(prints(400, side=256), BIG_GPU).batch_size == 16


def test_large_images_on_a_small_device_get_a_smaller_input_size():
    small_gpu = DeviceFacts(kind="cuda", memory_gib=2.0)
    assert plan_training(prints(200, side=2048), small_gpu).input_size < 1024
    assert plan_training(prints(200, side=2048), BIG_GPU).input_size == 1024


def test_a_short_budget_on_a_slow_device_shrinks_large_objects_but_not_thin_ones():
    slow = DeviceFacts(kind="cpu", seconds_per_image=0.5, measured_at=256)
    blob = plan_training(prints(40, side=512, thickness=80.0), slow, budget_minutes=5)
    ribbon = plan_training(prints(40, side=512, thickness=4.0), slow, budget_minutes=5)
    unhurried = plan_training(prints(40, side=512, thickness=80.0), slow, budget_minutes=600)
    assert blob.input_size < 256 < unhurried.input_size == 512
    assert ribbon.input_size == 512  # a 4-px ribbon would vanish on a smaller canvas
    assert blob.budget_minutes == 5 and blob.overrides()["epochs"] >= blob.epochs


def test_a_thin_ribbon_on_small_slices_gets_a_larger_canvas_when_the_budget_affords_it():
    ribbon = prints(37, side=217, thickness=4.0)  # grey matter on 217x181 MRI slices
    assert plan_training(ribbon, LAPTOP).input_size == 320  # 1.5x, the masks come out at half
    two_cores = DeviceFacts(kind="cpu", seconds_per_image=0.25, measured_at=224)
    assert plan_training(ribbon, two_cores, budget_minutes=8).input_size == 320
    crawling = DeviceFacts(kind="cpu", seconds_per_image=3.0, measured_at=224)
    assert plan_training(ribbon, crawling, budget_minutes=8).input_size == 224
    blob = prints(37, side=217, thickness=40.0)  # a brain mask keeps the images' size
    assert plan_training(blob, two_cores, budget_minutes=8).input_size == 224


def test_a_cap_on_the_native_size_also_bounds_the_thin_objects_larger_canvas():
    # a fine-tune caps the native size at 256; thin objects lift it to 1.5x that at most
    photo = prints(12, side=1024, thickness=4.0)  # thin objects on 1024-px photos
    assert plan_input_size(photo, LAPTOP, max_native=256)[0] == 384
    assert plan_input_size(photo, LAPTOP)[0] == 992  # uncapped: the images' own size
    ribbon = prints(10, side=233, thickness=6.0)  # the atlas' grey matter: below the bound
    assert plan_input_size(ribbon, LAPTOP, max_native=256)[0] == 320


def test_an_explicit_setting_always_wins_and_the_rest_is_planned_around_it():
    plan = plan_training(prints(37, side=217), LAPTOP, fixed={"batch_size": 16, "input_size": 96})
    assert (plan.batch_size, plan.input_size) == (16, 96)
    assert plan.steps_per_epoch == 3 and plan.optimizer_steps >= MIN_STEPS
    assert plan.reasons["batch_size"] == "set explicitly"


def test_plenty_of_data_on_a_big_gpu_keeps_the_papers_recipe():
    plan = plan_training(prints(900, side=768), BIG_GPU)
    assert plan.keep_paper and plan.overrides() == {"preset": "paper"}
    assert (plan.input_size, plan.batch_size, plan.epochs) == (512, 32, 350)


def test_warm_up_then_cosine_down_to_the_floor_by_epochs_or_by_elapsed_time():
    config = TrainConfig(
        data=DataConfig(root="x"), scheduler="cosine", warmup_epochs=3, epochs=20, min_lr=1e-5
    )
    factors = [lr_factor(epoch, config) for epoch in range(20)]
    assert factors[0] < factors[1] < factors[2] < factors[3] == pytest.approx(1.0)
    assert all(a >= b for a, b in zip(factors[3:], factors[4:], strict=False))
    assert factors[-1] == pytest.approx(0.01)  # min_lr / lr at the last epoch
    assert lr_factor(10, config, progress=1.0) == pytest.approx(0.01)  # min_lr / lr
    assert lr_factor(10, config, progress=0.5) == pytest.approx(0.505)


def test_auto_plan_follows_the_data_and_flags_and_config_files_still_win(tmp_path):
    data = make_generic_dataset(tmp_path / "data")
    overrides = {"data": {"root": str(data), "group_pattern": r"^(.+)_z\d+$"}, "model": TINY_MODEL}
    config, report = auto_configure(None, {"lr": 0.002}, {**overrides, "batch_size": 3})
    assert report is not None and report.fingerprint.median_width == 64
    assert config.preset == "auto" and config.input_size == 64 == report.plan.input_size
    assert config.batch_size == 3 and config.lr == 0.002 and config.scheduler == "cosine"
    assert config.epochs == report.plan.epochs and config.data.augmentation == "light"


def test_preset_paper_keeps_the_published_recipe_exactly(tmp_path):
    data = make_generic_dataset(tmp_path / "data")
    config, report = auto_configure("paper", {}, {"data": {"root": str(data)}})
    assert report is None
    assert config == resolve_config("paper", {}, {"data": {"root": str(data)}})
    assert (config.input_size, config.batch_size, config.epochs, config.scheduler) == (
        512,
        32,
        350,
        "step",
    )


@pytest.mark.slow
def test_qtseg_train_prints_the_plan_and_writes_plan_json(tmp_path, capsys):
    data = make_generic_dataset(tmp_path / "data")
    run = tmp_path / "run"
    args = ["train", str(data), "-o", str(run), "--epochs", "1", "--no-tensorboard"]
    args += ["--group-pattern", r"^(.+)_z\d+$", "--val-fraction", "0.34"]
    for key, value in TINY_MODEL.items():
        args += ["--model-arg", f"{key}={json.dumps(value)}"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "plan: 64px" in out and "thinnest objects" in out
    plan = json.loads((run / "plan.json").read_text())
    assert plan["fingerprint"]["num_images"] == 6 and plan["plan"]["input_size"] == 64
    assert plan["measured"]["epochs_completed"] == 1
    saved = json.loads((run / "config.json").read_text())
    assert saved["preset"] == "auto" and saved["epochs"] == 1


def test_a_busy_cpu_trains_on_one_thread_and_only_that_is_measured(monkeypatch):
    monkeypatch.setattr(autoconfig, "_cpu_busy", lambda: True)
    config = TrainConfig(data=DataConfig(root="x"), model=TINY_MODEL)
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        threads, seconds = autoconfig.fastest_threads(config, 2, 64, torch.device("cpu"))
        assert threads == 1 and seconds > 0 and torch.get_num_threads() == 2
        monkeypatch.setattr(autoconfig, "_cpu_busy", lambda: False)
        assert autoconfig.fastest_threads(config, 2, 64, torch.device("cpu"))[0] == 2
    finally:
        torch.set_num_threads(before)


def test_light_augmentation_is_milder_reproducible_and_keeps_labels():
    image = np.zeros((64, 64, 1), np.float32)
    image[20:44, 20:44] = 1.0
    mask = (image[..., 0] > 0).astype(np.uint8)
    light = augmentation_for("light")
    first, again = light(image, mask, seed=3), light(image, mask, seed=3)
    assert np.array_equal(first[1], again[1]) and set(np.unique(first[1])) <= {0, 1}
    assert light.max_transforms == 2 and len(light.transforms) == 5
    with pytest.raises(ValueError, match="augmentation='strong'"):
        augmentation_for("strong")
