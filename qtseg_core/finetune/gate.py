"""The no-regression gate: a candidate replaces the model in use only if it is better.

The decision is :func:`qtseg_core.finetune.evidence.judge` on the per-image
Dice of old and new model on the same validation images, recomputed here by
whoever holds the workspace: the run's own ``accepted`` flag is not trusted,
scores must be finite, empty validation masks do not count, and images the
parent was trained on are never judged on. A candidate better on average on
too few images to clear the bar (``GateResult.unsure``) is installed only on
the user's word (``install_unsure``: the app asks, ``qtseg finetune
--install-if-better`` says so beforehand, ``--install-candidate`` afterwards:
the last such job folder is kept for it, see ``install_candidate``).

``apply_outcome`` is the one step of a fine-tune that writes to the workspace,
run by whoever holds it open (the app, or ``qtseg finetune WORKSPACE``).

Registry policy: only accepted candidates are registered (as the new current
version, with parent, trained-on images, settings and scores). A refused
candidate is NOT registered, so the registry only lists models one may roll
back to; its checkpoint and ``outcome.json`` stay in the job folder
(``<ws>/finetune/<timestamp>/``) for anyone who wants to inspect it until the
workspace is next opened for writing (the last job's stays while it awaits the
user's word).

Every decision is written beside the outcome (``gate.json``), so a job whose
child finished but whose outcome nobody judged (the app closed or killed in
between) can be told apart at the next open: ``apply_finished_jobs`` lets the
gate decide on it then, instead of the job being cleaned away unjudged.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from qtseg_core.finetune.engine import FinetuneOutcome
from qtseg_core.finetune.errors import FinetuneError
from qtseg_core.finetune.evidence import Verdict, judge
from qtseg_core.finetune.job import FinetuneJob, empty_validation_masks
from qtseg_core.io import write_json_atomic
from qtseg_core.workspace import ModelVersion, ReviewStatus, Workspace
from qtseg_core.workspace.images import GATE_FILE, OUTCOME_FILE
from qtseg_core.workspace.leftovers import awaiting_candidate

#: (job, the gate's unsure result) -> install it? The user's answer (the app asks).
AskInstall = Callable[[FinetuneJob, "GateResult"], bool]
#: Statuses whose masks nobody has vouched for: re-predicted after an accepted update.
REPREDICT_STATUSES = (ReviewStatus.UNREVIEWED, ReviewStatus.PREDICTED)


@dataclass(frozen=True)
class GateResult:
    """What the gate did: ``model`` is the newly current version, or None when refused.

    ``message`` is a line for the status bar, e.g. "kept v3: new model scored
    61.2 vs 63.0 validation Dice (3 images); very uncertain: ..."; ``verdict``
    holds the evidence (per-image differences, bootstrap interval).
    """

    accepted: bool
    model: ModelVersion | None
    message: str
    verdict: Verdict | None = None

    @property
    def unsure(self) -> bool:
        """Kept the old model only because too few images clear the bar: the user may install."""
        return not self.accepted and self.verdict is not None and self.verdict.unsure


def apply_outcome(workspace: Workspace, job: FinetuneJob, outcome: FinetuneOutcome, *,
                  install_unsure: bool = False) -> GateResult:
    """Register the candidate and make it current if the evidence says it is better.

    ``install_unsure``: also when it is better on average but on too few
    validation images to clear the bar (``Verdict.unsure``): the user's choice,
    after seeing the per-image scores; without it such a candidate is kept out.

    The verdict is recomputed here from the per-image scores (``recheck``),
    never taken from the run's own flag. Also refuses when the model in use is
    no longer the one the job started from (the comparison would not be with
    the model it replaces). Calling it twice for one job returns the version
    registered the first time. The decision is written to the job folder's ``gate.json``.
    """
    _check_same_workspace(workspace, job)
    result = _decide(workspace, job, outcome, install_unsure)
    if Path(job.output_dir).is_dir():
        write_json_atomic(Path(job.output_dir, GATE_FILE), {
            "accepted": result.accepted, "unsure": result.unsure, "message": result.message,
            "model": result.model.version if result.model else None})
    return result


def apply_finished_jobs(workspace: Workspace,
                        ask: AskInstall | None = None) -> list[GateResult]:
    """Let the gate decide on the fine-tunes that finished but were never judged.

    ``workspace.finished_finetunes`` (found at open): the child wrote its
    ``outcome.json`` and then the app was closed or killed before applying it.
    Each is judged by :func:`apply_outcome` as if it had just ended (so it is
    refused when the model in use has changed since); a job whose files cannot
    be read is removed. ``ask(job, result)`` decides on an ``unsure`` result
    (installed when it says True; without it, kept out). One result per job,
    its message saying which job it was.
    """
    results = [_apply_finished(workspace, Path(folder), ask)
               for folder in workspace.finished_finetunes]
    workspace.finished_finetunes = ()
    return results


def install_candidate(workspace: Workspace) -> GateResult:
    """Install, on the user's word, the model of the last fine-tune that the gate kept out
    only because too few validation images could vouch for it (``GateResult.unsure``):
    ``qtseg finetune WORKSPACE --install-candidate``, the CLI's "Install" of the app's
    question. Refused, as any outcome, when the model in use has changed since."""
    folder = awaiting_candidate(workspace)
    if folder is None:
        raise FinetuneError(
            f"No fine-tuned model of {workspace.folder} awaits your word: only the last "
            "fine-tune's, when the gate kept it out for too few validation images, can be "
            f"installed this way. Run `qtseg finetune {workspace.folder}` first.")
    job, outcome = _load_job(folder)
    return apply_outcome(workspace, job, outcome, install_unsure=True)


def _load_job(folder: Path) -> tuple[FinetuneJob, FinetuneOutcome]:
    """The job and its finished run's outcome, from a job folder."""
    outcome = FinetuneOutcome.from_dict(
        json.loads((folder / OUTCOME_FILE).read_text(encoding="utf-8")))
    return FinetuneJob.load(folder), outcome


def _apply_finished(workspace: Workspace, folder: Path, ask: AskInstall | None) -> GateResult:
    try:
        job, outcome = _load_job(folder)
        result = apply_outcome(workspace, job, outcome)
        if result.unsure and ask is not None and ask(job, result):
            result = apply_outcome(workspace, job, outcome, install_unsure=True)
    except (OSError, ValueError, KeyError, TypeError, FinetuneError) as error:
        shutil.rmtree(folder, ignore_errors=True)
        return GateResult(False, None, (
            f"The fine-tune in {folder.name} finished after the app was closed, but its "
            f"result could not be read ({error}); its files were removed."))
    return GateResult(result.accepted, result.model, (
        f"The fine-tune of {job.model_version} started {job.created_at} finished after the "
        f"app was closed; the gate decided now: {result.message}"), result.verdict)


def _decide(workspace: Workspace, job: FinetuneJob, outcome: FinetuneOutcome,
            install_unsure: bool) -> GateResult:
    registered = _already_registered(workspace, job)
    if registered is not None:
        return GateResult(True, registered, f"{registered.version} is already registered.")
    verdict = recheck(job, outcome)
    if not (verdict.accepted or (install_unsure and verdict.unsure)):
        return GateResult(False, None, _refused_message(job, verdict), verdict)
    current = workspace.current_model()
    if current is None or current.version != job.model_version:
        in_use = current.version if current else "no model"
        return GateResult(False, None, (
            f"not applied: the model in use changed from {job.model_version} to {in_use} "
            "while fine-tuning; fine-tune again to compare with the model in use."), verdict)
    model = _register(workspace, job, outcome, verdict)
    chosen = " (installed on your word)" if verdict.unsure else ""
    return GateResult(True, model, (
        f"{model.version} in use{chosen}: {verdict.new_dice:.1f} validation Dice vs "
        f"{verdict.old_dice:.1f} for {job.model_version} ({verdict.images} images); "
        f"{verdict.certainty}"), verdict)


def recheck(job: FinetuneJob, outcome: FinetuneOutcome) -> Verdict:
    """The gate's own verdict on ``outcome``'s per-image scores for ``job``.

    Only the job's validation images count, never one the parent was trained
    on; images whose (snapshot) validation mask is empty are left out.
    """
    allowed = set(job.val_ids) - set(job.seen_by_parent)
    rows = [(int(i), float(old), float(new)) for i, old, new in outcome.per_image
            if int(i) in allowed]
    return judge(rows, empty_validation_masks(job))


def images_to_repredict(workspace: Workspace) -> list[int]:
    """Ids of readable images nobody has reviewed (unreviewed or only predicted)."""
    return [image.id for image in workspace.images(status=REPREDICT_STATUSES) if image.readable]


def _refused_message(job: FinetuneJob, verdict: Verdict) -> str:
    if not verdict.images:
        return f"kept {job.model_version}: {verdict.reason}"
    unsure = f"; {verdict.reason}" if verdict.unsure else ""
    return (
        f"kept {job.model_version}: new model scored {verdict.new_dice:.1f} vs "
        f"{verdict.old_dice:.1f} validation Dice ({verdict.images} images){unsure}; "
        f"{verdict.certainty}"
    )


def _register(workspace: Workspace, job: FinetuneJob, outcome: FinetuneOutcome,
              verdict: Verdict) -> ModelVersion:
    settings = {
        **job.settings.to_dict(),
        "job": Path(job.output_dir).name,
        "validated_on": job.val_ids,
        "split": job.split_note,
        "epochs_run": outcome.epochs_run,
        "best_epoch": outcome.best_epoch,
        "stop_reason": outcome.stop_reason,
        "installed_by": "the user (too few validation images for the gate)" if verdict.unsure
        else "the gate",
    }
    scores = {
        "val_dice": verdict.new_dice,
        "parent_val_dice": verdict.old_dice,
        "val_images": verdict.images,
        "difference": verdict.difference,
        "difference_95": list(verdict.interval),
        "dice": "mean per-image Dice x100 at the original resolution",
        "certainty": verdict.certainty,
    }
    return workspace.register_model(
        outcome.candidate_path, parent=job.model_version, trained_on=job.train_ids,
        settings=settings, scores=scores, make_current=True,
        note=f"fine-tuned on {len(job.train)} corrections: {verdict.summary}")


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
