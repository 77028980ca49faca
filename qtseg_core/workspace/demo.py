"""The demo workspace: real images and licences shipped in ``qtseg_core/resources/demo``,
and the bundled starter model that a workspace with no model of its own starts with.

``qtseg-app`` with no argument opens :func:`default_demo_location`, built on
first start by :func:`ensure_demo_workspace` and kept as the user left it.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from qtseg_core.resources import DEMO_IMAGES, STARTER_MODEL, resource_path
from qtseg_core.workspace.schema import DB_NAME
from qtseg_core.workspace.workspace import Workspace

STARTER_VERSION = "starter"


def default_demo_location() -> Path:
    """Per-user folder for the demo workspace.

    Linux: ``$XDG_DATA_HOME/qtseg-studio/demo`` (default ~/.local/share/...);
    macOS: ~/Library/Application Support/qtseg-studio/demo;
    Windows: %LOCALAPPDATA%\\qtseg-studio\\demo.
    """
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local"))
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "qtseg-studio" / "demo"


def build_demo_workspace(dest: str | Path, *, starter_model: Path | None = None) -> Path:
    """Copy the demo images into ``dest/images`` and create a workspace there.

    Groups are the volume ids (the name before ``_z``), from the file names.
    ``starter_model`` (default: the shipped one, when present) is registered as
    the current model. Refuses a ``dest`` that already holds a workspace.
    """
    dest = Path(dest).expanduser().resolve()
    if (dest / DB_NAME).exists():
        raise FileExistsError(f"'{dest}' already holds a workspace; open it, or delete it "
                              "to rebuild the demo from scratch.")
    source = resource_path(DEMO_IMAGES)
    (dest / "images").mkdir(parents=True, exist_ok=True)
    for image in sorted(source.glob("*.png")):
        shutil.copyfile(image, dest / "images" / image.name)
    with Workspace.open(dest) as ws:
        register_starter(ws, starter_model)
    return dest


def ensure_demo_workspace(dest: str | Path | None = None) -> Path:
    """The demo workspace folder, built on first use (kept as the user left it after)."""
    dest = Path(dest) if dest is not None else default_demo_location()
    if not (dest / DB_NAME).exists():
        build_demo_workspace(dest)
    return dest


def register_starter(ws: Workspace, starter_model: Path | None = None) -> None:
    """Register the bundled starter (or ``starter_model``) as version 'starter', current;
    nothing when the file is not installed."""
    model = starter_model if starter_model is not None else resource_path(STARTER_MODEL)
    if Path(model).is_file():
        ws.register_model(model, version=STARTER_VERSION, make_current=True,
                          note="Starter model shipped with QTSeg Studio (demonstration only).")
