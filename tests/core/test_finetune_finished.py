"""A fine-tune whose child finished after the app was closed is judged at the next start.

The child writes ``outcome.json``; the app applies it through the gate. When the
app is closed or killed in between, the next open keeps that job folder
(``Workspace.finished_finetunes``) and ``apply_finished_jobs`` lets the gate decide
then, instead of the finished work being cleaned away unjudged.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qtseg_core.finetune import apply_finished_jobs, apply_outcome, plan_finetune
from qtseg_core.io import write_json_atomic
from qtseg_core.workspace import Workspace
from tests.core.finetune_helpers import weak_model
from tests.core.test_finetune_plan import VOLUMES, correct_volume, outcome_for
from tests.core.workspace_helpers import demo_folder


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A workspace with every demo volume corrected and the weak model as v1 (closed)."""
    names = tuple(name for names in VOLUMES.values() for name in names)
    folder = demo_folder(tmp_path, names)
    with Workspace.open(folder) as ws:
        ws.register_model(weak_model(tmp_path / "weak.safetensors", input_size=512))
        for volume in VOLUMES:
            correct_volume(ws, volume)
    return folder


def finish_then_kill(folder: Path, old: float, new: float) -> Path:
    """Plan a job and write the outcome as the child does; the app dies before applying it."""
    with Workspace.open(folder) as ws:
        job = plan_finetune(ws)
        write_json_atomic(Path(job.output_dir, "outcome.json"),
                          outcome_for(job, old=old, new=new).to_dict())
    return Path(job.output_dir)


def test_a_better_model_finished_after_the_kill_is_put_in_use_at_the_next_start(
        folder: Path) -> None:
    job_dir = finish_then_kill(folder, old=40.0, new=55.0)
    with Workspace.open(folder) as ws:
        assert ws.finished_finetunes == (job_dir,) and ws.interrupted_finetunes == ()
        assert job_dir.is_dir()  # kept for the gate, not cleaned
        [result] = apply_finished_jobs(ws)
        assert result.accepted and ws.current_model().version == "v2"
        assert "finished after the app was closed" in result.message
        assert "v2 in use: 55.0 validation Dice vs 40.0 for v1" in result.message
        assert apply_finished_jobs(ws) == []
    with Workspace.open(folder) as ws:  # judged once: now an old folder, cleaned
        assert ws.finished_finetunes == () and not job_dir.exists()
        assert [m.version for m in ws.models()] == ["v1", "v2"]


def test_a_worse_model_finished_after_the_kill_is_refused_and_cleaned_later(
        folder: Path) -> None:
    job_dir = finish_then_kill(folder, old=40.0, new=30.0)
    with Workspace.open(folder) as ws:
        [result] = apply_finished_jobs(ws)
        assert not result.accepted and "kept v1" in result.message
        assert ws.current_model().version == "v1" and len(ws.models()) == 1
        assert json.loads((job_dir / "gate.json").read_text())["accepted"] is False
    with Workspace.open(folder) as ws:
        assert ws.finished_finetunes == () and not job_dir.exists()


def test_an_applied_job_is_not_judged_again(folder: Path) -> None:
    with Workspace.open(folder) as ws:
        job = plan_finetune(ws)
        outcome = outcome_for(job, old=40.0, new=50.0)
        write_json_atomic(Path(job.output_dir, "outcome.json"), outcome.to_dict())
        assert apply_outcome(ws, job, outcome).accepted
    with Workspace.open(folder) as ws:
        assert ws.finished_finetunes == () and not Path(job.output_dir).exists()


def test_an_unreadable_outcome_is_reported_and_removed(folder: Path) -> None:
    job_dir = finish_then_kill(folder, old=40.0, new=55.0)
    (job_dir / "outcome.json").write_text("{not json")
    with Workspace.open(folder) as ws:
        [result] = apply_finished_jobs(ws)
        assert not result.accepted and "could not be read" in result.message
        assert not job_dir.exists() and ws.current_model().version == "v1"
