"""Opening a workspace into a window, with errors shown as dialogs (never a crash)."""

from __future__ import annotations

from pathlib import Path

from PySide6 import QtWidgets

from qtseg_app.qt import dialogs
from qtseg_app.qt.main_window import MainWindow
from qtseg_core.io import is_image_file
from qtseg_core.workspace import (
    Workspace,
    WorkspaceDatabaseError,
    WorkspaceError,
    WorkspaceLockedError,
)
from qtseg_core.workspace.scan import READABLE_FILES, image_root
from qtseg_core.workspace.schema import DB_NAME

_open_windows: list[MainWindow] = []  # keeps windows opened from a menu alive


def locked_message(folder: Path, error: WorkspaceLockedError) -> tuple[str, str]:
    """(problem, what to do) for a workspace another process holds."""
    holder = f" by process {error.pid}" if error.pid else ""
    holder += f" on {error.host}" if error.host else ""
    return (f"The workspace {folder} is already open{holder}.",
            "Close the other QTSeg Studio window (or wait for the fine-tune to finish), "
            "then open it again. Two programs writing one workspace could corrupt it, so "
            "QTSeg Studio refuses.")


def open_workspace(folder: str | Path, parent: QtWidgets.QWidget | None = None
                   ) -> Workspace | None:
    """Open or create the workspace; on failure show a dialog and return None."""
    folder = Path(folder).expanduser()
    if not folder.exists() and not dialogs.confirm_new_workspace(parent, folder):
        return None
    try:
        return Workspace.open(folder)
    except WorkspaceLockedError as error:
        problem, todo = locked_message(folder, error)
        dialogs.show_error(parent, "Workspace in use", problem, todo, blocking=True)
    except WorkspaceDatabaseError as error:
        dialogs.show_error(parent, "Workspace database cannot be opened", str(error),
                           "Nothing in the folder was changed.", blocking=True)
    except (WorkspaceError, OSError) as error:
        dialogs.show_error(parent, "Cannot open workspace", f"{folder}: {error}",
                           f"Copy it to a folder you can write to and open the copy, e.g. "
                           f"cp -r '{folder}' ~/{folder.name or 'images'}; qtseg-app "
                           f"~/{folder.name or 'images'}.", blocking=True)
    return None


def open_window(folder: str | Path, model: str | Path | None = None) -> MainWindow | None:
    """Open the workspace in a new, shown window (None when it could not be opened)."""
    ws = open_workspace(folder)
    if ws is None:
        return None
    nothing = nothing_readable(ws)
    if nothing is not None:
        dialogs.show_error(None, "No image to show", *nothing, blocking=True)
    window = MainWindow(ws)
    window.workspace_requested.connect(lambda other: _switch(window, other))
    window.show()
    window.raise_()
    window.activateWindow()  # the keyboard shortcuts go to the active window
    window.start()
    if model is not None:
        window.load_model(str(model))
    _open_windows.append(window)
    return window


def nothing_readable(ws: Workspace) -> tuple[str, str] | None:
    """(problem, what to do) when the workspace holds no image the product can read,
    naming the files it skipped and why; None when there is something to show."""
    if ws.next_image(None) is not None:  # one indexed query, not a record per image
        return None
    images = ws.images()
    root = image_root(ws.folder)
    skipped = [f"{image.name}: {image.read_error}" for image in images]
    skipped += [f"{path.name}: not an image format QTSeg Studio reads"
                for path in sorted(root.iterdir()) if path.is_file()
                and not path.name.startswith(".") and not is_image_file(path)
                and not path.name.startswith(DB_NAME)]
    listed = "\n".join(skipped[:10]) + (f"\n... and {len(skipped) - 10} more"
                                         if len(skipped) > 10 else "")
    return (f"{root} holds no image QTSeg Studio can read"
            + (f"; it skipped:\n{listed}" if skipped else " (it is empty)."),
            f"Put {READABLE_FILES} in {root} (or its images/ folder) and open it again.")


def _switch(window: MainWindow, folder: str) -> None:
    """Open ``folder`` in a new window, then close ``window`` (kept open on failure)."""
    if open_window(folder) is not None:
        window.close()
