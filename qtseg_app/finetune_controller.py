"""Fine-tune on corrections in the app: plan, run in a child process, gate, re-predict.

The steps are the engine's (:mod:`qtseg_core.finetune`), split so the window
keeps the workspace open and annotating goes on while the model trains:

1. ``plan_finetune(ws, settings)`` here (fast): which images, the job folder;
2. the training and scoring in ``qtseg finetune --job JOB.json --events``
   (:class:`~qtseg_app.finetune_runner.FinetuneRunner`);
3. ``apply_outcome(ws, job, outcome)`` here when the child reports ``done``:
   the no-regression gate decides; an accepted model is loaded and the images
   nobody has reviewed yet are predicted again with it in the background.

Rollback makes an earlier registry version current, loads it and re-predicts
the same way, so the status bar always names the model in use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6 import QtCore

from qtseg_app import dialogs
from qtseg_app.finetune_runner import FinetuneRunner
from qtseg_app.finetune_settings_dialog import (
    FinetuneSettingsDialog,
    store_settings,
    stored_settings,
)
from qtseg_app.model_controller import ModelInfo
from qtseg_core.finetune import (
    FinetuneError,
    FinetuneJob,
    FinetuneOutcome,
    NotEnoughImagesError,
    apply_outcome,
    discard_job,
    images_to_repredict,
    plan_finetune,
)

if TYPE_CHECKING:
    from qtseg_app.main_window import MainWindow

UNCHANGED = "The model in use and your annotations are unchanged."


class FinetuneController(QtCore.QObject):
    """Runs the "Fine-tune on corrections" button, the settings dialog and rollback."""

    finished = QtCore.Signal(str)  # how the run ended: "accepted", "refused", "cancelled", ...

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.ws = window.ws
        self.panel = window.finetune_panel
        self.runner = FinetuneRunner(self)
        self.job: FinetuneJob | None = None
        self.settings_dialog: FinetuneSettingsDialog | None = None
        window.model_panel.fine_tune_requested.connect(self.start)
        window.models.model_changed.connect(self._on_model_changed)
        self.panel.cancel_requested.connect(self.cancel)
        self.panel.settings_requested.connect(self.edit_settings)
        self.panel.rollback_requested.connect(self.rollback)
        self.runner.status.connect(self.panel.show_status)
        self.runner.progress.connect(self.panel.show_progress)
        self.runner.done.connect(self._on_done)
        self.runner.cancelled.connect(self._on_cancelled)
        self.runner.failed.connect(self._on_failed)
        self._on_model_changed(window.models.info)

    @property
    def running(self) -> bool:
        return self.runner.running

    # ---- starting and stopping ------------------------------------------------------------
    def start(self) -> None:
        """Plan the job with the open workspace and start the child process."""
        if self.running:
            self.window.say("A fine-tune is already running; cancel it first to start another.")
            return
        self.window.autosave()  # the edit on screen is part of what is learnt
        try:
            job = plan_finetune(self.ws, stored_settings(self.ws))
        except NotEnoughImagesError as error:
            dialogs.show_error(self.window, "Not enough reviewed images to fine-tune",
                               str(error), f"{error.needed} more needed: accept (A) or "
                               "correct images, then press Fine-tune on corrections again.")
            return
        except (FinetuneError, OSError, ValueError) as error:
            dialogs.show_error(self.window, "Fine-tune not started", str(error), UNCHANGED)
            return
        self.job = job
        self.runner.start(job)
        self.panel.show_started(f"Fine-tuning {job.model_version} on {len(job.train)} images "
                                f"({len(job.val)} for validation) at "
                                f"{job.settings.input_size} px…")
        self._update_button()
        self.window.say(f"Fine-tuning {job.model_version} in the background; keep annotating.")

    def cancel(self) -> None:
        """Stop the training cleanly; nothing is registered, the model in use stays."""
        if self.running:
            self.runner.cancel()
            self.panel.show_cancelling()

    def shutdown(self) -> None:
        """The window closes: cancel and let the child stop on its own, never waiting here."""
        self.runner.detach()

    # ---- how a run ends -------------------------------------------------------------------
    def _on_done(self, outcome_data: dict[str, Any]) -> None:
        job, self.job = self.job, None
        try:
            outcome = FinetuneOutcome.from_dict(outcome_data)
            result = apply_outcome(self.ws, job, outcome)
        except Exception as error:  # noqa: BLE001 - the gate failing must not stop annotating
            if job is not None:
                discard_job(job)
            self._end("failed", f"Fine-tune result not applied: {error}")
            dialogs.show_error(self.window, "Fine-tune result not applied", str(error),
                               UNCHANGED)
            return
        if not result.accepted:
            self._end("refused", f"New model not used: {result.message}.")
            dialogs.show_error(
                self.window, "New model not used",
                f"The fine-tuned model was not put in use: {result.message}.",
                "Correct or accept more images, or change the fine-tune settings, then "
                f"fine-tune again. The refused model is kept in {outcome.job_dir}.")
            return
        self._end("accepted", result.message)
        self._use_current_model()

    def _on_cancelled(self, message: str) -> None:
        self.job = None
        self._end("cancelled", message)

    def _on_failed(self, message: str) -> None:
        self.job = None
        self._end("failed", "Fine-tune failed; nothing changed.")
        dialogs.show_error(self.window, "Fine-tune failed", message,
                           f"{UNCHANGED} Check the message; a smaller input size or batch "
                           "size needs less memory. Then fine-tune again.")

    def _end(self, how: str, text: str) -> None:
        self.panel.show_finished(text)
        self._update_button()
        self.window.say(text, timeout_ms=15_000)
        self.finished.emit(how)

    # ---- model versions -------------------------------------------------------------------
    def rollback(self, version: str) -> None:
        """Use an earlier registry version again, then re-predict the unreviewed images."""
        if self.running:
            self.window.say("Cancel the running fine-tune before rolling back.")
            return
        try:
            self.ws.set_current_model(version, actor=self.ws.setting("reviewer_name"))
        except KeyError as error:
            dialogs.show_error(self.window, "Not rolled back", str(error), UNCHANGED)
            return
        self._use_current_model(f"Rolled back: {version} in use; re-predicting unreviewed "
                                "images.")

    def _use_current_model(self, done_message: str = "") -> None:
        """Load the workspace's current model in the background; once it is in use,
        re-predict what nobody has reviewed."""
        load = self.window.models.load_current()
        if load is None:
            return
        load.loaded.connect(lambda _info: self._repredict(done_message))
        load.failed.connect(self._on_load_failed)

    def _repredict(self, message: str) -> None:
        self.window.models.predict_images(images_to_repredict(self.ws))
        if message:
            self.window.say(message)

    def _on_load_failed(self, error: str) -> None:
        dialogs.show_error(self.window, "Model not loaded", error,
                           "Roll back to another version in the Fine-tune dock.")
        self.panel.show_versions(self.ws.models())

    def _on_model_changed(self, info: ModelInfo | None) -> None:
        self.panel.show_versions(self.ws.models())
        self._update_button()

    def _update_button(self) -> None:
        has_model = self.window.models.info is not None
        self.window.model_panel.fine_tune_button.setEnabled(has_model and not self.running)

    # ---- settings -------------------------------------------------------------------------
    def edit_settings(self) -> None:
        """Open the settings dialog (non-blocking); OK stores them in the workspace."""
        dialog = FinetuneSettingsDialog(stored_settings(self.ws), self.window)
        dialog.accepted.connect(lambda: self._store_settings(dialog))
        self.settings_dialog = dialog
        dialog.open()

    def _store_settings(self, dialog: FinetuneSettingsDialog) -> None:
        try:
            store_settings(self.ws, dialog.settings())
        except ValueError as error:
            dialogs.show_error(self.window, "Settings not saved", str(error),
                               "Open Fine-tune settings again and correct the value.")
            return
        self.window.say("Fine-tune settings saved for this workspace.")
