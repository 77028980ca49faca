"""Kill the app (SIGKILL) in the middle of an edit session and reopen: nothing committed is lost."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from qtseg_core.workspace import MaskKind, ReviewStatus, Workspace
from tests.app.crash_session import stroke_row
from tests.app.helpers import open_active

SCRIPT = Path(__file__).with_name("crash_session.py")
STROKES = 3


def _run_until_stroking(folder: Path) -> list[str]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    process = subprocess.Popen([sys.executable, str(SCRIPT), str(folder), str(STROKES)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=env)
    lines: list[str] = []
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            line = process.stdout.readline().strip()
            if line:
                lines.append(line)
            if line == "stroking" or process.poll() is not None:
                break
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(10)
    if "stroking" not in lines:
        pytest.fail(f"the app did not reach the edit: {lines} {process.stderr.read()[-2000:]}")
    return lines


def test_kill_mid_edit_loses_nothing_committed(qtbot, image_folder: Path, no_dialogs) -> None:
    with Workspace.open(image_folder) as ws:  # create it; the app opens its first image
        first = ws.images()[0].id
    lines = _run_until_stroking(image_folder)
    assert lines.count("saved 3") == 1

    window = open_active(qtbot, image_folder)  # the lock died with the process
    assert window.current_id == first
    ws = window.ws
    assert ws.image(first).status is ReviewStatus.CORRECTED
    saved = ws.read_mask(ws.latest_mask(first, MaskKind.CORRECTION))
    for index in range(STROKES):
        assert saved[int(stroke_row(index)), 30:90].all(), f"stroke {index} was lost"
    assert (window.document.mask == saved).all()  # the window shows what was saved
    window.close()
