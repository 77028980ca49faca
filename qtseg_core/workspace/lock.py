"""One writer per workspace: an exclusive OS file lock on ``<ws>/.lock``.

``filelock`` takes it with ``flock`` on Linux and macOS and ``msvcrt`` on
Windows. The operating system releases the lock when its process dies, so the
lock of a killed app never blocks the next start. The holder writes its pid,
host and start time into ``<ws>/.lock-holder.json`` only so that the error
message can name it.
"""

from __future__ import annotations

import json
import os
import socket
from datetime import datetime, timezone
from pathlib import Path

from filelock import FileLock, Timeout

from qtseg_core.workspace.errors import WorkspaceLockedError

LOCK_NAME = ".lock"
HOLDER_NAME = ".lock-holder.json"


class WorkspaceLock:
    """Holds the exclusive lock of a workspace folder until :meth:`release`."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / LOCK_NAME
        self.holder_path = folder / HOLDER_NAME
        # Not thread-local: the app may close a workspace from another thread than opened it.
        self._lock = FileLock(self.path, timeout=0, thread_local=False)

    def acquire(self) -> None:
        """Take the lock or raise WorkspaceLockedError naming the holder."""
        try:
            self._lock.acquire()
        except Timeout:
            raise _locked_error(self.path.parent, _read_holder(self.holder_path)) from None
        _write_holder(self.holder_path)

    def release(self) -> None:
        """Give the lock back (a holder file left behind names nobody once unlocked)."""
        if self._lock.is_locked:
            self._lock.release(force=True)

    @property
    def held(self) -> bool:
        return self._lock.is_locked


def _write_holder(path: Path) -> None:
    record = {"pid": os.getpid(), "host": socket.gethostname(),
              "since": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    path.write_text(json.dumps(record), encoding="utf-8")


def _read_holder(path: Path) -> dict[str, object]:
    try:
        return json.loads(path.read_text(encoding="utf-8") or "{}")
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
