"""``qtseg-app [FOLDER] [--model CHECKPOINT] [--self-test]``: the desktop app's entry point.

Without FOLDER the demo workspace (real sample images) opens; with FOLDER the
workspace there is opened or created. ``--self-test`` checks the installation
without showing a window and prints one line for a problem report.
"""

from __future__ import annotations

import argparse
import ctypes.util
import importlib
import os
import sys
import threading
from collections.abc import Sequence

from qtseg_core import __version__
from qtseg_core.resources import MODEL_HELP, find_model

# Qt's xcb platform plugin needs these system libraries (Qt >= 6.5 adds xcb-cursor).
# What the window needs that takes seconds to import, in order, as the splash names it.
# Qt-free modules only: a module that touches Qt must be imported by the GUI thread.
HEAVY_MODULES = (("PyTorch", "torch"), ("the model", "qtseg_core.inference"),
                 ("the click tools", "qtseg_core.interactive"),
                 ("fine-tuning", "qtseg_core.finetune"))
XCB_LIBRARIES = ("xcb-cursor", "xkbcommon-x11", "xcb-icccm", "xcb-keysyms", "xcb-shape")
XCB_HINT = ("Qt may not start its window system (xcb plugin): the system libraries {missing} "
            "are missing. On Debian/Ubuntu: sudo apt install libxcb-cursor0 libxkbcommon-x11-0 "
            "libxcb-icccm4 libxcb-keysyms1 libxcb-shape0 (see README, 'Set up').")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="qtseg-app", description="Review and correct QTSeg masks on a folder of images.",
        epilog="--self-test exit status: 0 all good, 2 something is missing or broken "
               "(resource, model, window system), 3 the folder holds no image it can show.")
    parser.add_argument("folder", nargs="?", help="workspace folder (default: the demo workspace)")
    parser.add_argument("--model", type=find_model,
                        help=f"{MODEL_HELP} to use (registered in the workspace and made current)")
    parser.add_argument("--self-test", action="store_true",
                        help="open FOLDER (default: the demo workspace) without a window, "
                             "predict its first image with the current model, print one "
                             "summary line and exit")
    parser.add_argument("--version", action="version", version=f"qtseg-studio {__version__}")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Start the app (or run the self-test); returns the process exit status."""
    args = parse_args(argv)
    if args.self_test:
        return self_test(args.folder)
    warn_missing_xcb_libraries()
    from PySide6 import QtWidgets

    app = make_application(QtWidgets)
    splash = show_splash(app)  # on screen while torch and the window's modules load
    import_in_background(app, splash)
    from qtseg_app.qt import dialogs
    from qtseg_app.qt.app import open_window

    folder = args.folder
    if folder is None:
        try:
            from qtseg_core.workspace.demo import ensure_demo_workspace

            folder = ensure_demo_workspace()
        except Exception as error:  # noqa: BLE001 - say what failed instead of a traceback
            splash.close()
            dialogs.show_error(None, "Demo workspace unavailable", str(error),
                               "Start with a folder of images: qtseg-app FOLDER", blocking=True)
            return 2
    splash.close()  # before open_window: its error dialogs must not hide behind the splash
    window = open_window(folder, args.model)
    if window is None:
        return 1
    code = app.exec()
    from qtseg_app.services.finetune_runner import wait_for_stopping_children

    wait_for_stopping_children(app)  # a fine-tune cancelled on close finishes stopping
    return code


def make_application(qt_widgets: object) -> object:
    """The QApplication, named, versioned and with the QTSeg icon."""
    from PySide6 import QtGui

    from qtseg_core.resources import APP_ICON, resource_path

    app = qt_widgets.QApplication.instance() or qt_widgets.QApplication(sys.argv[:1])
    app.setApplicationName("QTSeg Studio")
    app.setApplicationVersion(__version__)
    app.setWindowIcon(QtGui.QIcon(str(resource_path(APP_ICON))))
    return app


def show_splash(app: object) -> object:
    """A splash with the QTSeg icon, painted at once (before the heavy imports)."""
    from PySide6 import QtWidgets

    splash = QtWidgets.QSplashScreen(app.windowIcon().pixmap(256, 256))
    splash.show()
    show_progress(app, splash, "loading…")
    return splash


def import_in_background(app: object, splash: object) -> None:
    """Import torch and the model code in a thread while the splash says what is loading.

    These imports take seconds; the splash keeps painting meanwhile. An import
    that fails is left to fail again, with its own error, where the window needs it.
    """
    step = [0]
    thread = threading.Thread(target=_import_heavy_modules, args=(step,), daemon=True,
                              name="qtseg-imports")
    thread.start()
    while thread.is_alive():
        label = HEAVY_MODULES[min(step[0], len(HEAVY_MODULES) - 1)][0]
        show_progress(app, splash, f"loading {label} ({step[0] + 1}/{len(HEAVY_MODULES)})…")
        thread.join(0.05)
    show_progress(app, splash, "opening the workspace…")


def _import_heavy_modules(step: list[int]) -> None:
    for index, (_, module) in enumerate(HEAVY_MODULES):
        step[0] = index
        try:
            importlib.import_module(module)
        except Exception:  # noqa: BLE001 - raised again by the window's own import
            return


def show_progress(app: object, splash: object, message: str) -> None:
    from PySide6 import QtCore, QtGui

    splash.showMessage(f"QTSeg Studio {__version__}: {message}",
                       QtCore.Qt.AlignmentFlag.AlignBottom | QtCore.Qt.AlignmentFlag.AlignHCenter,
                       QtGui.QColor("white"))
    app.processEvents()


def self_test(folder: str | None) -> int:
    """``--self-test``: Qt starts (offscreen when there is no display), then the core check."""
    if not has_display():
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    try:
        from PySide6 import QtWidgets

        app = make_application(QtWidgets)
        from qtseg_core.self_test import SelfTestError, run_self_test
    except (ImportError, FileNotFoundError) as error:
        print(f"qtseg-app self-test FAILED: {error}", file=sys.stderr)
        return 2
    try:
        report = run_self_test(folder)
    except SelfTestError as error:
        print(f"qtseg-app self-test FAILED: {error}", file=sys.stderr)
        return error.exit_code
    print(f"{report.summary()}, Qt platform {app.platformName()}")
    return 0


def has_display() -> bool:
    """A window system to draw on: always on Windows/macOS, X11 or Wayland on Linux."""
    if not sys.platform.startswith("linux"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def warn_missing_xcb_libraries() -> None:
    """Print what to install when Qt's xcb plugin would fail to load (it then aborts)."""
    platform = os.environ.get("QT_QPA_PLATFORM", "xcb")
    if not sys.platform.startswith("linux") or not platform.startswith("xcb"):
        return
    missing = [name for name in XCB_LIBRARIES if ctypes.util.find_library(name) is None]
    if missing:
        print(XCB_HINT.format(missing=", ".join(f"lib{name}" for name in missing)),
              file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
