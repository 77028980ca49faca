"""train(config): run folder, checkpoints, exact resume, cancel, early stop, bad inputs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from qtseg_core.checkpoint import load_model, read_metadata
from qtseg_core.data.samples import DatasetError
from qtseg_core.models import build_model
from qtseg_core.training import read_metrics, resume_training, train
from qtseg_core.training.state import load_training_state
from tests.core.test_training_fixtures import (  # noqa: F401
    TINY_MODEL,
    make_generic_dataset,
    one_torch_thread,
    tiny_config,
)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_generic_dataset(tmp_path_factory.mktemp("data") / "set")


@pytest.fixture(scope="module")
def finished_run(dataset, tmp_path_factory: pytest.TempPathFactory):
    """A 2-epoch run and the progress events it sent."""
    events = []
    run = tmp_path_factory.mktemp("runs") / "run"
    return train(tiny_config(dataset, run), progress=events.append), events


def test_run_folder_holds_config_log_and_checkpoints_with_provenance(finished_run):
    result, events = finished_run

    assert result.status == "completed" and result.epochs_completed == 2
    assert [e.epoch for e in events] == [0, 1] and events[-1].eta_s == 0
    assert {p.name for p in result.run_dir.iterdir()} >= {
        "config.json",
        "metrics.jsonl",
        "last.safetensors",
        "best.safetensors",
        "resume.pt",
    }
    assert len(read_metrics(result.run_dir)) == 2
    provenance = read_metadata(result.best_checkpoint).provenance
    assert provenance["epoch"] == result.best_epoch + 1
    assert provenance["validation"]["val_dice"] == pytest.approx(result.best_val_dice)
    assert "grouped" in provenance["data_split"] and provenance["seed"] == 0
    assert read_metadata(result.last_checkpoint).input_size == 64
    saved = json.loads((result.run_dir / "config.json").read_text())
    assert saved["model"]["base_width"] == 8 and saved["epochs"] == 2


def test_resume_continues_with_the_same_losses_as_an_uninterrupted_run(
    dataset, finished_run, tmp_path
):
    straight, _ = finished_run  # 2 epochs in one go
    first_part = train(tiny_config(dataset, tmp_path / "split", epochs=1))
    assert first_part.epochs_completed == 1
    resumed = resume_training(first_part.run_dir, epochs=2)

    assert resumed.epochs_completed == 2
    losses = [record["train_loss"] for record in read_metrics(resumed.run_dir)]
    assert losses == [record["train_loss"] for record in straight.history]
    assert resumed.history[-1]["val_dice"] == straight.history[-1]["val_dice"]


def test_resume_state_loads_without_pickle(finished_run):
    result, _ = finished_run
    state = load_training_state(result.run_dir / "resume.pt")  # weights_only=True inside
    assert state["progress"]["next_epoch"] == 2
    assert isinstance(state["rng"]["torch"], torch.Tensor)


def test_cancel_stops_cleanly_and_the_run_stays_resumable(dataset, tmp_path):
    calls = []
    result = train(
        tiny_config(dataset, tmp_path / "run", epochs=2),
        cancel=lambda: calls.append(1) or len(calls) > 3,
    )
    assert result.status == "cancelled" and result.epochs_completed == 1
    assert resume_training(result.run_dir).epochs_completed == 2


def test_training_on_a_cpu_flushes_denormals_and_hands_the_process_back_unchanged(
    dataset, tmp_path
):
    """Denormal floats (the channel attention's tiny softmax weights) cost a CPU epoch ~25 %."""
    denormal, seen = torch.tensor([1e-40]), []
    train(
        tiny_config(dataset, tmp_path / "run", epochs=1),
        cancel=lambda: seen.append(float(denormal * 1.0)) and False,
    )
    assert seen and set(seen) == {0.0}
    assert float(denormal * 1.0) > 0


def test_early_stopping_after_patience_epochs(dataset, tmp_path):
    config = tiny_config(
        dataset,
        tmp_path / "run",
        epochs=6,
        lr=0.0,
        early_stopping_patience=1,
        scheduler="constant",
        min_lr=0.0,
    )
    result = train(config)
    assert result.status == "early_stopped" and result.epochs_completed == 2


def test_frozen_encoder_keeps_weights_but_updates_batchnorm(dataset, tmp_path):
    result = train(tiny_config(dataset, tmp_path / "run", epochs=1, freeze_encoder_epochs=1))
    torch.manual_seed(0)  # the run seeds its initial weights with config.seed = 0
    initial = build_model("qtseg", **TINY_MODEL).state_dict()
    trained = load_model(result.last_checkpoint).state_dict()

    def changed(prefix: str, statistics: bool) -> list[bool]:
        names = [
            k
            for k in initial
            if k.startswith(prefix)
            and ("running" in k) == statistics
            and initial[k].is_floating_point()
        ]
        return [not torch.equal(initial[k], trained[k]) for k in names]

    assert not any(changed("encoder.", statistics=False))  # weights frozen
    assert all(changed("encoder.", statistics=True))  # BatchNorm in train mode
    assert any(changed("decoder.", statistics=False))


def test_a_corrupt_image_is_skipped_named_and_the_epoch_goes_on(dataset, tmp_path, capsys):
    broken = make_generic_dataset(tmp_path / "broken")
    corrupt = broken / "images" / "vol0_z001.png"
    corrupt.write_bytes(b"not a png at all")
    result = train(tiny_config(broken, tmp_path / "run", epochs=1))

    assert result.status == "completed"
    assert list(result.skipped_images) == [str(corrupt)]
    assert str(corrupt) in read_metrics(result.run_dir)[0]["skipped"]
    assert str(corrupt) in capsys.readouterr().err
    assert corrupt.read_bytes() == b"not a png at all"  # nothing of the user's is touched


def test_a_mask_of_the_wrong_size_is_skipped_and_named(dataset, tmp_path):
    import cv2
    import numpy as np

    broken = make_generic_dataset(tmp_path / "broken")
    wrong = broken / "masks" / "vol1_z000.png"
    cv2.imwrite(str(wrong), np.zeros((10, 10), np.uint8))
    result = train(tiny_config(broken, tmp_path / "run", epochs=1))
    assert result.status == "completed" and str(wrong) in result.skipped_images
    assert "10x10" in result.skipped_images[str(wrong)]


def test_missing_mask_and_empty_folder_fail_before_training_with_the_path(tmp_path):
    missing = make_generic_dataset(tmp_path / "missing")
    (missing / "masks" / "vol2_z002.png").unlink()
    with pytest.raises(DatasetError, match="vol2_z002"):
        train(tiny_config(missing, tmp_path / "run1"))
    empty = tmp_path / "empty"
    (empty / "images").mkdir(parents=True)
    (empty / "masks").mkdir()
    with pytest.raises(DatasetError, match="no layout"):
        train(tiny_config(empty, tmp_path / "run2"))


def test_a_second_run_never_overwrites_the_first(dataset, finished_run):
    result, _ = finished_run
    before = result.best_checkpoint.read_bytes()
    with pytest.raises(ValueError, match="already holds a run"):
        train(tiny_config(dataset, result.run_dir, epochs=1))
    assert result.best_checkpoint.read_bytes() == before
