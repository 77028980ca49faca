"""Fine-tune on corrections, end to end on the CPU with real images and a weak model.

One workspace for the module, as the app would have it: a random-weights
model v1 predicted every tile, the annotator corrected most of them, and the
workspace stays open (locked) while the fine-tune runs in a subprocess
through the same JSON-lines protocol the app's button uses.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from qtseg_core.checkpoint import read_metadata
from qtseg_core.finetune import (
    FinetuneCancelled,
    FinetuneOutcome,
    FinetuneSettings,
    apply_outcome,
    images_to_repredict,
    parse_event,
    plan_finetune,
    run_finetune,
    score_model,
)
from qtseg_core.finetune.preview import read_previews
from qtseg_core.inference import predictor_for
from qtseg_core.training.loop import NonFiniteLossError
from qtseg_core.workspace import MaskKind, Workspace
from tests.core.finetune_helpers import correct, nuclei_workspace, weak_model

REPO = Path(__file__).resolve().parents[2]
TILES, CORRECTED = 16, 14
# Measured: a random tiny model learns the nuclei tiles in ~6 epochs at this rate.
QUICK = FinetuneSettings(input_size=64, epochs=8, patience=0, lr=3e-3, batch_size=2,
                         warmup_epochs=0, freeze_batchnorm=False)  # a model from scratch


def start_child(job_file: Path) -> subprocess.Popen:
    """``qtseg finetune --job JOB --events`` as the app starts it."""
    return subprocess.Popen(
        [sys.executable, "-m", "qtseg_core", "finetune", "--job", str(job_file), "--events"],
        cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        text=True)


def predict_and_save(workspace: Workspace, image_ids: list[int]) -> dict[int, np.ndarray]:
    """Predict images with the current model and store them as its predictions."""
    model = workspace.current_model()
    predictor = predictor_for(model.path, device="cpu")
    masks = {}
    for image_id in image_ids:
        masks[image_id] = predictor.predict(workspace.read_image(image_id)).mask
        workspace.save_prediction(image_id, masks[image_id], model.version)
    return masks


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The workspace after one fine-tune through the subprocess protocol, gate applied."""
    root = tmp_path_factory.mktemp("finetune")
    folder, truth = nuclei_workspace(root / "ws", TILES)
    workspace = Workspace.open(folder)
    workspace.register_model(weak_model(root / "weak.safetensors"))
    v1_masks = predict_and_save(workspace, [image.id for image in workspace.images()])
    correct(workspace, truth, CORRECTED)
    job = plan_finetune(workspace, QUICK)
    child = start_child(job.job_file)
    events = [parse_event(line) for line in child.stdout]
    child.wait(timeout=60)
    outcome = FinetuneOutcome.from_dict(events[-1]["outcome"])
    # one validation tile: too few for the gate to install on its own; the app asks and
    # the user says install (the question: tests/app/test_finetune.py)
    result = apply_outcome(workspace, job, outcome, install_unsure=True)
    yield {"ws": workspace, "job": job, "events": events, "outcome": outcome,
           "result": result, "v1_masks": v1_masks, "returncode": child.returncode}
    workspace.close()


def test_button_path_reports_progress_and_finishes(session: dict) -> None:
    kinds = [event["event"] for event in session["events"]]
    assert session["returncode"] == 0
    assert kinds[0] == "status" and kinds[-1] == "done"
    progress = [event for event in session["events"] if event["event"] == "progress"]
    assert [event["epoch"] for event in progress] == list(range(1, QUICK.epochs + 1))
    assert set(progress[0]) >= {"epoch", "epochs", "loss", "val_dice", "eta_s"}


def test_new_model_scores_higher_on_the_same_validation_images(session: dict) -> None:
    job, outcome = session["job"], session["outcome"]
    assert outcome.val_images == len(job.val) >= 1
    assert outcome.new_dice > outcome.old_dice + 10, outcome.summary
    # The gate's figures are the paper's Dice at the original size, reproducible by anyone.
    old = score_model(job.model_path, job.val)
    assert np.mean(list(old.values())) == pytest.approx(outcome.old_dice)


def test_accepted_model_is_current_with_its_provenance(session: dict) -> None:
    ws, job, result = session["ws"], session["job"], session["result"]
    assert result.accepted and result.model.version == "v2"
    current = ws.current_model()
    assert current.version == "v2" and current.parent == "v1"
    assert current.trained_on == job.train_ids
    assert current.scores["val_dice"] == pytest.approx(session["outcome"].new_dice)
    provenance = read_metadata(current.path).provenance
    assert provenance["parent_version"] == "v1"
    assert [item["id"] for item in provenance["trained_on"]] == job.train_ids
    assert read_metadata(current.path).input_size == QUICK.input_size
    assert list(read_metadata(current.path).class_names) == ws.classes()[0]


def test_gate_refuses_a_worse_model_and_keeps_the_current_one(session: dict) -> None:
    ws = session["ws"]
    models_before = [model.version for model in ws.models()]
    # A rate that wrecks the model. With BatchNorm statistics frozen while fine-tuning it can
    # also diverge to NaN (which run is which depends on the process's earlier torch state):
    # either way the user keeps the current model and nothing is registered.
    ruinous = FinetuneSettings(input_size=64, epochs=1, patience=0, lr=0.05, batch_size=2)
    job = plan_finetune(ws, ruinous)
    try:
        outcome = run_finetune(job)
    except NonFiniteLossError:
        outcome = None
    if outcome is not None:
        result = apply_outcome(ws, job, outcome)
        assert outcome.new_dice < outcome.old_dice and not outcome.accepted
        assert not result.accepted and result.model is None
        assert result.message.startswith("kept v2: new model scored")
        assert Path(outcome.candidate_path).is_file()  # kept for inspection, not registered
    assert [model.version for model in ws.models()] == models_before
    assert ws.current_model().version == "v2"


def test_a_diverging_fine_tune_stops_and_registers_nothing(session: dict) -> None:
    ws = session["ws"]
    models_before = [model.version for model in ws.models()]
    # frozen statistics and a constant rate: nothing renormalises or damps the 5.0 step
    diverging = FinetuneSettings(input_size=64, epochs=1, patience=0, lr=5.0, batch_size=2,
                                 freeze_batchnorm=True, scheduler="constant")
    job = plan_finetune(ws, diverging)
    with pytest.raises(NonFiniteLossError, match="lower the learning rate"):
        run_finetune(job)
    assert [model.version for model in ws.models()] == models_before
    assert ws.current_model().version == "v2"


def test_rollback_restores_the_earlier_predictions(session: dict) -> None:
    ws, v1_masks = session["ws"], session["v1_masks"]
    unreviewed = images_to_repredict(ws)
    assert len(unreviewed) == TILES - CORRECTED
    v2_masks = predict_and_save(ws, unreviewed)
    assert any(not np.array_equal(v1_masks[i], v2_masks[i]) for i in unreviewed)
    ws.set_current_model("v1")
    for image_id in unreviewed:
        shown = ws.latest_mask(image_id, MaskKind.PREDICTION,
                               model_version=ws.current_model().version)
        assert np.array_equal(ws.read_mask(shown), v1_masks[image_id])
    assert predict_and_save(ws, unreviewed[:1])[unreviewed[0]].tolist() == \
        v1_masks[unreviewed[0]].tolist()
    ws.set_current_model("v2")


def test_sigterm_cancels_cleanly_and_leaves_the_workspace_alone(session: dict) -> None:
    ws = session["ws"]
    before = (ws.current_model(), ws.models(), sorted(p.name for p in ws.folder.rglob("*.png")))
    job = plan_finetune(ws, QUICK)
    child = start_child(job.job_file)
    events = []
    for line in child.stdout:
        events.append(parse_event(line))
        if events[-1]["event"] == "progress":
            child.send_signal(signal.SIGTERM)
    child.wait(timeout=60)
    assert events[-1]["event"] == "cancelled" and "v2 stays in use" in events[-1]["message"]
    assert child.returncode == 130
    assert not Path(job.output_dir).exists()
    after = (ws.current_model(), ws.models(), sorted(p.name for p in ws.folder.rglob("*.png")))
    assert after == before


def test_cancel_line_on_stdin_cancels_too(session: dict) -> None:
    job = plan_finetune(session["ws"], QUICK)
    child = start_child(job.job_file)
    child.stdin.write("cancel\n")
    child.stdin.flush()
    events = [parse_event(line) for line in child.stdout]
    child.wait(timeout=60)
    assert events[-1]["event"] == "cancelled"
    assert not Path(job.output_dir).exists()


def test_cancel_in_process_raises_and_removes_the_job(session: dict) -> None:
    ws = session["ws"]
    job = plan_finetune(ws, QUICK)
    with pytest.raises(FinetuneCancelled, match="v2 stays in use"):
        run_finetune(job, cancel=lambda: True)
    assert not Path(job.output_dir).exists()
    assert ws.current_model().version == "v2"


def test_job_file_is_json_the_app_can_read(session: dict) -> None:
    job = plan_finetune(session["ws"], QUICK)
    data = json.loads(job.job_file.read_text())
    assert data["model_version"] == "v2" and data["settings"]["input_size"] == 64
    assert {pair["image_id"] for pair in data["train"] + data["val"]} == {
        item.image_id for item in session["ws"].training_items()}


def test_the_job_keeps_both_models_masks_on_a_validation_image_to_compare(session: dict) -> None:
    # what the app's "Install the fine-tuned model?" dialog shows beside the scores
    job, ws = session["job"], session["ws"]
    [preview] = read_previews(job)  # the one validation tile
    assert preview.name == job.val[0].name and preview.truth == job.val[0].mask
    image = ws.read_image(job.val[0].image_id)
    for path, model in ((preview.old_mask, job.model_path),
                        (preview.new_mask, ws.current_model().path)):
        shown = cv2.imread(path, cv2.IMREAD_GRAYSCALE)
        assert np.array_equal(shown, predictor_for(model, device="cpu").predict(image).mask)
    truth = cv2.imread(preview.truth, cv2.IMREAD_GRAYSCALE) > 0
    old, new = (cv2.imread(p, cv2.IMREAD_GRAYSCALE) > 0
                for p in (preview.old_mask, preview.new_mask))
    assert (new == truth).mean() > (old == truth).mean()  # the new model is the closer one
