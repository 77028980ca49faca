"""Cancel, then Fine-tune again at once: the old child's late signals never land on the new
run (issue 16, item 12)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from PySide6 import QtWidgets

from tests.app.test_finetune import fake_child, window  # noqa: F401 - the fixture

# A child that says "cancelled" at once when asked, but takes 1.5 s more to exit (it ignores
# SIGTERM), as the real engine does while it cleans up.
SLOW_TO_EXIT = (
    "import json, signal, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
    "print(json.dumps(dict(event='status', message='training')), flush=True); "
    "sys.stdin.readline(); "
    "print(json.dumps(dict(event='cancelled', message='Fine-tune cancelled.')), flush=True); "
    "time.sleep(1.5)")


def test_the_old_childs_exit_does_not_end_the_new_run(
        qtbot, window, no_dialogs, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    fake_child(monkeypatch, SLOW_TO_EXIT)
    service = window.finetune
    with qtbot.waitSignal(service.runner.status, timeout=30_000):
        service.start()
    first = service.runner.process
    with qtbot.waitSignal(service.finished, timeout=30_000) as ended:
        service.cancel()
    assert ended.args == ["cancelled"]
    endings: list[str] = []
    service.finished.connect(endings.append)
    with qtbot.waitSignal(service.runner.status, timeout=30_000):
        service.start()  # again at once, while the first child is still exiting
    second_job = Path(service.job.output_dir)
    assert service.runner.process is not first
    deadline = time.monotonic() + 4.0  # the first child exits meanwhile
    while time.monotonic() < deadline:
        QtWidgets.QApplication.processEvents()
        time.sleep(0.05)
    assert endings == [] and service.running  # the new run goes on
    assert window.session.finetune.running
    assert second_job.is_dir()  # its job folder was not deleted
    assert not no_dialogs
    with qtbot.waitSignal(service.finished, timeout=30_000) as ended:
        service.cancel()
    assert ended.args == ["cancelled"]
