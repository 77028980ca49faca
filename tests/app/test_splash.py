"""The app paints a splash before torch and the window's modules have loaded."""

from __future__ import annotations

import pytest

from tests.app.helpers import run_window_script

# Records what was loaded when the splash appeared, then lets the app start without
# entering its event loop, and closes the window.
_START = """
import sys
from PySide6 import QtWidgets
shown = []
QtWidgets.QSplashScreen.show = lambda self: shown.append("torch" in sys.modules)
QtWidgets.QApplication.exec = lambda *args: 0
from qtseg_app.__main__ import main
status = main([sys.argv[1]])
from qtseg_app.qt.app import _open_windows
for window in _open_windows:  # as the user's close would: the workers finish first
    window.close()
print("splash", shown, "status", status, "torch after", "torch" in sys.modules)
"""


@pytest.mark.slow
def test_splash_is_shown_before_torch_is_imported(tmp_path):
    result = run_window_script(_START, tmp_path)
    assert result.stdout.split()[-7:] == ["splash", "[False]", "status", "0", "torch", "after",
                                          "True"]


# Records every splash message, then lets the app start without entering its event loop.
_PROGRESS = """
import sys
from PySide6 import QtWidgets
messages = []
show = QtWidgets.QSplashScreen.showMessage
QtWidgets.QSplashScreen.showMessage = lambda self, text, *a: (messages.append(text),
                                                              show(self, text, *a))
QtWidgets.QApplication.exec = lambda *args: 0
from qtseg_app.__main__ import main
main([sys.argv[1]])
from qtseg_app.qt.app import _open_windows
for window in _open_windows:
    window.close()
for message in messages:
    print(message)
"""


@pytest.mark.slow
def test_the_splash_keeps_saying_what_loads_while_torch_imports_in_the_background(tmp_path):
    result = run_window_script(_PROGRESS, tmp_path)
    messages = result.stdout.splitlines()
    # Repainted again and again while torch loads: the GUI thread is not the one importing it.
    assert sum("loading PyTorch" in m for m in messages) >= 2, messages
    assert any("loading the model" in m for m in messages), messages
    assert messages[-1].endswith("opening the workspace…")
