"""Fine-tune on corrections through the real window: the button, progress, gate, rollback.

The workspace holds 64 px tiles of the real DSB2018 nuclei image (qtseg_core/resources/demo),
five of them corrected with their true masks (four train, one validation), two
left unreviewed. The starting model is deliberately useless: it predicts
background everywhere, so its validation Dice is 0. One epoch on two busy cores
learns too little to beat it (the gate keeps the old model on equal scores), so
the accept path reads the candidate's scores one point higher (``credit_candidate``);
on one validation image that is too little for the gate to vouch for, so the window
asks, and the test answers "Install". The gain itself is measured in
tests/core/test_finetune.py.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
import torch
from PySide6 import QtCore, QtWidgets

from qtseg_app.qt import dialogs
from qtseg_app.services import finetune_runner
from qtseg_app.services.finetune import store_settings, stored_settings
from qtseg_core.checkpoint import save_model
from qtseg_core.finetune import FinetuneSettings, gate
from qtseg_core.models import build_model
from qtseg_core.workspace import MaskKind, Workspace
from tests.app.helpers import open_active, wait_for_model
from tests.core.finetune_helpers import TINY, correct, nuclei_workspace

TILES, CORRECTED = 7, 5  # the 5th corrected tile is the validation image
ONE_STEP = FinetuneSettings(input_size=64, epochs=1, patience=0, lr=3e-3, batch_size=4,
                            augment=False)
FINISH_MS = 150_000  # one epoch + scoring on two cores shared with other work


def background_model(path: Path) -> Path:
    """A tiny QTSeg that predicts background everywhere (logit 0 for the object, > 0 else).

    Logits are class tokens . decoder features; the features after the last
    LayerNorm + GELU sum to > 0 at every pixel, so a constant positive
    background token and a zero object token make every pixel background.
    """
    torch.manual_seed(0)
    model = build_model("qtseg", **TINY)
    with torch.no_grad():
        for cls, value in ((0, 2.0), (1, 0.0)):
            last = model.decoder.stages[0].token_handoff[cls].layers[2]
            last.weight.zero_()
            last.bias.fill_(value)
    save_model(model, path, input_size=64, name="background only")
    return path


@pytest.fixture
def window(qtbot, tmp_path: Path, no_dialogs):  # noqa: ANN201
    """The real window on the tiles with the useless model (v1), five tiles corrected."""
    folder, truth = nuclei_workspace(tmp_path / "ws", TILES)
    win = open_active(qtbot, folder, background_model(tmp_path / "background.safetensors"))
    correct(win.ws, truth, CORRECTED)
    win.session.refill()
    store_settings(win.ws, ONE_STEP)
    yield win
    win.close()


def credit_candidate(monkeypatch) -> None:  # noqa: ANN001
    """The gate in the app judges the candidate's per-image Dice one point higher."""
    judge = gate.judge
    monkeypatch.setattr(gate, "judge", lambda rows, empty=(): judge(
        [(i, old, new + 1.0) for i, old, new in rows], empty))


def prediction_version(ws, image_id: int) -> str | None:  # noqa: ANN001
    latest = ws.latest_mask(image_id, MaskKind.PREDICTION)
    return None if latest is None else latest.model_version


def unreviewed_ids(ws) -> list[int]:  # noqa: ANN001
    return [image.id for image in ws.images()][CORRECTED:]


def answer_install_question(monkeypatch, button: str) -> list[str]:  # noqa: ANN001
    """The real "Install the fine-tuned model?" box, its exec() pressing ``button``
    (e.g. "Install", "Keep"); returns the questions shown, each with the names of the
    validation images whose old and new masks the box shows."""
    shown: list[str] = []

    def press(box: QtWidgets.QMessageBox) -> int:
        comparison = box.findChild(QtWidgets.QWidget, "mask_comparison")
        names = [] if comparison is None else [
            label.text() for label in comparison.findChildren(QtWidgets.QLabel)]
        shown.append(box.text() + "\nmasks shown: " + ", ".join(names))
        next(b for b in box.buttons() if b.text().startswith(button)).click()
        return 0

    monkeypatch.setattr(dialogs, "ask_install_unsure", ASK_INSTALL)
    monkeypatch.setattr(QtWidgets.QMessageBox, "exec", press)
    return shown


ASK_INSTALL = dialogs.ask_install_unsure  # the real one (no_dialogs replaces it)


def test_button_fine_tunes_in_a_child_process_and_the_new_model_takes_over(
        qtbot, window, no_dialogs, monkeypatch) -> None:
    credit_candidate(monkeypatch)
    asked = answer_install_question(monkeypatch, "Install")
    button, panel = window.model_panel.fine_tune_button, window.finetune_panel
    assert button.isEnabled() and "accepted and corrected" in button.toolTip()
    assert window.status.model.text() == "Model: v1 · background only on cpu"
    progress: list[str] = []
    window.finetune.runner.progress.connect(lambda _e: progress.append(
        panel.progress_label.text()))

    with qtbot.waitSignal(window.finetune.finished, timeout=FINISH_MS) as ended:
        qtbot.mouseClick(button, QtCore.Qt.MouseButton.LeftButton)
        assert window.finetune.running and not button.isEnabled()
        assert panel.cancel_button.isVisible() and panel.progress_bar.isVisible()
        first = window.current_id
        window.session.open_next()  # annotating goes on while the model trains
        assert window.current_id != first
    assert ended.args == ["accepted"], no_dialogs
    [question] = asked  # one validation tile: the user decides, seeing its scores
    assert "on 1 image(s)" in question and "nuclei_" in question and "→ new" in question
    assert "masks shown: <b>validation image</b>" in question  # old and new, not only scores
    assert "<b>v1 (in use)</b>" in question and "<b>new model</b>" in question
    assert progress and progress[0].startswith("Epoch 1/1 · loss ")
    assert "val Dice" in progress[0] and "left" in progress[0]  # epoch, loss, Dice, time

    ws = window.ws
    assert ws.current_model().version == "v2" and ws.current_model().parent == "v1"
    wait_for_model(qtbot, window)  # v2 is read in the background
    assert window.status.model.text().startswith("Model: v2 ")  # + the parent's name
    assert window.status.model.text().endswith(" on cpu")
    assert "v2 in use" in panel.state_label.text() and button.isEnabled()
    rows = [panel.versions.topLevelItem(i) for i in range(panel.versions.topLevelItemCount())]
    assert [(row.text(0), row.text(2)) for row in rows] == [("v2 (in use)", "4"), ("v1", "—")]
    assert "fine-tuned from v1" in rows[0].toolTip(3) and "registered" in rows[1].toolTip(0)
    assert float(rows[0].text(1)) >= 0.0 and rows[1].text(1) == "—"
    # the images nobody reviewed are predicted again, by v2, in the background
    qtbot.waitUntil(lambda: all(prediction_version(ws, i) == "v2"
                                for i in unreviewed_ids(ws)), timeout=30_000)

    # roll back: v1 is in use again, named in the status bar, and re-predicts
    panel.versions.setCurrentItem(rows[1])
    qtbot.mouseClick(panel.rollback_button, QtCore.Qt.MouseButton.LeftButton)
    assert ws.current_model().version == "v1"
    wait_for_model(qtbot, window)
    assert window.status.model.text() == "Model: v1 · background only on cpu"
    qtbot.waitUntil(lambda: all(prediction_version(ws, i) == "v1"
                                for i in unreviewed_ids(ws)), timeout=30_000)
    assert not no_dialogs


def test_cancel_stops_the_child_and_keeps_the_current_model(qtbot, window, no_dialogs) -> None:
    store_settings(window.ws, FinetuneSettings(input_size=64, epochs=200, patience=0))
    models_before = window.ws.models()
    with qtbot.waitSignal(window.finetune.runner.status, timeout=FINISH_MS):
        window.finetune.start()  # the same slot the button calls
    job_dir = Path(window.finetune.job.output_dir)
    with qtbot.waitSignal(window.finetune.finished, timeout=FINISH_MS) as ended:
        qtbot.mouseClick(window.finetune_panel.cancel_button, QtCore.Qt.MouseButton.LeftButton)
    assert ended.args == ["cancelled"]
    # the engine's clean stop (it can take a while to exit on a loaded machine)
    qtbot.waitUntil(lambda: window.finetune.runner.exit_code == 130, timeout=60_000)
    assert "v1 stays in use" in window.finetune_panel.state_label.text()
    assert window.ws.models() == models_before and window.ws.current_model().version == "v1"
    assert window.status.model.text() == "Model: v1 · background only on cpu"
    assert not job_dir.exists() and window.model_panel.fine_tune_button.isEnabled()
    assert not no_dialogs


def test_closing_the_window_asks_then_cancels_the_child_cleanly(
        qtbot, window, monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[str] = []
    monkeypatch.setattr(dialogs, "ask_close_during_finetune",
                        lambda parent: asked.append("close?") or "cancel")
    store_settings(window.ws, FinetuneSettings(input_size=64, epochs=200, patience=0))
    with qtbot.waitSignal(window.finetune.runner.status, timeout=FINISH_MS):
        window.finetune.start()
    job_dir, child = Path(window.finetune.job.output_dir), window.finetune.runner.process
    exits: list[int] = []
    child.finished.connect(lambda code, _status: exits.append(code))
    window.close()  # never waits for the child; it stops and removes its job folder itself
    assert asked == ["close?"] and not window.isVisible()
    qtbot.waitUntil(lambda: exits == [130], timeout=60_000)
    assert not job_dir.exists()


def test_a_fine_tune_cancelled_on_close_is_not_reported_at_the_next_start(
        qtbot, window, no_dialogs) -> None:
    """The real app exits right after "Cancel it and close", and its child dies with it
    before it can remove its job folder: the next start said the fine-tune "did not finish
    (the app was closed or the process was stopped ...)" of a run the user had cancelled."""
    store_settings(window.ws, FinetuneSettings(input_size=64, epochs=200, patience=0))
    with qtbot.waitSignal(window.finetune.runner.status, timeout=FINISH_MS):
        window.finetune.start()
    folder, child = window.ws.folder, window.finetune.runner.process
    window.close()  # no_dialogs answers "cancel"
    child.kill()  # what the application's exit does to a child still stopping
    child.waitForFinished(10_000)
    again = open_active(qtbot, folder)
    assert not any(title == "Fine-tune did not finish" for title, _ in no_dialogs)
    assert not list((folder / "finetune").glob("*"))  # its folder went all the same
    again.close()


def test_after_cancel_and_close_the_app_lets_the_child_stop_cleanly(tmp_path: Path) -> None:
    """The real app's exit used to kill a child still stopping ("QProcess: Destroyed while
    process is still running"), so its job folder stayed behind; main() now waits for it."""
    import subprocess

    folder, truth = nuclei_workspace(tmp_path / "ws", TILES)
    with Workspace.open(folder) as ws:
        ws.register_model(background_model(tmp_path / "bg.safetensors"), make_current=True)
        correct(ws, truth, CORRECTED)
    marker = tmp_path / "child-stopped"
    script = Path(__file__).with_name("close_during_finetune.py")
    result = subprocess.run([sys.executable, str(script), str(folder), str(marker)],
                            capture_output=True, text=True, timeout=240,
                            env={**os.environ, "QT_QPA_PLATFORM": "offscreen",
                                 "XDG_DATA_HOME": str(tmp_path / "data")})
    assert result.returncode == 0, result.stderr[-2000:]
    assert marker.read_text() == "stopped cleanly", result.stderr[-2000:]
    assert "Destroyed while process" not in result.stderr


def test_closing_during_a_fine_tune_can_wait_for_it(
        qtbot, window, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dialogs, "ask_close_during_finetune", lambda parent: "wait")
    store_settings(window.ws, FinetuneSettings(input_size=64, epochs=200, patience=0))
    with qtbot.waitSignal(window.finetune.runner.status, timeout=FINISH_MS):
        window.finetune.start()
    window.close()
    assert window.isVisible() and window.finetune.running  # still working
    with qtbot.waitSignal(window.finetune.finished, timeout=FINISH_MS):
        window.finetune.cancel()
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=10_000)  # closed once it ended


def test_too_few_reviewed_images_says_how_many_more(qtbot, tmp_path: Path, no_dialogs) -> None:
    folder, truth = nuclei_workspace(tmp_path / "ws", TILES)
    window = open_active(qtbot, folder, background_model(tmp_path / "bg.safetensors"))
    correct(window.ws, truth, 1)
    qtbot.mouseClick(window.model_panel.fine_tune_button, QtCore.Qt.MouseButton.LeftButton)
    assert not window.finetune.running
    [(title, problem)] = no_dialogs
    assert title == "Not enough reviewed images to fine-tune"
    assert "validation" in problem and "Accept or correct 1 more image" in problem
    assert not list((folder / "finetune").glob("*"))  # nothing planned, nothing left
    window.close()


def fake_child(monkeypatch: pytest.MonkeyPatch, script: str) -> None:
    """Replace the child's command by ``python -c script`` (``JOB`` is its job.json)."""
    monkeypatch.setattr(finetune_runner, "finetune_command", lambda job_file: [
        sys.executable, "-c", script.replace("JOB", str(job_file))])


@pytest.mark.parametrize(("script", "expected"), [
    ("import sys; print('killed: out of memory', file=sys.stderr); sys.exit(3)",
     ("exit code 3", "out of memory")),
    ("print('{\"event\": \"error\", \"message\": \"RuntimeError: bad file\"}')",
     ("RuntimeError: bad file",)),
])
def test_a_failing_child_shows_its_message_and_changes_nothing(
        qtbot, window, no_dialogs, monkeypatch: pytest.MonkeyPatch, script: str,
        expected: tuple[str, ...]) -> None:
    fake_child(monkeypatch, script)
    with qtbot.waitSignal(window.finetune.finished, timeout=30_000) as ended:
        window.finetune.start()
    assert ended.args == ["failed"]
    [(title, problem)] = no_dialogs
    assert title == "Fine-tune failed" and all(text in problem for text in expected)
    assert [m.version for m in window.ws.models()] == ["v1"]
    assert window.ws.image(1).status.value == "corrected"
    assert not list((window.ws.folder / "finetune").glob("*"))


def test_a_refused_model_is_reported_with_both_scores(
        qtbot, window, no_dialogs, monkeypatch: pytest.MonkeyPatch) -> None:
    """The app's side of a refusal (the real gate refusing is tests/core/test_finetune.py)."""
    script = ("import json, pathlib; job = json.loads(pathlib.Path(r'JOB').read_text()); "
              "outcome = dict(job_dir=job['output_dir'], candidate_path=job['model_path'], "
              "parent_version='v1', old_dice=55.0, new_dice=41.5, val_images=1, "
              "accepted=False, stop_reason='completed', epochs_run=1, best_epoch=1, "
              "train_seconds=1.0, score_seconds=1.0, "
              "per_image=[[job['val'][0]['image_id'], 55.0, 41.5]]); "
              "print(json.dumps(dict(event='done', outcome=outcome)))")
    fake_child(monkeypatch, script)
    with qtbot.waitSignal(window.finetune.finished, timeout=30_000) as ended:
        window.finetune.start()
    assert ended.args == ["refused"]
    [(title, problem)] = no_dialogs
    assert title == "New model not used" and "41.5 vs 55.0" in problem
    assert [m.version for m in window.ws.models()] == ["v1"]
    assert window.status.model.text() == "Model: v1 · background only on cpu"


DEMO_LIKE = ("import json, pathlib; job = json.loads(pathlib.Path(r'JOB').read_text()); "
             "val = job['val'][0]; outcome = dict(job_dir=job['output_dir'], "
             "candidate_path=job['model_path'], parent_version='v1', old_dice=0.0, "
             "new_dice=7.8, val_images=1, accepted=True, stop_reason='completed', "
             "epochs_run=1, best_epoch=1, train_seconds=1.0, score_seconds=1.0, "
             "per_image=[[val['image_id'], 0.0, 7.8]]); "
             "print(json.dumps(dict(event='done', outcome=outcome)))")


@pytest.mark.parametrize(("button", "how", "in_use"), [("Keep", "refused", "v1"),
                                                       ("Install", "accepted", "v2")])
def test_a_gain_on_one_validation_image_is_installed_only_if_the_user_says_so(
        qtbot, window, no_dialogs, monkeypatch: pytest.MonkeyPatch, button: str, how: str,
        in_use: str) -> None:
    """The demo's case: 0 -> 7.8 on its one validation slice, worse where nobody looked."""
    asked = answer_install_question(monkeypatch, button)
    fake_child(monkeypatch, DEMO_LIKE)
    validation = window.ws.image(window.ws.split_plan().val[0]).name
    with qtbot.waitSignal(window.finetune.finished, timeout=30_000) as ended:
        window.finetune.start()
    assert ended.args == [how] and window.ws.current_model().version == in_use
    [question] = asked
    assert f"{validation}: v1 0.0 → new 7.8" in question and "Too few images" in question
    assert not no_dialogs  # the user's choice is not reported as an error
    state = window.finetune_panel.state_label.text()
    assert ("Kept v1, as you chose" in state) if in_use == "v1" else ("v2 in use" in state)


def test_settings_dialog_stores_what_the_next_fine_tune_uses(qtbot, window) -> None:
    qtbot.mouseClick(window.finetune_panel.settings_button, QtCore.Qt.MouseButton.LeftButton)
    dialog = window.finetune_panel.settings_dialog
    assert dialog.epochs.value() == ONE_STEP.epochs and dialog.input_size.value() == 64
    dialog.epochs.setValue(12)
    dialog.input_size.setValue(dialog.input_size.minimum())  # "auto"
    dialog.lr.setValue(5e-4)
    dialog.accept()
    settings = stored_settings(window.ws)
    assert (settings.epochs, settings.input_size, settings.lr) == (12, None, 5e-4)
    assert json.loads(json.dumps(settings.to_dict())) == settings.to_dict()
