"""One writer per workspace: an exclusive ``flock`` on ``<ws>/.lock``.

The operating system releases a flock when its process dies, so the lock of
a killed app never blocks the next start; the pid/host written into the file
only serve to name the holder in the error message.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
from datetime import datetime, timezone
from pathlib import Path

from qtseg_core.workspace.errors import WorkspaceLockedError

LOCK_NAME = ".lock"


class WorkspaceLock:
    """Holds the exclusive lock of a workspace folder until :meth:`release`."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / LOCK_NAME
        self._handle: int | None = None

    def acquire(self) -> None:
        """Take the lock or raise WorkspaceLockedError naming the holder."""
        handle = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_holder(handle)
            os.close(handle)
            raise _locked_error(self.path.parent, holder) from None
        self._handle = handle
        _write_holder(handle)

    def release(self) -> None:
        """Give the lock back (the file stays; an unlocked file means nothing)."""
        if self._handle is None:
            return
        fcntl.flock(self._handle, fcntl.LOCK_UN)
        os.close(self._handle)
        self._handle = None

    @property
    def held(self) -> bool:
        return self._handle is not None


def _write_holder(handle: int) -> None:
    record = {"pid": os.getpid(), "host": socket.gethostname(),
              "since": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    os.ftruncate(handle, 0)
    os.pwrite(handle, json.dumps(record).encode(), 0)


def _read_holder(handle: int) -> dict[str, object]:
    try:
        return json.loads(os.pread(handle, 4096, 0).decode() or "{}")
    except (ValueError, OSError):
        return {}


def _locked_error(folder: Path, holder: dict[str, object]) -> WorkspaceLockedError:
    pid = holder.get("pid")
    host = holder.get("host")
    who = f"process {pid} on {host}" if pid else "another process"
    since = f" since {holder['since']}" if holder.get("since") else ""
    return WorkspaceLockedError(
        f"The workspace '{folder}' is open in {who}{since}. Close the other QTSeg Studio "
        "window (or wait for the fine-tune to finish), or open a copy of the folder.",
        pid=pid if isinstance(pid, int) else None,
        host=host if isinstance(host, str) else None,
    )
