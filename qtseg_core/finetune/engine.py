"""``run_finetune(job) -> FinetuneOutcome``: train a candidate, then score old and new alike.

The run starts from the job's model (``train(..., init_from=...)``) on the
job's training images, stops early when validation stops improving, and then
scores BOTH the model in use and the candidate on the same validation images
with the paper's Dice at each image's original resolution (``evaluate``), so
the gate compares like with like, and writes both models' masks on the first
validation images for a person to compare (:mod:`.preview`). The candidate checkpoint records its
provenance (parent version, images, settings, scores, date, command).

The run only writes inside the job folder and never opens the workspace, so
it can run in a subprocess while the app holds the workspace lock. A cancel
(``cancel()`` returning True, Ctrl-C, SIGTERM in the CLI) or an error removes
the job folder (only when the job created it) and raises; nothing half-made is
left behind.
"""

from __future__ import annotations

import json
import shlex
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from qtseg_core.checkpoint import load_checkpoint, read_metadata, save_model
from qtseg_core.data.samples import Sample
from qtseg_core.finetune.errors import FinetuneCancelled, FinetuneError
from qtseg_core.finetune.evidence import judge
from qtseg_core.finetune.job import FinetuneJob, TrainingPair, empty_validation_masks
from qtseg_core.finetune.preview import write_previews
from qtseg_core.io import write_json_atomic
from qtseg_core.provenance import describe_training_images
from qtseg_core.training import ProgressEvent, RunResult, TrainConfig, resolve_config, train
from qtseg_core.training.evaluation import evaluate
from qtseg_core.training.state import RESUME_FILE
from qtseg_core.workspace.images import CANCELLED_FILE, OUTCOME_FILE

CANDIDATE_FILE = "candidate.safetensors"
RUN_FOLDER = "run"

CancelCheck = Callable[[], bool]
StatusCallback = Callable[[str], None]


@dataclass(frozen=True)
class FinetuneOutcome:
    """What a finished run found. Dice values are mean per-image Dice x100 (original size).

    ``accepted`` is the run's verdict (``evidence.judge``: new Dice > old Dice
    on the same ``val_images`` with a foreground, finite scores); the gate
    recomputes it from ``per_image`` (image id, old Dice, new Dice).
    ``evidence`` says it in words (difference, 95 % interval, certainty).
    ``stop_reason``: "completed" (all epochs) or "early_stopped".
    """

    job_dir: str
    candidate_path: str
    parent_version: str
    old_dice: float
    new_dice: float
    val_images: int
    accepted: bool
    stop_reason: str
    epochs_run: int
    best_epoch: int
    train_seconds: float
    score_seconds: float
    per_image: tuple[tuple[int, float, float], ...] = ()
    skipped_images: dict[str, str] = field(default_factory=dict)
    evidence: str = ""

    @property
    def summary(self) -> str:
        """One line for people, e.g. 'new model 63.0 vs 61.2 validation Dice for v3 (3 images)'."""
        return (
            f"new model {self.new_dice:.1f} vs {self.old_dice:.1f} validation Dice for "
            f"{self.parent_version} ({self.val_images} images)"
        )

    def to_dict(self) -> dict[str, Any]:
        return json.loads(json.dumps(asdict(self)))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FinetuneOutcome:
        per_image = tuple(tuple(row) for row in data.get("per_image", ()))
        return cls(**{**data, "per_image": per_image})


def run_finetune(
    job: FinetuneJob,
    *,
    progress: Callable[[ProgressEvent], None] | None = None,
    cancel: CancelCheck | None = None,
    status: StatusCallback | None = None,
) -> FinetuneOutcome:
    """Train and score a candidate for ``job``; raises FinetuneCancelled on cancel.

    ``progress`` gets the training's ProgressEvent after each epoch; ``status``
    a line for people at each phase. On cancel or error the job folder is removed.
    """
    try:
        return _run(job, progress, cancel or (lambda: False), status or (lambda _: None))
    except BaseException:
        discard_job(job)
        raise


def note_cancelled(job: FinetuneJob) -> None:
    """Mark ``job`` as cancelled by the user, so that its folder, if the child is killed
    before it removes it (the app exits meanwhile), goes at the next open unreported."""
    if not job.owns_output_dir:
        return
    try:
        Path(job.output_dir, CANCELLED_FILE).write_text("cancelled by the user\n",
                                                        encoding="utf-8")
    except OSError:
        pass  # the child removed the folder meanwhile: nothing left to report


def discard_job(job: FinetuneJob) -> None:
    """Remove the job folder (snapshots, run files, candidate); the workspace is untouched.

    Only a folder plan_finetune created (``job.owns_output_dir``) is removed; a
    job whose ``output_dir`` names a folder that existed before is left alone.
    """
    if job.owns_output_dir:
        shutil.rmtree(job.output_dir, ignore_errors=True)


def _run(
    job: FinetuneJob,
    progress: Callable[[ProgressEvent], None] | None,
    cancel: CancelCheck,
    status: StatusCallback,
) -> FinetuneOutcome:
    start = time.perf_counter()
    status(f"fine-tuning {job.model_version} on {len(job.train)} images")
    result = train(training_config(job), progress=progress, cancel=cancel)
    if result.status in ("cancelled", "interrupted") or result.best_checkpoint is None:
        raise FinetuneCancelled(f"Fine-tune cancelled; {job.model_version} stays in use.")
    candidate = _keep_best(job, result)
    trained = time.perf_counter()
    status(f"scoring {job.model_version} and the new model on {len(job.val)} validation images")
    old_rows = score_model(job.model_path, job.val, job.settings.device)
    _check_cancel(cancel, job)
    new_rows = score_model(candidate, job.val, job.settings.device)
    write_previews(job, candidate)
    timings = (trained - start, time.perf_counter() - trained)
    outcome = _outcome(job, result, candidate, (old_rows, new_rows), timings)
    _record_provenance(job, outcome)
    write_json_atomic(Path(job.output_dir, OUTCOME_FILE), outcome.to_dict())
    return outcome


def training_config(job: FinetuneJob) -> TrainConfig:
    """The TrainConfig of the job: the "finetune" preset, the job's settings and images."""
    data = {
        "train_pairs": [(pair.image, pair.mask) for pair in job.train],
        "val_pairs": [(pair.image, pair.mask) for pair in job.val],
        "augment": job.settings.augment,
    }
    overrides = {
        **job.settings.train_overrides(),
        "data": data,
        "init_from": job.model_path,
        "output_dir": str(Path(job.output_dir) / RUN_FOLDER),
        "tensorboard": False,
    }
    return resolve_config("finetune", overrides=overrides)


def score_model(
    model_path: str | Path, pairs: tuple[TrainingPair, ...], device: str | None = None
) -> dict[int, float]:
    """Per-image Dice x100 at the original resolution, keyed by workspace image id."""
    samples = [Sample(str(p.image_id), Path(p.image), (Path(p.mask),)) for p in pairs]
    # torch: the gate scores a few images of a candidate that may be dropped; an ONNX
    # export (~15 s on 2 cores) would cost more than it saves
    result = evaluate(model_path, samples, device=device, batch_size=4, backend="torch")
    return {int(row["id"]): 100.0 * float(row["dice"]) for row in result.rows}


def _check_cancel(cancel: CancelCheck, job: FinetuneJob) -> None:
    if cancel():
        raise FinetuneCancelled(f"Fine-tune cancelled; {job.model_version} stays in use.")


def _keep_best(job: FinetuneJob, result: RunResult) -> Path:
    """Move the best epoch's weights to ``candidate.safetensors``; drop resume state."""
    candidate = Path(job.output_dir) / CANDIDATE_FILE
    Path(result.best_checkpoint).replace(candidate)
    for leftover in (result.last_checkpoint, result.run_dir / RESUME_FILE):
        if leftover is not None:
            Path(leftover).unlink(missing_ok=True)
    return candidate


def _outcome(
    job: FinetuneJob,
    result: RunResult,
    candidate: Path,
    rows: tuple[dict[int, float], dict[int, float]],
    timings: tuple[float, float],
) -> FinetuneOutcome:
    old, new = rows
    common = [image_id for image_id in old if image_id in new]
    if not common:
        raise FinetuneError(
            f"None of the {len(job.val)} validation images could be read, so the new model "
            "cannot be compared with the current one; check that the image files still exist."
        )
    per_image = tuple((i, old[i], new[i]) for i in common)
    verdict = judge(per_image, empty_validation_masks(job))
    return FinetuneOutcome(
        job_dir=job.output_dir,
        candidate_path=str(candidate),
        parent_version=job.model_version,
        old_dice=verdict.old_dice if verdict.images else _mean(old, common),
        new_dice=verdict.new_dice if verdict.images else _mean(new, common),
        val_images=verdict.images or len(common),
        accepted=verdict.accepted,
        stop_reason=result.status,
        epochs_run=result.epochs_completed,
        best_epoch=result.best_epoch + 1,
        train_seconds=round(timings[0], 2),
        score_seconds=round(timings[1], 2),
        per_image=per_image,
        skipped_images=dict(result.skipped_images),
        evidence=f"{verdict.reason}; {verdict.summary}; {verdict.certainty}",
    )


def _mean(scores: dict[int, float], ids: list[int]) -> float:
    return sum(scores[i] for i in ids) / len(ids)


def _record_provenance(job: FinetuneJob, outcome: FinetuneOutcome) -> None:
    """Rewrite the candidate with the workspace's classes (the parent's for a job planned
    without them) and the fine-tune's provenance."""
    parent = read_metadata(job.model_path)
    names = [name for name, _ in job.classes] or list(parent.class_names)
    colors = [color for _, color in job.classes] or list(parent.class_colors)
    candidate = load_checkpoint(outcome.candidate_path)
    save_model(
        candidate.model,
        outcome.candidate_path,
        metadata=candidate.metadata,
        class_names=names,
        class_colors=colors,
        parent_version=job.model_version,
        trained_on=describe_training_images((p.image_id, p.image) for p in job.train),
        validated_on=[{"id": p.image_id, "name": p.name} for p in job.val],
        finetune_settings=job.settings.to_dict(),
        scores={"val_dice": outcome.new_dice, "parent_val_dice": outcome.old_dice,
                "val_images": outcome.val_images},
        date=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        command=shlex.join(sys.argv),
        workspace=job.workspace,
    )
