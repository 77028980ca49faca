"""The fine-tune split in the window (what goes where, the user's choice per image), and
the report of a fine-tune a killed session left unfinished."""

from __future__ import annotations

from pathlib import Path

from qtseg_core.workspace import Workspace
from tests.app.helpers import open_active, wait_for_model
from tests.core.finetune_helpers import correct, nuclei_workspace, weak_model


def open_corrected(qtbot, tmp_path: Path):  # noqa: ANN001, ANN201
    """Seven nuclei tiles, five corrected by the annotator, a tiny model."""
    folder, truth = nuclei_workspace(tmp_path / "ws", 7)
    window = open_active(qtbot, folder, weak_model(tmp_path / "weak.safetensors"))
    correct(window.ws, truth, 5)
    window.session.refill()
    window.split.refresh()
    return window


def test_the_fine_tune_dock_says_where_the_corrected_images_go(qtbot, tmp_path, no_dialogs):
    window = open_corrected(qtbot, tmp_path)
    box = window.finetune_panel.split_box

    assert box.summary_label.text() == "Split: 4 training · 1 validation · 0 left out."
    assert box.summary_label.toolTip()[:1].isupper()  # why, as a sentence
    window.session.open_image(window.ws.images()[-1].id)  # an image nobody corrected
    assert "not in the split" in box.image_label.text() and not no_dialogs
    window.close()


def test_the_user_moves_the_image_on_screen_to_validation_or_out(qtbot, tmp_path, no_dialogs):
    window = open_corrected(qtbot, tmp_path)
    box, actions = window.finetune_panel.split_box, window.actions_by_name
    first = window.ws.images()[0].id
    window.session.open_image(first)

    actions["split_val"].trigger()
    assert window.ws.image(first).split == "val"
    assert box.image_label.text() == "This image: validation, chosen."
    assert " 2 validation " in box.summary_label.text()

    actions["split_excluded"].trigger()
    assert window.ws.split_plan().sides[first] == "excluded"
    assert "1 left out" in box.summary_label.text()

    actions["split_automatic"].trigger()
    assert window.ws.image(first).split is None
    assert box.image_label.text().endswith(", automatic.") and not no_dialogs
    window.close()


def test_accepting_an_image_puts_it_in_the_split(qtbot, tmp_path, no_dialogs):
    window = open_corrected(qtbot, tmp_path)
    box = window.finetune_panel.split_box
    last = window.ws.images()[-1].id
    window.session.open_image(last)
    qtbot.waitUntil(lambda: window.document.prediction is not None, timeout=20_000)

    window.actions_by_name["accept"].trigger()

    qtbot.waitUntil(lambda: last in window.split.plan.sides, timeout=5_000)
    line = box.summary_label.text().split(".")[0]  # 'Split: 4 training · 2 validation ...'
    counts = [int(word) for word in line.split() if word.isdigit()]
    assert sum(counts) == 6 and not no_dialogs  # the accepted image is counted
    window.close()


def test_a_fine_tune_a_killed_session_left_unfinished_is_reported_at_start(
        qtbot, tmp_path, no_dialogs):
    from qtseg_core.finetune import plan_finetune

    folder, truth = nuclei_workspace(tmp_path / "ws", 7)
    with Workspace.open(folder) as ws:
        ws.register_model(weak_model(tmp_path / "weak.safetensors"))
        correct(ws, truth, 5)
        job = plan_finetune(ws)  # then the app was killed before the fine-tune ended

    window = open_active(qtbot, folder)

    [(title, problem)] = no_dialogs
    assert title == "Fine-tune did not finish"
    assert problem.startswith("The fine-tune of v1 started ") and "did not finish" in problem
    assert not Path(job.output_dir).exists()
    window.close()


def test_a_fine_tune_that_finished_after_the_app_closed_is_judged_at_start(
        qtbot, tmp_path, no_dialogs, monkeypatch):
    from qtseg_app.qt import dialogs
    from qtseg_core.finetune import plan_finetune
    from qtseg_core.io import write_json_atomic
    from tests.core.test_finetune_plan import outcome_for

    folder, truth = nuclei_workspace(tmp_path / "ws", 7)
    with Workspace.open(folder) as ws:
        ws.register_model(weak_model(tmp_path / "weak.safetensors"))
        correct(ws, truth, 5)
        job = plan_finetune(ws)  # the child finished; the app was killed before applying it
        write_json_atomic(Path(job.output_dir, "outcome.json"),
                          outcome_for(job, old=20.0, new=35.0).to_dict())

    asked: list[str] = []  # one validation tile: the app asks, the user says install
    monkeypatch.setattr(dialogs, "ask_install_unsure",
                        lambda parent, question, old, previews=(): asked.append(question) or True)
    window = open_active(qtbot, folder)

    [question] = asked
    assert "v1 20.0 → new 35.0" in question
    [(title, problem)] = no_dialogs
    assert title == "New model in use" and "finished after the app was closed" in problem
    assert window.ws.current_model().version == "v2"
    wait_for_model(qtbot, window)
    assert window.status.model.text().startswith("Model: v2 ")
    window.close()
