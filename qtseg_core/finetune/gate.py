"""The no-regression gate: a candidate replaces the model in use only if it is no worse.

``apply_outcome`` is the one step of a fine-tune that writes to the workspace,
run by whoever holds it open (the app, or ``qtseg finetune WORKSPACE``).

Registry policy: only accepted candidates are registered (as the new current
version, with parent, trained-on images, settings and scores). A refused
candidate is NOT registered, so the registry only lists models one may roll
back to; its checkpoint and ``outcome.json`` stay in the job folder
(``<ws>/finetune/<timestamp>/``) for anyone who wants to inspect it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from qtseg_core.finetune.engine import FinetuneOutcome
from qtseg_core.finetune.errors import FinetuneError
from qtseg_core.finetune.job import FinetuneJob
from qtseg_core.workspace import ModelVersion, ReviewStatus, Workspace

#: Statuses whose masks nobody has vouched for: re-predicted after an accepted update.
REPREDICT_STATUSES = (ReviewStatus.UNREVIEWED, ReviewStatus.PREDICTED)


@dataclass(frozen=True)
class GateResult:
    """What the gate did: ``model`` is the newly current version, or None when refused.

    ``message`` is a line for the status bar, e.g. "kept v3: new model scored
    61.2 vs 63.0 validation Dice (3 images)".
    """

    accepted: bool
    model: ModelVersion | None
    message: str


def apply_outcome(workspace: Workspace, job: FinetuneJob, outcome: FinetuneOutcome) -> GateResult:
    """Register the candidate and make it current if new Dice >= old Dice; else change nothing.

    Also refuses when the model in use is no longer the one the job started
    from (the comparison would not be with the model it replaces). Calling it
    twice for one job returns the version registered the first time.
    """
    _check_same_workspace(workspace, job)
    registered = _already_registered(workspace, job)
    if registered is not None:
        return GateResult(True, registered, f"{registered.version} is already registered.")
    current = workspace.current_model()
    if not outcome.accepted:
        return GateResult(False, None, _refused_message(job, outcome))
    if current is None or current.version != job.model_version:
        in_use = current.version if current else "no model"
        return GateResult(False, None, (
            f"not applied: the model in use changed from {job.model_version} to {in_use} "
            "while fine-tuning; fine-tune again to compare with the model in use."))
    model = _register(workspace, job, outcome)
    return GateResult(True, model, (
        f"{model.version} in use: {outcome.new_dice:.1f} validation Dice vs "
        f"{outcome.old_dice:.1f} for {job.model_version} ({outcome.val_images} images)"))


def images_to_repredict(workspace: Workspace) -> list[int]:
    """Ids of readable images nobody has reviewed (unreviewed or only predicted)."""
    return [image.id for image in workspace.images(status=REPREDICT_STATUSES) if image.readable]


def _refused_message(job: FinetuneJob, outcome: FinetuneOutcome) -> str:
    return (
        f"kept {job.model_version}: new model scored {outcome.new_dice:.1f} vs "
        f"{outcome.old_dice:.1f} validation Dice ({outcome.val_images} images)"
    )


def _register(workspace: Workspace, job: FinetuneJob, outcome: FinetuneOutcome) -> ModelVersion:
    settings = {
        **job.settings.to_dict(),
        "job": Path(job.output_dir).name,
        "validated_on": job.val_ids,
        "epochs_run": outcome.epochs_run,
        "best_epoch": outcome.best_epoch,
        "stop_reason": outcome.stop_reason,
    }
    scores = {
        "val_dice": outcome.new_dice,
        "parent_val_dice": outcome.old_dice,
        "val_images": outcome.val_images,
        "dice": "mean per-image Dice x100 at the original resolution",
    }
    return workspace.register_model(
        outcome.candidate_path, parent=job.model_version, trained_on=job.train_ids,
        settings=settings, scores=scores, make_current=True,
        note=f"fine-tuned on {len(job.train)} corrections: {outcome.summary}")


def _already_registered(workspace: Workspace, job: FinetuneJob) -> ModelVersion | None:
    name = Path(job.output_dir).name
    for model in workspace.models():
        if model.parent == job.model_version and model.settings.get("job") == name:
            return model
    return None


def _check_same_workspace(workspace: Workspace, job: FinetuneJob) -> None:
    if Path(job.workspace).resolve() != Path(workspace.folder).resolve():
        raise FinetuneError(
            f"This fine-tune was planned for the workspace {job.workspace}, not "
            f"{workspace.folder}; apply it with that workspace open."
        )
