"""Closing the window while the model still loads ends the process cleanly, never an abort.

On a busy machine the model load can outlive the 10 s a closing window waits for it.
Its worker thread (Qt's, which Python does not join) then ran into the interpreter's
exit, where a torch or ONNX Runtime call is stopped in a ``noexcept`` frame: the process
aborted with status 134 ("terminate called without an active exception").
"""

from __future__ import annotations

import pytest

from tests.app.helpers import run_window_script

# Opens the window (ONNX Runtime as a user has it), then closes it while the model
# load is surely still running: the close's wait is cut to 0 ms, as if the load took
# longer than the 10 s it waits.
_CLOSE_DURING_THE_LOAD = """
import sys
from PySide6 import QtWidgets
QtWidgets.QApplication.exec = lambda *args: 0
from qtseg_app.services.models import ModelService
wait_for_load = ModelService.shutdown
ModelService.shutdown = lambda self, timeout_ms=0: wait_for_load(self, 0)
from qtseg_app.__main__ import main
status = main([sys.argv[1]])
from qtseg_app.qt.app import _open_windows
for window in _open_windows:
    window.close()
print("closed, status", status)
"""


@pytest.mark.slow
def test_closing_during_the_model_load_exits_with_status_0(tmp_path):
    result = run_window_script(_CLOSE_DURING_THE_LOAD, tmp_path, QTSEG_INFERENCE_BACKEND="auto",
                               QTSEG_CACHE_DIR=str(tmp_path / "cache"))
    assert "closed, status 0" in result.stdout
    assert "terminate called" not in result.stderr
