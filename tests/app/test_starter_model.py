"""A folder of the user's own starts with a model: the bundled starter, registered once."""

from __future__ import annotations

from pathlib import Path

from qtseg_core.workspace import Workspace
from tests.app.helpers import open_active


def test_a_new_workspace_starts_with_the_bundled_starter_as_current(
        qtbot, image_folder: Path, no_dialogs, with_starter) -> None:
    window = open_active(qtbot, image_folder)

    assert window.models.info is not None and window.models.info.version == "starter"
    assert window.status.model.text().startswith("Model: starter")
    assert [m.version for m in window.ws.models()] == ["starter"]
    assert window.ws.current_model().path.is_file()  # copied into <ws>/models
    with qtbot.waitSignal(window.prediction_shown, timeout=30_000):
        window.session.open_next()  # the starter predicts what the user opens
    assert window.document.prediction.model_version == "starter" and not no_dialogs
    window.close()


def test_a_workspace_with_a_model_of_its_own_keeps_it(
        qtbot, image_folder: Path, tiny_checkpoint: Path, no_dialogs, with_starter) -> None:
    with Workspace.open(image_folder) as ws:
        ws.register_model(tiny_checkpoint)
    window = open_active(qtbot, image_folder)

    assert window.models.info.version == "v1"
    assert [m.version for m in window.ws.models()] == ["v1"] and not no_dialogs
    window.close()


def test_a_model_given_on_the_command_line_wins_over_the_starter(
        qtbot, image_folder: Path, tiny_checkpoint: Path, no_dialogs, with_starter) -> None:
    window = open_active(qtbot, image_folder, tiny_checkpoint)

    assert window.ws.current_model().version == "v1"
    assert "starter" not in [m.version for m in window.ws.models()] and not no_dialogs
    window.close()
