"""The click tool's refinements, computed off the GUI thread.

A random walker on a large object, or a click model's forward pass, can take
more than the 50 ms a GUI thread may block; :class:`RefineService` runs each
:class:`~qtseg_app.state.click_tool.RefineJob` in one worker thread and hands
the answer back through a queued signal, so the click tool applies it on the
GUI thread (where it checks that the mask has not changed meanwhile).
"""

from __future__ import annotations

from PySide6 import QtCore

from qtseg_app.services.worker_pool import worker_pool
from qtseg_app.state.click_tool import Done, RefineJob


class _RefineTask(QtCore.QRunnable):
    def __init__(self, service: RefineService, ticket: int, job: RefineJob) -> None:
        super().__init__()
        self._service, self._ticket, self._job = service, ticket, job

    def run(self) -> None:
        try:
            result: object = self._job.run()
        except Exception as error:  # noqa: BLE001 - reported by the click tool
            result = error
        try:
            self._service.finished.emit(self._ticket, result)
        except RuntimeError:
            pass  # the window closed while this click was refined


class RefineService(QtCore.QObject):
    """Runs refinements one at a time in a worker thread (a ``RefineRunner``)."""

    finished = QtCore.Signal(int, object)  # internal: ticket, mask or exception

    def __init__(self, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = worker_pool(self)
        self._callbacks: dict[int, tuple[RefineJob, Done]] = {}
        self._ticket = 0
        self.finished.connect(self._on_finished)

    def submit(self, job: RefineJob, done: Done) -> None:
        self._ticket += 1
        self._callbacks[self._ticket] = (job, done)
        self._pool.start(_RefineTask(self, self._ticket, job))

    def wait_idle(self, timeout_ms: int = 30_000) -> bool:
        """Block until the worker is done (closing, tests)."""
        return self._pool.waitForDone(timeout_ms)

    def shutdown(self, timeout_ms: int = 10_000) -> None:
        """Forget the callbacks and wait for a running refinement (the window closes)."""
        self._callbacks.clear()
        self.wait_idle(timeout_ms)

    def _on_finished(self, ticket: int, result: object) -> None:
        entry = self._callbacks.pop(ticket, None)
        if entry is not None:
            job, done = entry
            done(job, result)
