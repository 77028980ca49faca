"""Changing the model without freezing the window: read in the background, newest wins."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from qtseg_app.services import model_loading
from tests.app.helpers import open_active, wait_for_model, write_tiny_model


def hold_loads(monkeypatch: pytest.MonkeyPatch, held: str) -> threading.Event:
    """Make reading checkpoints named ``held`` wait until the returned event is set
    (at most 5 s), as a slow full-size model would."""
    gate, read = threading.Event(), model_loading.load_checkpoint

    def slow_load(path: Path):  # noqa: ANN202
        if Path(path).name == held:
            gate.wait(5)
        return read(path)

    monkeypatch.setattr(model_loading, "load_checkpoint", slow_load)
    return gate


def test_the_window_and_the_old_model_keep_working_while_a_model_loads(
        qtbot, image_folder: Path, tiny_checkpoint: Path, tmp_path: Path, no_dialogs,
        monkeypatch: pytest.MonkeyPatch) -> None:
    window = open_active(qtbot, image_folder, tiny_checkpoint)
    second = write_tiny_model(tmp_path / "second.safetensors", seed=1)
    gate = hold_loads(monkeypatch, second.name)

    window.load_model(str(second))  # returns at once: the checkpoint is read in the background
    assert window.models.loading
    assert window.statusBar().currentMessage() == "Loading model second.safetensors…"
    with qtbot.waitSignal(window.prediction_shown, timeout=20_000):
        window.session.open_next()  # v1 still predicts the images opened meanwhile
    assert window.document.prediction.model_version == "v1"
    assert window.status.model.text().startswith("Model: v1 ")

    gate.set()
    wait_for_model(qtbot, window)
    assert window.status.model.text().startswith("Model: v2 ")
    assert window.ws.current_model().version == "v2" and not no_dialogs
    assert "Loading" not in window.statusBar().currentMessage()
    window.close()


def test_a_load_overtaken_by_a_newer_one_is_never_used(
        qtbot, image_folder: Path, tiny_checkpoint: Path, tmp_path: Path, no_dialogs,
        monkeypatch: pytest.MonkeyPatch) -> None:
    window = open_active(qtbot, image_folder, tiny_checkpoint)
    slow = write_tiny_model(tmp_path / "slow.safetensors", seed=1)
    fast = write_tiny_model(tmp_path / "fast.safetensors", seed=2)
    gate = hold_loads(monkeypatch, slow.name)
    used: list[str] = []
    window.models.model_changed.connect(lambda info: used.append(info.version))

    window.load_model(str(slow))
    window.load_model(str(fast))  # the user changed their mind before slow was read
    assert window.statusBar().currentMessage() == "Loading model fast.safetensors…"
    gate.set()
    wait_for_model(qtbot, window)
    qtbot.wait(200)  # room for a late, stale result to (wrongly) arrive

    assert used == ["v2"] and window.status.model.text().startswith("Model: v2 ")
    [v1, v2] = window.ws.models()  # the overtaken checkpoint was never registered
    assert v2.is_current and fast.name in (v2.note or "")
    assert window.service.model_version == "v2" and not no_dialogs
    window.close()
