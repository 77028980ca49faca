"""What a killed session leaves behind, removed at the next open for writing.

Every write goes through a temporary file or folder that a kill can strand:
``.<name>.<pid>@<host>.<random>.tmp`` files of ``io.atomic_write``, mask PNGs written just
before the row naming them was committed, the hidden ``.<export>.partial-*`` /
``.<export>.old-*`` folders of an export, and fine-tune job folders. Only files
matching those exact patterns (and job folders holding the job marker) are
removed; nothing else is ever touched. Before they go, :func:`unfinished_jobs`
says in words which fine-tunes a kill interrupted (the app shows it at start).
A job that finished (``outcome.json``) but was never judged by the gate (no
``gate.json``: the app was closed or killed after the child ended) is kept:
:func:`finished_jobs` lists it, and ``qtseg_core.finetune.apply_finished_jobs``
lets the gate decide at the next start. The last judged job is also kept when the
gate kept its model out only because too few validation images could vouch for it
(``gate.json`` says ``"unsure"``): :func:`awaiting_candidate` finds it, so that
``qtseg finetune WORKSPACE --install-candidate`` can install it on the user's word.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from qtseg_core.workspace._base import MASK_FOLDER, MODEL_FOLDER, WorkspaceBase
from qtseg_core.workspace.images import (
    CANCELLED_FILE,
    FINETUNE_FOLDER,
    GATE_FILE,
    JOB_FILE,
    JOB_MARKER,
    OUTCOME_FILE,
)

_TEMPORARY = re.compile(r"^\..+\.[A-Za-z0-9_]{8}\.tmp$")  # tempfile.mkstemp's random part
_MASK_FILE = re.compile(r"^\d{6}-(prediction|correction)-[0-9a-f]{12}\.png$")
_EXPORT_COPY = re.compile(r"^\..+\.(partial|old)-[0-9a-f]{8}$")


def clean_leftovers(ws: WorkspaceBase) -> list[Path]:
    """Remove a killed session's leftovers from ``ws`` (open for writing); returns them."""
    kept = awaiting_candidate(ws)
    done_with = [folder for folder in _job_folders(ws.folder)
                 if not _awaits_gate(folder) and folder != kept]
    found = [*_temporary_files(ws.folder), *_orphan_masks(ws), *_export_copies(ws.folder),
             *done_with]
    for path in found:
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    return found


def unfinished_jobs(ws: WorkspaceBase) -> list[str]:
    """One line per fine-tune a killed session left unfinished (its job folder has no
    ``outcome.json``), e.g. "The fine-tune of v2 started 2026-12-01 10:00 UTC on 12
    images did not finish ..."; call it before :func:`clean_leftovers` removes them. A run
    the user cancelled (``cancelled`` in its folder: its child was killed as the app
    exited, before it could remove the folder itself) is removed without a word."""
    return [_unfinished_note(folder) for folder in _job_folders(ws.folder)
            if not (folder / OUTCOME_FILE).exists() and not (folder / CANCELLED_FILE).exists()]


def finished_jobs(ws: WorkspaceBase) -> list[Path]:
    """Job folders whose run finished (``outcome.json``) but whose outcome the gate never
    judged (no ``gate.json``), oldest first; kept by :func:`clean_leftovers`."""
    return sorted(folder for folder in _job_folders(ws.folder) if _awaits_gate(folder))


def awaiting_candidate(ws: WorkspaceBase) -> Path | None:
    """The last judged fine-tune's job folder if the gate kept its model out only for too
    few validation images (its ``gate.json`` says unsure, not accepted); else None. A later
    fine-tune that the gate judged, whatever it decided, supersedes it."""
    judged = [folder for folder in _job_folders(ws.folder) if (folder / GATE_FILE).is_file()]
    last = max(judged, key=lambda folder: (folder / GATE_FILE).stat().st_mtime_ns, default=None)
    return last if last is not None and _gate_unsure(last) else None


def _gate_unsure(folder: Path) -> bool:
    try:
        gate = json.loads((folder / GATE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(gate, dict) and gate.get("unsure") is True and not gate.get("accepted")


def _awaits_gate(folder: Path) -> bool:
    return (folder / OUTCOME_FILE).exists() and not (folder / GATE_FILE).exists()


def _unfinished_note(folder: Path) -> str:
    try:
        job = json.loads((folder / JOB_FILE).read_text(encoding="utf-8"))
        started = str(job["created_at"])[:16].replace("T", " ")
        what = (f"of {job['model_version']} started {started} UTC on "
                f"{len(job['train'])} images")
    except (OSError, ValueError, KeyError, TypeError):
        what = f"in {folder.name}"
    return (f"The fine-tune {what} did not finish (the app was closed or the process was "
            "stopped before it ended); its files were removed.")


def _temporary_files(folder: Path) -> list[Path]:
    places = (folder, folder / MASK_FOLDER, folder / MODEL_FOLDER)
    return [p for place in places if place.is_dir() for p in place.iterdir()
            if p.is_file() and _TEMPORARY.match(p.name)]


def _orphan_masks(ws: WorkspaceBase) -> list[Path]:
    """Mask PNGs no mask version names (written, then killed before the commit)."""
    folder = ws.folder / MASK_FOLDER
    if not folder.is_dir():
        return []
    named = {ws._absolute(row["path"]).name
             for row in ws._query("SELECT path FROM mask_versions")}
    return [p for p in folder.iterdir()
            if p.is_file() and _MASK_FILE.match(p.name) and p.name not in named]


def _export_copies(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if p.is_dir() and _EXPORT_COPY.match(p.name)]


def _job_folders(folder: Path) -> list[Path]:
    """Fine-tune job folders from earlier sessions (no job outlives the session that ran it)."""
    root = folder / FINETUNE_FOLDER
    if not root.is_dir():
        return []
    return [p for p in root.iterdir() if (p / JOB_MARKER).is_file()]
