"""Planning a fine-tune and the gate's bookkeeping, without training (fast).

Real brain MRI and lung CT slices from the demo set. With these five volumes
the split validates on slice blocks inside each volume (too few volumes to
keep whole ones apart); see test_workspace_splits.py for the planner itself.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest

from qtseg_core.cli import main as qtseg
from qtseg_core.finetune import (
    FinetuneError,
    FinetuneJob,
    FinetuneOutcome,
    FinetuneSettings,
    NotEnoughImagesError,
    apply_outcome,
    images_to_repredict,
    note_cancelled,
    parse_event,
    plan_finetune,
)
from qtseg_core.finetune.job import TrainingPair, planned_input_size
from qtseg_core.finetune.settings import finetune_recipe
from qtseg_core.workspace import ReviewStatus, Workspace
from tests.core.finetune_helpers import DEMO, weak_model
from tests.core.workspace_helpers import demo_folder

VOLUMES = {
    "brain1": ("brain1_z011", "brain1_z012"),
    "brain2": ("brain2_z008", "brain2_z009"),
    "breast1": ("breast1_z008",),
    "lung1": ("lung1_z032", "lung1_z033"),
    "lung2": ("lung2_z015",),
}


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    names = tuple(name for names in VOLUMES.values() for name in names)
    ws = Workspace.open(demo_folder(tmp_path, names))
    ws.register_model(weak_model(tmp_path / "weak.safetensors", input_size=512))
    yield ws
    ws.close()


def correct_volume(ws: Workspace, volume: str) -> None:
    """The annotator paints the ground truth of every demo slice of ``volume``."""
    for image in ws.images():
        if image.group == volume:
            truth = cv2.imread(str(DEMO / "ground_truth" / image.name), cv2.IMREAD_GRAYSCALE)
            ws.save_correction(image.id, (truth > 0).astype(np.uint8), "annotator")


def test_one_volume_is_enough_to_start(workspace: Workspace) -> None:
    brain2 = [image for image in workspace.images() if image.group == "brain2"]
    correct_volume(workspace, "brain2")  # slices z008 and z009 of one MRI
    job = plan_finetune(workspace)
    assert [pair.name for pair in job.train] == ["brain2_z008.png"]
    assert [pair.name for pair in job.val] == ["brain2_z009.png"]
    assert "block of slices" in job.split_note
    assert {pair.image_id for pair in job.train + job.val} == {image.id for image in brain2}


def test_no_validation_image_says_what_to_review(workspace: Workspace) -> None:
    brain2 = [image for image in workspace.images() if image.group == "brain2"]
    empty = np.zeros((256, 256), np.uint8)
    workspace.save_correction(brain2[0].id, empty, "annotator")
    with pytest.raises(NotEnoughImagesError,
                       match=r"(?s)validate the new model.*Accept or correct 1 more"):
        plan_finetune(workspace)
    workspace.save_correction(brain2[1].id, empty, "annotator")
    with pytest.raises(NotEnoughImagesError, match="must show something to segment"):
        plan_finetune(workspace)  # empty masks cannot judge a model
    for image in brain2:
        workspace.set_split_choice(image.id, "val", "annotator")
    with pytest.raises(NotEnoughImagesError, match="has 0.*mark one as training"):
        plan_finetune(workspace)


def test_no_model_is_a_clear_error(tmp_path: Path) -> None:
    with Workspace.open(demo_folder(tmp_path, ("brain1_z011",))) as ws, \
            pytest.raises(FinetuneError, match="no model to fine-tune"):
        plan_finetune(ws)


def test_job_round_trips_and_snapshots_the_masks(workspace: Workspace) -> None:
    for volume in VOLUMES:
        correct_volume(workspace, volume)
    job = plan_finetune(workspace, FinetuneSettings(epochs=3))
    assert FinetuneJob.load(job.job_file) == job
    assert FinetuneJob.load(job.output_dir) == job
    assert job.settings.input_size == planned_input_size(job.train, 512) <= 512
    first = job.train[0]
    snapshot = cv2.imread(first.mask, cv2.IMREAD_UNCHANGED).copy()
    workspace.save_correction(first.image_id, np.ones_like(snapshot), "annotator")
    assert np.array_equal(cv2.imread(first.mask, cv2.IMREAD_UNCHANGED), snapshot)


def test_the_job_carries_the_workspace_classes(workspace: Workspace) -> None:
    for volume in VOLUMES:
        correct_volume(workspace, volume)
    workspace.set_classes(["background", "tumour"], [(0, 0, 0), (250, 120, 0)])
    job = plan_finetune(workspace, FinetuneSettings(epochs=3))
    assert job.classes == (("background", (0, 0, 0)), ("tumour", (250, 120, 0)))
    assert FinetuneJob.load(job.job_file).classes == job.classes


def test_more_workspace_classes_than_the_model_has_is_refused(workspace: Workspace) -> None:
    for volume in VOLUMES:
        correct_volume(workspace, volume)
    workspace.set_classes(["background", "tumour", "oedema"], [(0, 0, 0)] * 3)
    with pytest.raises(FinetuneError, match="has 3 classes .* predicts 2 .* cannot add"):
        plan_finetune(workspace)


def test_settings_errors_say_what_to_give() -> None:
    with pytest.raises(ValueError, match="e.g. 96"):
        FinetuneSettings(input_size=100)
    with pytest.raises(ValueError, match="at least 64"):
        FinetuneSettings(input_size=32)
    with pytest.raises(ValueError, match="Unknown fine-tune settings"):
        FinetuneSettings.from_dict({"epochs": 3, "learning_rate": 1e-3})
    assert FinetuneSettings(input_size=512).resolved(128).input_size == 512


def outcome_for(job: FinetuneJob, old: float, new: float) -> FinetuneOutcome:
    """A made-up result (the gate's bookkeeping; real training is in test_finetune.py)."""
    candidate = Path(job.output_dir) / "candidate.safetensors"
    shutil.copyfile(job.model_path, candidate)
    return FinetuneOutcome(
        job_dir=job.output_dir, candidate_path=str(candidate), parent_version=job.model_version,
        old_dice=old, new_dice=new, val_images=len(job.val), accepted=new > old,
        stop_reason="completed", epochs_run=1, best_epoch=1, train_seconds=1.0,
        score_seconds=1.0, per_image=tuple((i, old, new) for i in job.val_ids))


def test_gate_registers_once_with_provenance(workspace: Workspace) -> None:
    for volume in VOLUMES:
        correct_volume(workspace, volume)
    job = plan_finetune(workspace)
    outcome = outcome_for(job, old=40.0, new=55.0)
    result = apply_outcome(workspace, job, outcome)
    assert result.accepted and result.model.version == "v2"
    assert "v2 in use: 55.0 validation Dice vs 40.0 for v1" in result.message
    again = apply_outcome(workspace, job, outcome)
    assert again.model.version == "v2" and len(workspace.models()) == 2
    model = workspace.current_model()
    assert model.parent == "v1" and model.trained_on == job.train_ids
    assert model.settings["validated_on"] == job.val_ids
    assert model.settings["installed_by"] == "the gate"
    assert FinetuneOutcome.from_dict(outcome.to_dict()) == outcome


def test_a_small_gain_on_few_images_is_installed_only_on_the_users_word(
        workspace: Workspace) -> None:
    for volume in VOLUMES:
        correct_volume(workspace, volume)
    job = plan_finetune(workspace)
    assert len(job.val) < 5
    outcome = outcome_for(job, old=40.0, new=45.0)  # +5 on each: better, not shown to be
    kept = apply_outcome(workspace, job, outcome)
    assert not kept.accepted and kept.unsure and workspace.current_model().version == "v1"
    assert "not installed without asking" in kept.message and len(workspace.models()) == 1
    chosen = apply_outcome(workspace, job, outcome, install_unsure=True)
    assert chosen.accepted and workspace.current_model().version == "v2"
    assert "v2 in use (installed on your word)" in chosen.message
    assert workspace.current_model().settings["installed_by"].startswith("the user")
    following = plan_finetune(workspace)  # from v2: a worse model is refused, never asked
    worse = apply_outcome(workspace, following, outcome_for(following, old=45.0, new=40.0),
                          install_unsure=True)
    assert not worse.accepted and not worse.unsure and workspace.current_model().version == "v2"


def test_gate_refuses_when_the_model_in_use_changed(workspace: Workspace) -> None:
    for volume in VOLUMES:
        correct_volume(workspace, volume)
    job = plan_finetune(workspace)
    workspace.register_model(job.model_path, make_current=True)  # e.g. the user loaded v2
    result = apply_outcome(workspace, job, outcome_for(job, old=40.0, new=50.0))
    assert not result.accepted and "changed from v1 to v2" in result.message
    assert workspace.current_model().version == "v2" and len(workspace.models()) == 2


def test_gate_refusal_message(workspace: Workspace) -> None:
    for volume in VOLUMES:
        correct_volume(workspace, volume)
    job = plan_finetune(workspace)
    result = apply_outcome(workspace, job, outcome_for(job, old=63.0, new=61.2))
    assert result.message.startswith("kept v1: new model scored 61.2 vs 63.0 validation Dice (")
    assert "very uncertain: decided on" in result.message
    assert workspace.current_model().version == "v1" and len(workspace.models()) == 1
    other = replace(job, workspace=str(Path(job.workspace).parent / "elsewhere"))
    with pytest.raises(FinetuneError, match="planned for the workspace"):
        apply_outcome(workspace, other, outcome_for(job, 1.0, 2.0))


def test_gate_rechecks_the_scores_instead_of_trusting_the_flag(workspace: Workspace) -> None:
    for volume in VOLUMES:
        correct_volume(workspace, volume)
    job = plan_finetune(workspace)
    worse = replace(outcome_for(job, old=90.0, new=10.0), accepted=True)  # a lying child
    result = apply_outcome(workspace, job, worse)
    assert not result.accepted and "10.0 vs 90.0" in result.message
    broken = replace(outcome_for(job, old=40.0, new=50.0),
                     per_image=tuple((i, 40.0, float("nan")) for i in job.val_ids))
    result = apply_outcome(workspace, job, broken)
    assert not result.accepted and "not finite" in result.message
    assert workspace.current_model().version == "v1" and len(workspace.models()) == 1


def test_gate_keeps_the_old_model_on_equal_scores(workspace: Workspace) -> None:
    for volume in VOLUMES:
        correct_volume(workspace, volume)
    job = plan_finetune(workspace)
    result = apply_outcome(workspace, job, outcome_for(job, old=0.0, new=0.0))
    assert not result.accepted and result.model is None
    assert "kept v1: new model scored 0.0 vs 0.0" in result.message
    assert workspace.current_model().version == "v1" and len(workspace.models()) == 1


def test_gate_refuses_to_judge_on_empty_validation_masks(workspace: Workspace) -> None:
    for volume in VOLUMES:
        correct_volume(workspace, volume)
    job = plan_finetune(workspace)
    for pair in job.val:  # what was snapshotted for validation shows nothing
        cv2.imwrite(pair.mask, np.zeros((256, 256), np.uint8))
    result = apply_outcome(workspace, job, outcome_for(job, old=0.0, new=100.0))
    assert not result.accepted and "refused to judge" in result.message
    assert "show nothing to segment" in result.message


def test_gate_ignores_scores_of_images_the_parent_learnt(workspace: Workspace) -> None:
    for volume in VOLUMES:
        correct_volume(workspace, volume)
    job = plan_finetune(workspace)
    learnt, *others = job.val_ids  # as if the parent had been trained on the first one
    assert others
    outcome = replace(outcome_for(job, old=50.0, new=50.0), per_image=((learnt, 0.0, 100.0),)
                      + tuple((i, 50.0, 40.0) for i in others))
    result = apply_outcome(workspace, replace(job, seen_by_parent=(learnt,)), outcome)
    assert not result.accepted and result.verdict.images == len(others)


def test_images_to_repredict_are_the_unreviewed_ones(workspace: Workspace) -> None:
    images = workspace.images()
    workspace.save_prediction(images[0].id, np.zeros((256, 256), np.uint8), "v1")
    workspace.save_prediction(images[1].id, np.zeros((256, 256), np.uint8), "v1")
    workspace.set_status(images[1].id, ReviewStatus.ACCEPTED, "annotator")
    correct_volume(workspace, "lung1")
    expected = {image.id for image in images} - {images[1].id} - {
        image.id for image in images if image.group == "lung1"}
    assert set(images_to_repredict(workspace)) == expected


def test_cli_says_why_it_cannot_start(workspace: Workspace, capsys: pytest.CaptureFixture) -> None:
    # The workspace is open (locked) here, as when the app has it open.
    assert qtseg(["finetune", str(workspace.folder)]) == 2
    assert "qtseg finetune: error:" in capsys.readouterr().err
    workspace.close()
    assert qtseg(["finetune", str(workspace.folder)]) == 2
    assert "validation" in capsys.readouterr().err


def test_cli_flags_change_only_what_they_name(workspace: Workspace) -> None:
    from qtseg_core.cli.finetune import settings_with_flags

    for volume in VOLUMES:
        correct_volume(workspace, volume)
    recipe = finetune_recipe(len(workspace.split_plan().train))
    assert settings_with_flags(workspace, {}) is None  # the recipe, planned by plan_finetune
    flagged = settings_with_flags(workspace, {"epochs": 3})
    assert flagged == replace(recipe, epochs=3) and not flagged.freeze_batchnorm


def test_cli_keeps_a_model_few_images_cannot_vouch_for_unless_told(
        workspace: Workspace, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture) -> None:
    from qtseg_core.cli import finetune as cli

    for volume in VOLUMES:
        correct_volume(workspace, volume)
    workspace.close()
    # the training is tested in test_finetune.py; here it "gains" 5 Dice on each val image
    monkeypatch.setattr(cli, "_train", lambda job: outcome_for(job, old=40.0, new=45.0))
    assert qtseg(["finetune", str(workspace.folder)]) == 0
    said = capsys.readouterr().out
    assert "kept v1" in said and "--install-candidate" in said
    assert qtseg(["finetune", str(workspace.folder), "--install-if-better"]) == 0
    assert "v2 in use (installed on your word)" in capsys.readouterr().out
    with Workspace.open(workspace.folder, create=False) as reopened:
        assert reopened.current_model().version == "v2"


def finished_outcome(job: FinetuneJob, old: float, new: float) -> FinetuneOutcome:
    """outcome_for, with the outcome.json a finished run leaves in its job folder."""
    outcome = outcome_for(job, old, new)
    Path(job.output_dir, "outcome.json").write_text(json.dumps(outcome.to_dict()))
    return outcome


def test_cli_installs_the_candidate_it_kept_out_without_training_again(
        workspace: Workspace, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture) -> None:
    from qtseg_core.cli import finetune as cli

    for volume in VOLUMES:
        correct_volume(workspace, volume)
    folder = str(workspace.folder)
    workspace.close()
    assert qtseg(["finetune", folder, "--install-candidate"]) == 2  # nothing awaits yet
    assert "Run `qtseg finetune" in capsys.readouterr().err
    # the training is tested in test_finetune.py; here it "gains" 5 Dice on each val image
    monkeypatch.setattr(cli, "_train", lambda job: finished_outcome(job, old=40.0, new=45.0))
    assert qtseg(["finetune", folder]) == 0
    said = capsys.readouterr().out
    assert "kept v1" in said and f"qtseg finetune {folder} --install-candidate" in said
    monkeypatch.setattr(cli, "_train", lambda job: pytest.fail("--install-candidate trains"))
    assert qtseg(["finetune", folder, "--install-candidate"]) == 0
    assert "v2 in use (installed on your word)" in capsys.readouterr().out
    with Workspace.open(folder, create=False) as reopened:
        model = reopened.current_model()
        assert model.version == "v2" and model.parent == "v1"
        assert model.settings["installed_by"].startswith("the user")
    assert qtseg(["finetune", folder, "--install-candidate"]) == 2  # installed: none awaits


def test_only_the_last_fine_tune_awaits_the_users_word(
        workspace: Workspace, capsys: pytest.CaptureFixture) -> None:
    for volume in VOLUMES:
        correct_volume(workspace, volume)
    unsure, worse = plan_finetune(workspace), plan_finetune(workspace)
    assert apply_outcome(workspace, unsure, finished_outcome(unsure, 40.0, 45.0)).unsure
    assert not apply_outcome(workspace, worse, finished_outcome(worse, 40.0, 30.0)).unsure
    folder = str(workspace.folder)
    workspace.close()
    assert qtseg(["finetune", folder, "--install-candidate"]) == 2
    assert "awaits your word" in capsys.readouterr().err
    with Workspace.open(folder, create=False) as reopened:  # both judged: cleaned at open
        assert reopened.current_model().version == "v1"
    assert not Path(unsure.output_dir).exists() and not Path(worse.output_dir).exists()


def test_parse_event_rejects_other_lines() -> None:
    assert parse_event('{"event": "cancelled", "message": "x"}')["event"] == "cancelled"
    for line in ("epoch 3/30 loss 0.4", '{"event": "finished"}', "[1, 2]"):
        with pytest.raises(ValueError):
            parse_event(line)


def test_job_snapshots_are_not_scanned_as_images(tmp_path: Path) -> None:
    folder = demo_folder(tmp_path, ("brain1_z011", "brain2_z008", "breast1_z008"))
    for image in (folder / "images").iterdir():  # images in the workspace folder itself
        image.rename(folder / image.name)
    (folder / "images").rmdir()
    with Workspace.open(folder) as ws:
        ws.register_model(weak_model(tmp_path / "weak.safetensors"))
        for volume in ("brain1", "brain2", "breast1"):
            correct_volume(ws, volume)
        plan_finetune(ws)
    with Workspace.open(folder) as ws:
        assert len(ws.images()) == 3


def test_interrupted_jobs_are_reported_at_the_next_open_once_and_removed(
        workspace: Workspace) -> None:
    for volume in VOLUMES:
        correct_volume(workspace, volume)
    finished, killed = plan_finetune(workspace), plan_finetune(workspace)
    Path(finished.output_dir, "outcome.json").write_text("{}")  # ended by itself
    folder = workspace.folder
    workspace.close()  # the app was killed here

    with Workspace.open(folder) as ws:
        [note] = ws.interrupted_finetunes
        started = killed.created_at[:16].replace("T", " ")
        assert note.startswith(f"The fine-tune of v1 started {started} UTC on "
                               f"{len(killed.train)} images did not finish")
        assert not Path(killed.output_dir).exists()
    with Workspace.open(folder) as ws:
        assert ws.interrupted_finetunes == ()


def test_a_job_the_user_cancelled_is_removed_at_the_next_open_without_a_report(
        workspace: Workspace) -> None:
    """The app exits right after "Cancel it and close" and its child dies before removing
    its job folder: the next start must not say the fine-tune "did not finish"."""
    for volume in VOLUMES:
        correct_volume(workspace, volume)
    cancelled = plan_finetune(workspace)
    note_cancelled(cancelled)
    folder = workspace.folder
    workspace.close()
    with Workspace.open(folder) as ws:
        assert ws.interrupted_finetunes == ()
        assert not Path(cancelled.output_dir).exists()


def test_the_canvas_is_planned_from_the_training_masks(tmp_path: Path) -> None:
    # the planner's rule for thin objects (session 9: grey matter at 320, not 256, +2.2 Dice)
    image = (np.arange(233 * 233) % 251).astype(np.uint8).reshape(233, 233)
    ring = cv2.circle(np.zeros((233, 233), np.uint8), (116, 116), 80, 1, thickness=5)
    disk = cv2.circle(np.zeros((233, 233), np.uint8), (116, 116), 80, 1, thickness=-1)
    pairs = {}
    for name, mask in (("ring", ring), ("disk", disk)):
        cv2.imwrite(str(tmp_path / f"{name}.png"), image)
        cv2.imwrite(str(tmp_path / f"{name}_mask.png"), mask * 255)
        pairs[name] = [TrainingPair(0, name, str(tmp_path / f"{name}.png"),
                                    str(tmp_path / f"{name}_mask.png"))]
    assert planned_input_size(pairs["ring"], 256) == 320  # up to 1.5x the 233-px side
    assert planned_input_size(pairs["disk"], 256) == 224  # native
    assert planned_input_size(pairs["disk"], 128) == 128  # the model's own, when smaller
