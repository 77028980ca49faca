"""Temporary files of atomic writes, named after their writer, and the rule that removes a
crashed writer's leftovers.

:func:`qtseg_core.io.write_temporary` names each temporary file
``.<name>.<pid>@<host>.<random>.tmp``. A writer that is killed (or loses
power) between writing a file and renaming it into place leaves that file
behind. A later run (``qtseg predict`` into the same folder) removes one only
when its writer is certainly gone:

- it was written on this host by a process that no longer runs, or
- it was last changed more than :data:`STALE_AFTER_S` ago (a writer on any
  host renames its temporaries within seconds; a day also covers a process
  that was suspended).

A temporary of a live writer (another rank of the same torchrun, on this node
or on another one sharing the folder) is never touched. Writers on one host
are told apart by pid, so containers sharing a folder need their own host
names (Docker and Kubernetes give each container one by default). Files not
named this way (older temporaries, other programs' files) are left alone.
"""

from __future__ import annotations

import functools
import os
import re
import socket
import time
from pathlib import Path

#: A temporary file older than this is removed whoever wrote it.
STALE_AFTER_S = 24 * 3600

_TEMPORARY = re.compile(r"^\..+\.(?P<pid>\d+)@(?P<host>[A-Za-z0-9-]+)\.[A-Za-z0-9_]{8}\.tmp$")


def temporary_prefix(path: Path) -> str:
    """The start of a temporary file's name for ``path``: ``.<name>.<pid>@<host>.``."""
    return f".{path.name}.{os.getpid()}@{_host()}."


def stale_temporaries(folder: Path, *, now: float | None = None) -> list[Path]:
    """The temporary files in ``folder`` (not its subfolders) whose writer is gone."""
    now = time.time() if now is None else now
    try:
        entries = list(os.scandir(folder))
    except (FileNotFoundError, NotADirectoryError):
        return []
    return [Path(entry.path) for entry in entries
            if entry.name.startswith(".") and _is_stale(entry, now)]


def remove_stale_temporaries(folders: set[Path]) -> list[Path]:
    """Remove the stale temporary files in each of ``folders``; returns those removed."""
    removed = []
    for folder in sorted(folders):
        for path in stale_temporaries(folder):
            try:
                path.unlink()
            except FileNotFoundError:
                continue  # another process removed it first
            removed.append(path)
    return removed


def _is_stale(entry: os.DirEntry, now: float) -> bool:
    match = _TEMPORARY.match(entry.name)
    if match is None or not entry.is_file(follow_symlinks=False):
        return False
    try:
        if now - entry.stat(follow_symlinks=False).st_mtime > STALE_AFTER_S:
            return True
    except FileNotFoundError:
        return False  # renamed into place meanwhile
    return match["host"] == _host() and not _running(int(match["pid"]))


def _running(pid: int) -> bool:
    """Whether a process ``pid`` runs on this host; True when that cannot be told."""
    if os.name != "posix":
        return True  # os.kill(pid, 0) would send CTRL_C_EVENT on Windows: the age rule only
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True


@functools.cache
def _host() -> str:
    """This host's name (its first 32 characters: a file name holds 255), with anything but
    letters, digits and '-' made '-'."""
    return re.sub(r"[^A-Za-z0-9-]", "-", socket.gethostname())[:32] or "host"
