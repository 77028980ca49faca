"""Run by test_finetune in a subprocess: the real app's main(), a fine-tune whose (fake)
child takes a second to stop on SIGTERM, then the window is closed with "Cancel it and
close". Usage: python close_during_finetune.py WORKSPACE MARKER; the child writes MARKER
once it has stopped cleanly."""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from PySide6 import QtCore  # noqa: E402

from qtseg_app import __main__ as entry  # noqa: E402
from qtseg_app.qt import app as app_module  # noqa: E402
from qtseg_app.qt import dialogs  # noqa: E402
from qtseg_app.services import finetune_runner  # noqa: E402

CHILD = """
import signal, sys, time
def stop(*_):
    time.sleep(1.0)  # a clean stop takes a moment: the step in progress ends first
    open(MARKER, "w").write("stopped cleanly")
    sys.exit(130)
signal.signal(signal.SIGTERM, stop)
print('{"event": "status", "message": "fine-tuning (fake)"}', flush=True)
time.sleep(60)
"""


def main() -> int:
    folder, marker = sys.argv[1], sys.argv[2]
    finetune_runner.finetune_command = lambda job_file: [
        sys.executable, "-c", CHILD.replace("MARKER", repr(marker))]
    dialogs.ask_close_during_finetune = lambda parent: "cancel"
    dialogs.show_error = lambda *args, **kwargs: None
    opened = app_module.open_window

    def open_and_cancel(*args: object) -> object:
        window = opened(*args)
        QtCore.QTimer.singleShot(500, window.finetune.start)
        QtCore.QTimer.singleShot(4_000, window.close)
        return window

    app_module.open_window = open_and_cancel
    return entry.main([folder])


if __name__ == "__main__":
    sys.exit(main())
