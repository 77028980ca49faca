"""``qtseg-app [FOLDER] [--model CHECKPOINT]``: the desktop app's entry point.

Without FOLDER the demo workspace (real sample images) opens; with FOLDER the
workspace there is opened or created.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from qtseg_core import __version__


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="qtseg-app", description="Review and correct QTSeg masks on a folder of images.")
    parser.add_argument("folder", nargs="?", help="workspace folder (default: the demo workspace)")
    parser.add_argument("--model", help="a .safetensors checkpoint to use (registered in the "
                        "workspace and made current)")
    parser.add_argument("--version", action="version", version=f"qtseg-studio {__version__}")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Start the app; returns the process exit status."""
    args = parse_args(argv)
    from PySide6 import QtGui, QtWidgets

    from qtseg_app.qt import dialogs
    from qtseg_app.qt.app import open_window
    from qtseg_core.resources import APP_ICON, resource_path

    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(sys.argv[:1])
    app.setApplicationName("QTSeg Studio")
    app.setApplicationVersion(__version__)
    app.setWindowIcon(QtGui.QIcon(str(resource_path(APP_ICON))))
    folder = args.folder
    if folder is None:
        try:
            from qtseg_core.workspace.demo import ensure_demo_workspace

            folder = ensure_demo_workspace()
        except Exception as error:  # noqa: BLE001 - say what failed instead of a traceback
            dialogs.show_error(None, "Demo workspace unavailable", str(error),
                               "Start with a folder of images: qtseg-app FOLDER", blocking=True)
            return 2
    window = open_window(folder, args.model)
    if window is None:
        return 1
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
