"""Fine-tune on the reviewed slices of a volume: each slice is one training pair, its
pixels (not the volume file) in the job, the same pixels the app showed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from qtseg_core.finetune import FinetuneSettings, plan_finetune, run_finetune
from qtseg_core.io import read_image
from qtseg_core.workspace import ReviewStatus, Workspace
from tests.core.finetune_helpers import weak_model
from tests.core.volume_helpers import blob_volume, write_nifti

QUICK = FinetuneSettings(input_size=64, epochs=1, patience=0, batch_size=2, warmup_epochs=0)


@pytest.fixture
def volume_workspace(tmp_path: Path) -> Workspace:
    """One NIfTI MRI of 8 slices; 6 are accepted with the blob as their mask."""
    folder = tmp_path / "ws"
    folder.mkdir()
    write_nifti(folder / "brain.nii.gz", blob_volume((48, 40, 8)))
    ws = Workspace.open(folder)
    ws.register_model(weak_model(tmp_path / "weak.safetensors"))
    for image in ws.volume_slices(ws.volumes()[0].id)[:6]:
        pixels = ws.read_image(image.id)
        ws.save_correction(image.id, (pixels > 100).astype(np.uint8), "annotator")
        ws.set_status(image.id, ReviewStatus.ACCEPTED, "annotator")
    yield ws
    ws.close()


def test_each_reviewed_slice_is_a_training_pair_of_its_own_pixels(
        volume_workspace: Workspace) -> None:
    ws = volume_workspace
    job = plan_finetune(ws, QUICK)
    pairs = job.train + job.val
    accepted = {s.id for s in ws.volume_slices(ws.volumes()[0].id)[:6]}
    assert job.train and job.val and {p.image_id for p in pairs} <= accepted  # a slice block
    for pair in pairs:
        record = ws.image(pair.image_id)
        assert pair.name == record.name  # brain_z003, not brain.nii.gz
        assert Path(pair.image).parent.parent == Path(job.output_dir)  # snapshot in the job
        np.testing.assert_array_equal(read_image(pair.image), ws.read_image(record.id))
        assert read_image(pair.mask).shape == read_image(pair.image).shape
    ws.scan()
    assert len(ws.images()) == 8  # the job's slice files are not new images


@pytest.mark.slow
def test_a_fine_tune_on_volume_slices_trains_and_scores_every_slice(
        volume_workspace: Workspace) -> None:
    job = plan_finetune(volume_workspace, QUICK)
    outcome = run_finetune(job)
    assert outcome.epochs_run == 1 and not outcome.skipped_images
    assert outcome.val_images == len(job.val)
    assert {row[0] for row in outcome.per_image} == set(job.val_ids)
