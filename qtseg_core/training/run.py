"""``train(config) -> RunResult``: the epoch loop that ties the pieces together.

Each epoch: train on the training split, validate on the validation split
(Dice on the letterboxed canvas, as the paper), step the schedule, save
``last.safetensors`` + ``resume.pt``, and ``best.safetensors`` when the
validation Dice improved (for a click-conditioned model: the Dice after the
robot user's clicks, ``val_click_dice``, see ``validation.py``). The test split
is never looked at. With ``ema_decay`` set, a moving average of the weights
(``weight_average.py``) is what is validated and saved; the optimiser trains
the weights as before.

Stopping: after ``epochs``, on early stopping (no better validation score for
``early_stopping_patience`` epochs), when the time budget (``budget_minutes``,
:mod:`qtseg_core.training.budget`) has no room for another epoch, on
``cancel()`` returning True, or on Ctrl-C. ``resume.pt`` always holds the
state at the end of the last finished epoch, so ``train(config, resume=True)``
continues exactly from there.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import torch

from qtseg_core.training.config import TrainConfig
from qtseg_core.training.distributed import (
    DistributedContext,
    average_across_processes,
    barrier,
    broadcast_flag,
    per_process_batch,
    setup_distributed,
)
from qtseg_core.training.loaders import batches_with_skips, set_loader_epoch
from qtseg_core.training.loop import EpochStats, train_one_epoch
from qtseg_core.training.reporting import ProgressCallback, StepMeter, event_from_record
from qtseg_core.training.run_folder import (
    BEST_CHECKPOINT,
    LAST_CHECKPOINT,
    read_run_config,
    save_run_checkpoint,
)
from qtseg_core.training.session import TrainingSession, open_session
from qtseg_core.training.state import save_training_state
from qtseg_core.training.validation import selection_score, validate, validate_clicks

CancelCheck = Callable[[], bool]


@dataclass(frozen=True)
class RunResult:
    """How a run ended. ``status``: "completed", "early_stopped", "out_of_time", "cancelled" or
    "interrupted"."""

    run_dir: Path
    status: str
    epochs_completed: int
    best_epoch: int
    best_val_dice: float
    best_checkpoint: Path | None
    last_checkpoint: Path | None
    history: list[dict[str, Any]] = field(default_factory=list)
    skipped_images: dict[str, str] = field(default_factory=dict)


def train(
    config: TrainConfig,
    *,
    resume: bool = False,
    progress: ProgressCallback | None = None,
    cancel: CancelCheck | None = None,
) -> RunResult:
    """Train per ``config``; ``progress`` gets a ProgressEvent after each epoch (rank 0 only).

    ``cancel`` is polled between steps; when it returns True the run stops,
    keeping the checkpoints of the last finished epoch. Under torchrun every
    process calls this; rank 0 writes the run folder.
    """
    context = setup_distributed(config.device)
    session = open_session(config, context, resume=resume)
    if context.is_main and context.enabled:
        per_process = per_process_batch(config.batch_size, context)
        session.reporter.message(
            f"{context.world_size} processes: global batch {config.batch_size} = "
            f"{per_process} per process"
        )
    if context.is_main and resume:
        session.reporter.message(
            f"resuming {session.run_dir} at epoch {session.progress.next_epoch + 1}"
        )
    try:
        with _denormals_flushed(context.device):
            status = _run_epochs(session, progress, cancel)
    except KeyboardInterrupt:
        status = "interrupted"
        session.reporter.message(
            f"interrupted; resume.pt holds the end of epoch {session.progress.next_epoch}. "
            f"Continue with: qtseg train --resume {session.run_dir}"
        )
    finally:
        session.reporter.close()
        if session.threads is not None:
            session.threads.restore()
    return _result(session, status)


@contextmanager
def _denormals_flushed(device: torch.device) -> Iterator[None]:
    """On a CPU, treat values below ~1e-38 as 0 while training, then back to torch's default.

    The channel attention's softmax(rowmax(A) - A) yields weights of exp(-large): denormal
    floats, which the CPU multiplies 10-100x slower. Flushing them cut a 320-px batch-2
    epoch on the grey-matter choosing set from 4.07 to 3.09 s of CPU (one thread,
    interleaved A/B, load 0.5-0.9). Only values under 1.2e-38 change.
    """
    flushing = device.type == "cpu" and torch.set_flush_denormal(True)
    try:
        yield
    finally:
        if flushing:
            torch.set_flush_denormal(False)


def resume_training(
    run_dir: str | Path,
    *,
    progress: ProgressCallback | None = None,
    cancel: CancelCheck | None = None,
    **overrides: Any,
) -> RunResult:
    """Continue the run in ``run_dir`` with its saved config; ``overrides`` e.g. more ``epochs``."""
    config = read_run_config(run_dir)
    config = TrainConfig.from_dict({**config.to_dict(), **overrides, "output_dir": str(run_dir)})
    return train(config, resume=True, progress=progress, cancel=cancel)


def _run_epochs(
    session: TrainingSession, progress: ProgressCallback | None, cancel: CancelCheck | None
) -> str:
    config, state = session.config, session.progress
    if state.next_epoch == 0 and not session.resume_path.exists():
        _save_state(session)  # a run stopped during epoch 1 can still be resumed
    if session.budget is not None:
        session.budget.restart_epoch_clock()
    durations: list[float] = []
    for epoch in range(state.next_epoch, config.epochs):
        if not _budget_allows_epoch(session):
            return "out_of_time"
        start = time.perf_counter()
        stats = _train_epoch(session, epoch, cancel)
        if stats.cancelled and not _out_of_time(session):
            return "cancelled"
        _close_epoch(session, epoch, stats, start, durations, progress)
        if stats.cancelled:
            return "out_of_time"  # the budget cut this epoch short; validated, kept if the best
        _mark_budget(session)
        if _stop_early(session):
            return "early_stopped"
    return "completed"


def _close_epoch(session: TrainingSession, epoch: int, stats: EpochStats, start: float,
                 durations: list[float], progress: ProgressCallback | None) -> None:
    """Validate the epoch just trained, step the schedule, record and save it, report it."""
    closing = time.perf_counter()
    scores = _validation_scores(session)
    improved = session.progress.record(epoch, selection_score(scores))
    session.scheduler.step()
    durations.append(time.perf_counter() - start)
    record = _epoch_record(session, epoch, stats, scores, durations)
    session.progress.history.append(record)
    _save_epoch(session, improved, record)
    if session.budget is not None:
        session.budget.note_closing(time.perf_counter() - closing)
    if progress is not None and session.context.is_main:
        progress(event_from_record(record))


def _validation_scores(session: TrainingSession) -> dict[str, float]:
    """The automatic scores, and for a click-conditioned model the robot's clicks' Dice."""
    model, loader, settings = session.saved_model, session.val_loader, session.settings
    scores = validate(model, loader, settings, session.context, session.data.num_classes,
                      session.skips)
    if model.config.click_inputs:
        scores.update(validate_clicks(model, loader, settings, session.context))
    return scores


def _budget_allows_epoch(session: TrainingSession) -> bool:
    """Rank 0's answer to "does another epoch fit the time budget?" (True without a budget)."""
    budget = session.budget
    if budget is None or session.progress.best_epoch < 0:  # a run always keeps one epoch
        return True
    allowed = broadcast_flag(budget.room_for_another_epoch(), session.context)
    if not allowed:
        session.reporter.message(
            f"time budget: {budget.elapsed() / 60:.1f} of {budget.seconds / 60:g} min used, "
            f"an epoch takes ~{budget.typical_epoch():.0f} s; stopping with the best epoch "
            f"({session.progress.best_val_dice:.2f} at epoch {session.progress.best_epoch + 1})"
        )
    return allowed


def _out_of_time(session: TrainingSession) -> bool:
    return session.budget is not None and session.budget.out_of_time()


def _mark_budget(session: TrainingSession) -> None:
    """Time the epoch just saved (training, validation, checkpoints) against the budget."""
    if session.budget is not None:
        session.budget.mark_epoch()
        session.progress.training_seconds = session.budget.elapsed()


def _train_epoch(session: TrainingSession, epoch: int, cancel: CancelCheck | None) -> EpochStats:
    config, context = session.config, session.context
    set_loader_epoch(session.train_loader, epoch)
    meter = StepMeter(
        epoch=epoch,
        epochs=None if session.budget is not None else config.epochs,  # a budget stops on time
        steps=-(-len(session.train_loader) // config.grad_accum_steps),
        every=config.log_every,
        stream=session.reporter.stream,
    )
    settings = replace(session.settings, freeze_encoder=epoch < config.freeze_encoder_epochs,
                       freeze_batchnorm=config.freeze_batchnorm)
    if session.budget is not None:
        cancel = _or_out_of_time(cancel, session.budget.out_of_time)
    if session.threads is not None:
        session.threads.epoch_started()
    return train_one_epoch(
        session.trained,
        batches_with_skips(session.train_loader, session.skips, context.is_main),
        loss_fn=session.loss_fn,
        optimizer=session.optimizer,
        scaler=session.scaler,
        settings=settings,
        meter=meter,
        encoder=getattr(session.model, "encoder", None),
        cancel=_shared_cancel(cancel, context),
        on_step=_after_step(session),
    )


def _after_step(session: TrainingSession) -> Callable[[int], None] | None:
    """What follows each optimiser step: the weight average moves, the thread chooser times it."""
    average, threads = session.average, session.threads
    if average is None and threads is None:
        return None

    def after_step(images: int) -> None:
        if average is not None:
            average.update(session.model)
        if threads is not None:
            threads.step_done(images)
    return after_step


def _or_out_of_time(cancel: CancelCheck | None, out_of_time: CancelCheck) -> CancelCheck:
    return lambda: bool(cancel and cancel()) or out_of_time()


def _shared_cancel(cancel: CancelCheck | None, context: DistributedContext) -> CancelCheck | None:
    """Rank 0's cancel decision, seen by every process at the same step."""
    if cancel is None and not context.enabled:
        return None
    return lambda: broadcast_flag(bool(cancel and cancel()), context)


def _epoch_record(
    session: TrainingSession,
    epoch: int,
    stats: EpochStats,
    scores: dict[str, float],
    durations: list[float],
) -> dict[str, Any]:
    config, state = session.config, session.progress
    losses = average_across_processes(
        {"train_loss": stats.loss, "train_ce": stats.ce, "train_dice_loss": stats.dice},
        session.context,
    )
    remaining = config.epochs - epoch - 1
    eta = remaining * sum(durations) / len(durations)
    if session.budget is not None:
        eta = min(eta, max(0.0, session.budget.seconds - session.budget.elapsed()))
    return {
        "epoch": epoch,
        "epochs": config.epochs,
        **losses,
        **scores,
        "best_val_dice": state.best_val_dice,
        "best_epoch": state.best_epoch,
        "lr": session.optimizer.param_groups[0]["lr"],
        "epoch_time_s": durations[-1],
        "images_per_s": stats.images_per_s * session.context.world_size,
        "eta_s": eta,
        **_budget_used(session),
        "encoder_frozen": epoch < config.freeze_encoder_epochs,
        "skipped": sorted(session.skips.reported),
    }


def _budget_used(session: TrainingSession) -> dict[str, float]:
    """A budgeted run's minutes used and allowed (its epoch count is only a ceiling)."""
    if session.budget is None:
        return {}
    return {"budget_used_min": session.budget.elapsed() / 60,
            "budget_min": session.budget.seconds / 60}


def _save_epoch(session: TrainingSession, improved: bool, record: dict[str, Any]) -> None:
    """Checkpoints and log on rank 0; every process waits so nobody races ahead."""
    if session.context.is_main:
        names = (session.data.class_names, session.data.class_colors)
        scores = {k: v for k, v in record.items() if k.startswith("val_")}
        extra = {
            "epoch": record["epoch"] + 1,
            "validation": scores,
            "data_split": session.data.description,
            "trained_on": session.trained_on,
        }
        model = session.saved_model
        save_run_checkpoint(model, session.run_dir / LAST_CHECKPOINT, session.config, names,
                            **extra)
        if improved:
            save_run_checkpoint(model, session.run_dir / BEST_CHECKPOINT, session.config, names,
                                **extra)
        _save_state(session)
        session.reporter.epoch(record)
    barrier(session.context)


def _save_state(session: TrainingSession) -> None:
    if session.context.is_main:
        save_training_state(
            session.resume_path,
            model=session.model,
            optimizer=session.optimizer,
            scheduler=session.scheduler,
            scaler=session.scaler,
            progress=session.progress,
            average=session.average.state_dict() if session.average is not None else None,
        )


def _stop_early(session: TrainingSession) -> bool:
    patience = session.config.early_stopping_patience
    stop = patience > 0 and session.progress.epochs_without_improvement >= patience
    if stop:
        best, epoch = session.progress.best_val_dice, session.progress.best_epoch + 1
        session.reporter.message(
            f"early stop: no better {_selection_name(session)} for {patience} epochs "
            f"(best {best:.2f} at epoch {epoch})"
        )
    return stop


def _selection_name(session: TrainingSession) -> str:
    clicked = session.model.config.click_inputs
    return "validation Dice after clicks" if clicked else "validation Dice"


def _result(session: TrainingSession, status: str) -> RunResult:
    run_dir, state = session.run_dir, session.progress
    best, last = run_dir / BEST_CHECKPOINT, run_dir / LAST_CHECKPOINT
    return RunResult(
        run_dir=run_dir,
        status=status,
        epochs_completed=state.next_epoch,
        best_epoch=state.best_epoch,
        best_val_dice=state.best_val_dice,
        best_checkpoint=best if best.exists() else None,
        last_checkpoint=last if last.exists() else None,
        history=list(state.history),
        skipped_images=dict(session.skips.reported),
    )
