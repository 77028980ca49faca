"""The subprocess protocol between the app and ``qtseg finetune --job JOB.json --events``.

The app plans the job in its own process (``plan_finetune(workspace, settings)``
writes ``<ws>/finetune/<timestamp>/job.json``), then starts::

    python -m qtseg_core finetune --job <job.json> --events

The child never opens the workspace (the app keeps its lock). It writes one
JSON object per line to stdout, flushed at once; logs for people go to stderr::

    {"event": "status", "message": "fine-tuning v3 on 12 images"}
    {"event": "progress", "epoch": 3, "epochs": 30, "loss": 0.41, "val_dice": 55.2,
     "best_val_dice": 56.0, "eta_s": 80.5}
    {"event": "done", "outcome": {...FinetuneOutcome.to_dict()...}}      exit code 0
    {"event": "cancelled", "message": "Fine-tune cancelled; v3 stays in use."}  exit 130
    {"event": "error", "message": "what went wrong and what to do"}      exit code 1

``epoch`` counts from 1; ``val_dice`` is the canvas Dice x100 used for early
stopping; ``eta_s`` assumes no early stop. Exactly one of done / cancelled /
error ends the stream.

Cancel: write ``cancel`` and a newline to the child's stdin (every platform),
or send SIGTERM (``QProcess.terminate()`` on Linux/macOS) or SIGINT. The child
stops at the next training step, removes its job folder and writes
``cancelled``. A hard kill leaves the job folder behind, never the workspace
changed. After ``done`` the app calls ``apply_outcome(workspace,
FinetuneJob.load(job_file), FinetuneOutcome.from_dict(event["outcome"]))``.
"""

from __future__ import annotations

import contextlib
import json
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

from qtseg_core.finetune.engine import run_finetune
from qtseg_core.finetune.errors import FinetuneCancelled
from qtseg_core.finetune.job import FinetuneJob
from qtseg_core.training import ProgressEvent

EVENT_KINDS = ("status", "progress", "done", "cancelled", "error")
EXIT_DONE, EXIT_ERROR, EXIT_CANCELLED = 0, 1, 130
CANCEL_LINE = "cancel"


class CancelFlag:
    """Set once by a signal, a ``cancel`` line on stdin or the caller; polled by the run."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def set(self, *_: object) -> None:
        self._event.set()

    def __call__(self) -> bool:
        return self._event.is_set()


class EventWriter:
    """Writes protocol events as JSON lines, one flush per line."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def emit(self, kind: str, **fields: Any) -> None:
        self.stream.write(json.dumps({"event": kind, **fields}) + "\n")
        self.stream.flush()

    def progress(self, event: ProgressEvent) -> None:
        self.emit("progress", **progress_fields(event))


def progress_fields(event: ProgressEvent) -> dict[str, Any]:
    """The protocol's view of a training ProgressEvent (epoch from 1, rounded numbers)."""
    return {
        "epoch": event.epoch + 1,
        "epochs": event.epochs,
        "loss": round(event.train_loss, 5),
        "val_dice": round(event.val_dice, 3),
        "best_val_dice": round(event.best_val_dice, 3),
        "eta_s": round(event.eta_s, 1),
    }


def parse_event(line: str) -> dict[str, Any]:
    """One stdout line of the child -> its event dict; ValueError for anything else."""
    try:
        event = json.loads(line)
    except json.JSONDecodeError as error:
        raise ValueError(f"Not a fine-tune event line: {line[:200]!r}") from error
    if not isinstance(event, dict) or event.get("event") not in EVENT_KINDS:
        raise ValueError(f"Unknown fine-tune event: {line[:200]!r}; known: {EVENT_KINDS}.")
    return event


def run_job_with_events(
    job_path: str | Path, out: TextIO | None = None, stdin: TextIO | None = None
) -> int:
    """Run the job at ``job_path`` speaking the protocol on ``out``; returns the exit code."""
    writer = EventWriter(out or sys.stdout)
    cancel = CancelFlag()
    with _cancel_sources(cancel, stdin), contextlib.redirect_stdout(sys.stderr):
        try:
            job = FinetuneJob.load(job_path)
            outcome = run_finetune(job, progress=writer.progress, cancel=cancel,
                                   status=lambda text: writer.emit("status", message=text))
        except FinetuneCancelled as stop:
            writer.emit("cancelled", message=str(stop))
            return EXIT_CANCELLED
        except Exception as error:  # noqa: BLE001 - every failure must reach the app as an event
            writer.emit("error", message=f"{type(error).__name__}: {error}")
            return EXIT_ERROR
    writer.emit("done", outcome=outcome.to_dict())
    return EXIT_DONE


@contextlib.contextmanager
def _cancel_sources(cancel: CancelFlag, stdin: TextIO | None) -> Iterator[None]:
    """SIGTERM / SIGINT and a ``cancel`` line on ``stdin`` set ``cancel`` while inside."""
    in_main = threading.current_thread() is threading.main_thread()  # signals need it
    previous = {sig: signal.signal(sig, cancel.set) for sig in _cancel_signals()} if in_main else {}
    if stdin is not None:
        threading.Thread(target=_watch_stdin, args=(stdin, cancel), daemon=True).start()
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _cancel_signals() -> list[signal.Signals]:
    """The signals that mean "cancel" here (SIGTERM does not exist as such on Windows)."""
    return [signal.SIGINT] + ([signal.SIGTERM] if hasattr(signal, "SIGTERM") else [])


def _watch_stdin(stdin: TextIO, cancel: CancelFlag) -> None:
    for line in stdin:
        if line.strip().lower() == CANCEL_LINE:
            cancel.set()
            return
