"""Runs one planned fine-tune in a child process and turns its JSON lines into signals.

The child is ``python -m qtseg_core finetune --job JOB.json --events``, the same
code path as the ``qtseg finetune`` command (protocol:
:mod:`qtseg_core.finetune.protocol`). Training in another process keeps the
interface responsive and means a crash of the training (out of memory, a
native library fault) cannot take the window or the annotations with it.

Everything here is asynchronous: QProcess reports through the event loop, and
nothing ever waits for the child on the GUI thread.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from PySide6 import QtCore

import qtseg_core
from qtseg_core.finetune import FinetuneJob, discard_job, note_cancelled, parse_event
from qtseg_core.finetune.protocol import CANCEL_LINE

#: After Cancel, how long the child may take to stop cleanly before it is killed.
KILL_AFTER_MS = 15_000
#: How much of the child's stderr is kept to explain a crash.
STDERR_TAIL_CHARS = 4_000


def finetune_command(job_file: Path) -> list[str]:
    """The child's command line (program first): the ``qtseg finetune`` entry point."""
    return [sys.executable, "-m", "qtseg_core", "finetune", "--job", str(job_file), "--events"]


class FinetuneRunner(QtCore.QObject):
    """One fine-tune child process at a time; exactly one of done / cancelled / failed ends it."""

    status = QtCore.Signal(str)  # a line for people ("fine-tuning v1 on 12 images")
    progress = QtCore.Signal(dict)  # the protocol's progress event (epoch from 1, loss, ...)
    done = QtCore.Signal(dict)  # FinetuneOutcome.to_dict() of the finished run
    cancelled = QtCore.Signal(str)  # the run stopped on request; nothing was registered
    failed = QtCore.Signal(str)  # what went wrong, for an error dialog

    def __init__(self, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self.job: FinetuneJob | None = None
        self.exit_code: int | None = None  # of the last child, once it has exited
        self._process: QtCore.QProcess | None = None
        self._stdout = b""
        self._stderr = ""
        self._ended = True
        self._cancel_requested = False

    @property
    def running(self) -> bool:
        return not self._ended

    @property
    def process(self) -> QtCore.QProcess | None:
        """The child of the run in progress (None before the first run and after detach)."""
        return self._process

    def start(self, job: FinetuneJob) -> None:
        """Start the child for a planned job (``job.json`` already written)."""
        if self.running:
            raise RuntimeError("A fine-tune is already running; cancel it or wait for it.")
        self.job, self.exit_code, self._stdout, self._stderr = job, None, b"", ""
        self._ended, self._cancel_requested = False, False
        self._let_go(self._process)  # a cancelled child still exiting: never this run's
        process = QtCore.QProcess(self)
        process.setProcessEnvironment(_child_environment())
        # each slot asks which process emitted (sender()); an earlier run's are ignored
        process.readyReadStandardOutput.connect(self._on_stdout)
        process.readyReadStandardError.connect(self._on_stderr)
        process.finished.connect(self._on_finished)
        process.errorOccurred.connect(self._on_error)
        self._process = process
        program, *arguments = finetune_command(job.job_file)
        process.start(program, arguments)

    def cancel(self) -> None:
        """Ask the child to stop: a ``cancel`` line on stdin and SIGTERM; killed if it hangs."""
        process = self._process
        if not self.running or process is None:
            return
        self._cancel_requested = True
        if self.job is not None:
            note_cancelled(self.job)
        process.write(f"{CANCEL_LINE}\n".encode())
        if sys.platform != "win32":
            process.terminate()  # SIGTERM: the engine's clean cancel
        QtCore.QTimer.singleShot(KILL_AFTER_MS, self, lambda: _kill_if_running(process))

    def detach(self) -> None:
        """Cancel and let the child finish stopping on its own (the window is closing)."""
        if not self.running or self._process is None:
            return
        self.cancel()
        self._ended = True
        self._let_go(self._process)

    def _let_go(self, process: QtCore.QProcess | None) -> None:
        """Stop listening to ``process`` and let it outlive this runner (and the window)
        while it exits, so the child can clean up."""
        if process is None:
            return
        if self._process is process:
            self._process = None
        application = QtCore.QCoreApplication.instance()
        if process.state() == QtCore.QProcess.ProcessState.NotRunning:
            process.deleteLater()
        elif application is not None:
            process.setParent(application)
            process.finished.connect(process.deleteLater)

    # ---- child output ---------------------------------------------------------------------
    def _from_this_run(self) -> QtCore.QProcess | None:
        """The process that emitted the signal being handled, if it is this run's child."""
        process = self.sender()
        return process if process is not None and process is self._process else None

    def _on_stdout(self) -> None:
        if self._from_this_run() is not None:
            self._read_stdout(self._process)

    def _read_stdout(self, process: QtCore.QProcess) -> None:
        self._stdout += bytes(process.readAllStandardOutput())
        *lines, self._stdout = self._stdout.split(b"\n")
        for line in lines:
            self._handle_line(line.decode("utf-8", errors="replace").strip())

    def _on_stderr(self) -> None:
        process = self._from_this_run()
        if process is None:
            return
        text = bytes(process.readAllStandardError()).decode("utf-8", errors="replace")
        self._stderr = (self._stderr + text)[-STDERR_TAIL_CHARS:]

    def _handle_line(self, line: str) -> None:
        if not line or self._ended:
            return
        try:
            event = parse_event(line)
        except ValueError:
            return  # stray output of a library: not part of the protocol
        kind = event["event"]
        if kind == "status":
            self.status.emit(str(event.get("message", "")))
        elif kind == "progress":
            self.progress.emit(event)
        elif kind == "done":
            self._end("done", event["outcome"])
        elif kind == "cancelled":
            self._end("cancelled", str(event.get("message", "Fine-tune cancelled.")))
        else:
            self._end("failed", str(event.get("message", "The fine-tune failed.")))

    def _end(self, kind: str, payload: object) -> None:
        """Report how the run ended ("done", "cancelled", "failed"), once; a run without a
        result leaves no job folder."""
        self._ended = True
        if kind != "done" and self.job is not None:
            discard_job(self.job)  # the child removes it too, unless it was killed
        getattr(self, kind).emit(payload)

    # ---- child exit -----------------------------------------------------------------------
    def _on_finished(self, exit_code: int, exit_status: QtCore.QProcess.ExitStatus) -> None:
        process = self._from_this_run()
        if process is None:
            return  # an earlier run's child exiting late: not this run's end
        self.exit_code = exit_code
        self._read_stdout(process)
        self._handle_line(self._stdout.decode("utf-8", errors="replace").strip())
        if self._ended:
            return
        if self._cancel_requested:
            version = self.job.model_version if self.job else "the current model"
            self._end("cancelled", f"Fine-tune cancelled; {version} stays in use.")
            return
        crashed = exit_status == QtCore.QProcess.ExitStatus.CrashExit
        how = "crashed" if crashed else f"stopped with exit code {exit_code}"
        self._end("failed", f"The fine-tune process {how} without a result.{self._log_tail()}")

    def _on_error(self, error: QtCore.QProcess.ProcessError) -> None:
        process = self._from_this_run()
        if process is None:
            return
        if error == QtCore.QProcess.ProcessError.FailedToStart and not self._ended:
            program = finetune_command(Path("JOB.json"))[0]
            self._end("failed", f"The fine-tune process could not start ({program}): "
                                   f"{process.errorString()}")

    def _log_tail(self) -> str:
        lines = [line for line in self._stderr.strip().splitlines() if line.strip()][-6:]
        return "\n\nLast lines of its log:\n" + "\n".join(lines) if lines else ""


def wait_for_stopping_children(application: QtCore.QCoreApplication,
                               timeout_ms: int = KILL_AFTER_MS) -> None:
    """At the application's exit: give each cancelled child ``_let_go`` handed to
    ``application`` up to ``timeout_ms`` to stop cleanly (it removes its job folder), then
    kill it. Without this the end of the QApplication, their parent, kills them at once
    ("QProcess: Destroyed while process is still running")."""
    for process in application.findChildren(QtCore.QProcess):
        try:
            if process.state() != QtCore.QProcess.ProcessState.NotRunning \
                    and not process.waitForFinished(timeout_ms):
                process.kill()
                process.waitForFinished(1_000)
        except RuntimeError:
            pass  # it exited and was deleted meanwhile


def _kill_if_running(process: QtCore.QProcess) -> None:
    """Kill a cancelled child that did not stop in time (that child, never a newer one)."""
    try:
        if process.state() != QtCore.QProcess.ProcessState.NotRunning:
            process.kill()
    except RuntimeError:
        pass  # it exited and was deleted meanwhile


def _child_environment() -> QtCore.QProcessEnvironment:
    """This process's environment, unbuffered, with the source tree importable."""
    environment = QtCore.QProcessEnvironment.systemEnvironment()
    environment.insert("PYTHONUNBUFFERED", "1")
    source_root = str(Path(qtseg_core.__file__).resolve().parents[1])
    existing = environment.value("PYTHONPATH", "")
    environment.insert("PYTHONPATH", os.pathsep.join(p for p in (source_root, existing) if p))
    return environment
