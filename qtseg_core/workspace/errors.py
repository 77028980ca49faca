"""Errors the workspace raises; each message names the problem and what to do."""

from __future__ import annotations


class WorkspaceError(Exception):
    """Something about a workspace folder or its contents is wrong."""


class WorkspaceLockedError(WorkspaceError):
    """Another process (another QTSeg Studio window, a fine-tune) holds the workspace.

    ``pid`` and ``host`` name the holder as it recorded itself in ``<ws>/.lock-holder.json``.
    """

    def __init__(self, message: str, *, pid: int | None = None, host: str | None = None) -> None:
        super().__init__(message)
        self.pid = pid
        self.host = host


class WorkspaceDatabaseError(WorkspaceError):
    """``workspace.sqlite`` cannot be opened: damaged, truncated, a folder, or a full disk.

    ``path`` is the database file; the app offers to open read-only or start over.
    """

    def __init__(self, message: str, *, path: object = None) -> None:
        super().__init__(message)
        self.path = path


class WorkspaceWriteError(WorkspaceError):
    """A write failed (disk full, I/O error): nothing of it was stored, the rest is intact."""


class WorkspaceReadOnlyError(WorkspaceError):
    """A write was attempted on a workspace opened with ``read_only=True``."""


class ExportError(WorkspaceError):
    """An export cannot be written where asked (e.g. a non-empty foreign folder)."""
