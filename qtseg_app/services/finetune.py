"""Fine-tune on corrections in the app: plan, run in a child process, gate, re-predict.

The steps are the engine's (:mod:`qtseg_core.finetune`), split so the window
keeps the workspace open and annotating goes on while the model trains:

1. ``plan_finetune(ws, settings)`` here (fast): which images, the job folder;
2. the training and scoring in ``qtseg finetune --job JOB.json --events``
   (:class:`~qtseg_app.services.finetune_runner.FinetuneRunner`);
3. ``apply_outcome(ws, job, outcome)`` here when the child reports ``done``:
   the no-regression gate decides; an accepted model is loaded and the images
   nobody has reviewed yet are predicted again with it in the background. A
   model better on too few validation images to clear the gate's bar is
   installed only if the user says so (``ask_install``, the window's dialog,
   shown old and new scores on each validation image, and both models' masks on the first
   ones: ``read_previews``).

Rollback makes an earlier registry version current, loads it and re-predicts
the same way, so the status bar always names the model in use.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields
from typing import Any

from PySide6 import QtCore

from qtseg_app.services.finetune_runner import FinetuneRunner
from qtseg_app.services.models import ModelService
from qtseg_app.state import ModelInfo, ReviewSession
from qtseg_core.finetune import (
    FinetuneError,
    FinetuneJob,
    FinetuneOutcome,
    FinetuneSettings,
    GateResult,
    NotEnoughImagesError,
    apply_finished_jobs,
    apply_outcome,
    discard_job,
    images_to_repredict,
    plan_finetune,
)
from qtseg_core.finetune.preview import MaskPreview, read_previews
from qtseg_core.finetune.settings import finetune_recipe
from qtseg_core.workspace import Workspace

UNCHANGED = "The model in use and your annotations are unchanged."
SETTINGS_KEY = "finetune_settings"


def stored_settings(ws: Workspace) -> FinetuneSettings | None:
    """The fine-tune settings the user stored in the workspace; None when none (or unusable)
    are stored: the next fine-tune then uses the measured recipe for its data size
    (``finetune_recipe``, as ``qtseg finetune`` does)."""
    data = ws.setting(SETTINGS_KEY)
    if isinstance(data, dict):
        try:
            known = {f.name for f in fields(FinetuneSettings)}
            return FinetuneSettings.from_dict({k: v for k, v in data.items() if k in known})
        except (TypeError, ValueError):
            pass  # written by another version: the recipe instead
    return None


def recipe_for(ws: Workspace) -> FinetuneSettings:
    """The measured recipe for the images the workspace's split now trains on."""
    return finetune_recipe(len(ws.split_plan().train))


def settings_to_show(ws: Workspace) -> FinetuneSettings:
    """What the next fine-tune will use: the stored settings, else ``recipe_for(ws)``."""
    return stored_settings(ws) or recipe_for(ws)


def store_settings(ws: Workspace, settings: FinetuneSettings) -> None:
    """Keep ``settings`` for the workspace's next fine-tunes; settings equal to the recipe are
    not kept, so the recipe goes on following the number of corrections."""
    ws.set_setting(SETTINGS_KEY, None if settings == recipe_for(ws) else settings.to_dict())


class FinetuneService(QtCore.QObject):
    """Plans, runs, gates and cancels fine-tunes, and rolls back; writes into the session's
    :class:`~qtseg_app.state.FinetuneState` and reports problems through the session."""

    finished = QtCore.Signal(str)  # how the run ended: "accepted", "refused", "cancelled", ...

    def __init__(self, session: ReviewSession, models: ModelService,
                 parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.ws = session.ws
        self.state = session.finetune
        self.models = models
        self.runner = FinetuneRunner(self)
        self.job: FinetuneJob | None = None
        # (question, model in use, masks to compare) -> install? The window asks; without
        # a window: keep.
        self.ask_install: Callable[[str, str, tuple[MaskPreview, ...]], bool] = (
            lambda _question, _old, _previews: False)
        models.model_changed.connect(self._on_model_changed)
        self.runner.status.connect(lambda text: self.state.update(status=_sentence(text)))
        self.runner.progress.connect(lambda event: self.state.update(progress=event))
        self.runner.done.connect(self._on_done)
        self.runner.cancelled.connect(self._on_cancelled)
        self.runner.failed.connect(self._on_failed)

    @property
    def running(self) -> bool:
        return self.runner.running

    # ---- starting and stopping ------------------------------------------------------------
    def start(self) -> None:
        """Plan the job with the open workspace and start the child process."""
        session = self.session
        if self.running:
            session.say("A fine-tune is already running; cancel it first to start another.")
            return
        session.save()  # the edit on screen is part of what is learnt
        try:
            job = plan_finetune(self.ws, stored_settings(self.ws))
        except NotEnoughImagesError as error:
            session.report("Not enough reviewed images to fine-tune", str(error),
                           f"{error.needed} more needed: accept (A) or correct images, then "
                           "press Fine-tune on corrections again.")
            return
        except (FinetuneError, OSError, ValueError) as error:
            session.report("Fine-tune not started", str(error), UNCHANGED)
            return
        self.job = job
        self.runner.start(job)
        self.state.update(status=f"Fine-tuning {job.model_version} on {len(job.train)} images "
                          f"({len(job.val)} for validation) at {job.settings.input_size} px…",
                          cancelling=False, progress=None, outcome=None, running=True)
        session.say(f"Fine-tuning {job.model_version} in the background; keep annotating.")

    def cancel(self) -> None:
        """Stop the training cleanly; nothing is registered, the model in use stays."""
        if self.running:
            self.runner.cancel()
            self.state.update(cancelling=True,
                              status="Cancelling: the training stops at its next step…")

    def shutdown(self) -> None:
        """The window closes: cancel and let the child stop on its own, never waiting here."""
        self.runner.detach()

    def apply_finished(self) -> bool:
        """Judge the fine-tunes that finished after the app was last closed (before the model
        is loaded at start; one too few images vouch for is asked about); each is
        reported. True when one was put in use."""
        results = apply_finished_jobs(self.ws, lambda job, result: self.ask_install(
            unsure_question(job, result), job.model_version, read_previews(job)))
        for result in results:
            title = "New model in use" if result.accepted else "Fine-tune result not used"
            self.session.report(title, result.message, "Roll back in the Fine-tune dock if "
                                "needed." if result.accepted else UNCHANGED)
        if any(result.accepted for result in results):
            self.state.versions_changed += 1
        return any(result.accepted for result in results)

    # ---- how a run ends -------------------------------------------------------------------
    def _on_done(self, outcome_data: dict[str, Any]) -> None:
        job, self.job = self.job, None
        try:
            outcome = FinetuneOutcome.from_dict(outcome_data)
            result = apply_outcome(self.ws, job, outcome)
            if result.unsure and self.ask_install(unsure_question(job, result),
                                                  job.model_version, read_previews(job)):
                result = apply_outcome(self.ws, job, outcome, install_unsure=True)
        except Exception as error:  # noqa: BLE001 - the gate failing must not stop annotating
            if job is not None:
                discard_job(job)
            self._end("failed", f"Fine-tune result not applied: {error}")
            self.session.report("Fine-tune result not applied", str(error), UNCHANGED)
            return
        if result.unsure:  # the user chose to keep the model in use
            verdict = result.verdict
            self._end("refused", f"Kept {job.model_version}, as you chose: the new model "
                      f"scored {verdict.new_dice:.1f} vs {verdict.old_dice:.1f} validation Dice "
                      f"on {verdict.images} image(s).")
            return
        if not result.accepted:
            self._end("refused", f"New model not used: {result.message}.")
            self.session.report(
                "New model not used", f"The fine-tuned model was not put in use: "
                f"{result.message}.", "Correct or accept more images, or change the fine-tune "
                f"settings, then fine-tune again. The refused model is kept in {outcome.job_dir}.")
            return
        self._end("accepted", result.message)
        self._use_current_model()

    def _on_cancelled(self, message: str) -> None:
        self.job = None
        self._end("cancelled", message)

    def _on_failed(self, message: str) -> None:
        self.job = None
        self._end("failed", "Fine-tune failed; nothing changed.")
        self.session.report("Fine-tune failed", message,
                            f"{UNCHANGED} Check the message; a smaller input size or batch "
                            "size needs less memory. Then fine-tune again.")

    def _end(self, how: str, text: str) -> None:
        self.state.update(status=text, cancelling=False, outcome=how, running=False)
        self.session.say(text, timeout_ms=15_000)
        self.finished.emit(how)

    # ---- model versions -------------------------------------------------------------------
    def rollback(self, version: str) -> None:
        """Use an earlier registry version again, then re-predict the unreviewed images."""
        if self.running:
            self.session.say("Cancel the running fine-tune before rolling back.")
            return
        try:
            self.ws.set_current_model(version, actor=self.ws.reviewer_name)
        except KeyError as error:
            self.session.report("Not rolled back", str(error), UNCHANGED)
            return
        self._use_current_model(f"Rolled back: {version} in use; re-predicting unreviewed "
                                "images.")

    def _use_current_model(self, done_message: str = "") -> None:
        """Load the workspace's current model in the background; once it is in use,
        re-predict what nobody has reviewed."""
        load = self.models.load_current()
        if load is None:
            return
        load.loaded.connect(lambda _info: self._repredict(done_message))
        load.failed.connect(self._on_load_failed)

    def _repredict(self, message: str) -> None:
        self.models.predict_images(images_to_repredict(self.ws))
        if message:
            self.session.say(message)

    def _on_load_failed(self, error: str) -> None:
        self.session.report("Model not loaded", error,
                            "Roll back to another version in the Fine-tune dock.")
        self.state.versions_changed += 1

    def _on_model_changed(self, _info: ModelInfo | None) -> None:
        self.state.versions_changed += 1

    # ---- settings -------------------------------------------------------------------------
    def store_settings(self, settings: FinetuneSettings) -> None:
        """Keep ``settings`` for this workspace's next fine-tunes (the recipe: none kept)."""
        store_settings(self.ws, settings)
        if stored_settings(self.ws) is None:
            self.session.say("Fine-tune settings: the measured recipe, adjusted to the number "
                             "of corrections at each fine-tune.")
        else:
            self.session.say("Fine-tune settings saved for this workspace.")


def unsure_question(job: FinetuneJob, result: GateResult) -> str:
    """What the user is shown before installing a model the gate could not vouch for: the
    scores of old and new on each validation image, and why the gate did not decide."""
    names = {pair.image_id: pair.name for pair in job.val}
    verdict = result.verdict
    lines = [f"  {names.get(i, i)}: {job.model_version} {old:.1f} → new {new:.1f}"
             for i, old, new in verdict.per_image]
    return (f"The fine-tuned model scored {verdict.new_dice:.1f} validation Dice against "
            f"{verdict.old_dice:.1f} for {job.model_version}, on {verdict.images} image(s):\n"
            + "\n".join(lines) + f"\n\nToo few images to be sure ({verdict.reason}); it may "
            "be worse on the images nobody checked. Open the validation images to compare, "
            "or mark more images as validation and fine-tune again.")


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]
