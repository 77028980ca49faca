"""Noticing that a running workspace's own files were deleted or replaced under it.

While a workspace is open for writing, SQLite keeps committed changes in
``workspace.sqlite-wal`` until they are folded into the database, and the
``.lock`` file keeps a second writer out. A program that deletes either one
(a clean-up tool, a sync client, a user tidying up) makes later commits go to
an unlinked file (lost at close) or lets another process write at the same
time. The guard records which file each name pointed to at open and checks it
around every commit; on a change the workspace stops writing and says why.
Only names and inodes are compared, so it works with any lock implementation.
"""

from __future__ import annotations

import os
from pathlib import Path

from qtseg_core.workspace.errors import WorkspaceError

_CONSEQUENCES = {
    "wal": "the changes saved since then would be lost when the workspace is closed",
    "lock": "a second QTSeg Studio or fine-tune could write to the workspace at the same time",
}


class WorkspaceFilesChangedError(WorkspaceError):
    """A file the open workspace relies on was deleted or replaced; nothing more is written."""


class WriteGuard:
    """Remembers the files behind ``names`` (kind -> path) and refuses writes once one changes."""

    def __init__(self, paths: dict[str, Path]) -> None:
        self._paths = paths
        self._identities = {kind: _identity(path) for kind, path in paths.items()}
        self.problem: str | None = None

    def check(self) -> None:
        """Raise WorkspaceFilesChangedError if a watched file is gone or is another file now."""
        if self.problem is None:
            for kind, path in self._paths.items():
                if self._identities[kind] is not None and _identity(path) != self._identities[kind]:
                    self.problem = _message(kind, path)
                    break
        if self.problem is not None:
            raise WorkspaceFilesChangedError(self.problem)


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        status = os.stat(path)
    except FileNotFoundError:
        return None
    return status.st_dev, status.st_ino


def _message(kind: str, path: Path) -> str:
    return (
        f"'{path}' was deleted or replaced while the workspace was open (by another program, "
        f"a sync or clean-up tool?); {_CONSEQUENCES[kind]}, so QTSeg Studio stopped saving. "
        "Close the workspace and open it again; check the last edits after reopening."
    )
