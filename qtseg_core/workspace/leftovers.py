"""What a killed session leaves behind, removed at the next open for writing.

Every write goes through a temporary file or folder that a kill can strand:
``.<name>.<random>.tmp`` files of ``io.atomic_write``, mask PNGs written just
before the row naming them was committed, the hidden ``.<export>.partial-*`` /
``.<export>.old-*`` folders of an export, and fine-tune job folders. Only files
matching those exact patterns (and job folders holding the job marker) are
removed; nothing else is ever touched.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from qtseg_core.workspace._base import MASK_FOLDER, MODEL_FOLDER, WorkspaceBase
from qtseg_core.workspace.images import FINETUNE_FOLDER, JOB_MARKER

_TEMPORARY = re.compile(r"^\..+\.[A-Za-z0-9_]{8}\.tmp$")  # tempfile.mkstemp's random part
_MASK_FILE = re.compile(r"^\d{6}-(prediction|correction)-[0-9a-f]{12}\.png$")
_EXPORT_COPY = re.compile(r"^\..+\.(partial|old)-[0-9a-f]{8}$")


def clean_leftovers(ws: WorkspaceBase) -> list[Path]:
    """Remove a killed session's leftovers from ``ws`` (open for writing); returns them."""
    found = [*_temporary_files(ws.folder), *_orphan_masks(ws), *_export_copies(ws.folder),
             *_job_folders(ws.folder)]
    for path in found:
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    return found


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
