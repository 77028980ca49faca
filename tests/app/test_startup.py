"""Starting the app: demo workspace, a folder, a locked workspace, a bad checkpoint."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6 import QtWidgets

from qtseg_app import __main__ as entry
from qtseg_app.qt import app as app_module
from qtseg_core.workspace import Workspace
from tests.app.helpers import wait_for_model


@pytest.fixture
def no_event_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(QtWidgets.QApplication, "exec", lambda *args: 0)


def _last_window():  # noqa: ANN202
    window = app_module._open_windows.pop()
    return window


def test_no_argument_opens_demo_workspace(qtbot, tmp_path: Path, monkeypatch, no_event_loop,
                                          no_dialogs) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert entry.main([]) == 0
    window = _last_window()
    qtbot.addWidget(window)
    wait_for_model(qtbot, window)  # the demo's starter model loads in the background
    assert str(window.ws.folder).startswith(str(tmp_path / "data"))
    assert window.filmstrip.model.rowCount() > 0 and window.document is not None
    assert not no_dialogs
    window.close()


def test_folder_is_created_and_bad_model_is_a_dialog(qtbot, image_folder: Path, tmp_path: Path,
                                                     no_event_loop, no_dialogs) -> None:
    bad = tmp_path / "broken.safetensors"
    bad.write_bytes(b"not a checkpoint")
    assert entry.main([str(image_folder), "--model", str(bad)]) == 0
    window = _last_window()
    qtbot.addWidget(window)
    wait_for_model(qtbot, window)
    assert (image_folder / "workspace.sqlite").exists()
    assert window.document is not None  # manual annotation still possible
    assert no_dialogs and no_dialogs[0][0] == "Model not loaded"
    assert "broken.safetensors" in no_dialogs[0][1]
    window.close()


def test_locked_workspace_gives_a_clear_dialog(qtbot, image_folder: Path, no_event_loop,
                                               no_dialogs) -> None:
    with Workspace.open(image_folder):  # another program holds it
        assert entry.main([str(image_folder)]) == 1
    assert no_dialogs[0][0] == "Workspace in use"
    assert "already open" in no_dialogs[0][1]


def test_loading_a_model_replaces_the_no_model_hint(qtbot, image_folder: Path, tmp_path: Path):
    from tests.app.helpers import open_active, write_tiny_model

    window = open_active(qtbot, image_folder)
    assert "No model" in window.statusBar().currentMessage()
    window.models.load_checkpoint(write_tiny_model(tmp_path / "tiny.safetensors"))
    qtbot.waitUntil(lambda: "on cpu" in window.status.model.text(), timeout=5000)
    assert "No model" not in window.statusBar().currentMessage()
    window.close()


@pytest.mark.parametrize("create", [False, True])
def test_a_missing_folder_is_created_only_when_the_user_says_so(
        qtbot, tmp_path: Path, monkeypatch, no_event_loop, no_dialogs, create) -> None:
    from qtseg_app.qt import dialogs

    asked = []
    monkeypatch.setattr(dialogs, "confirm_new_workspace",
                        lambda parent, folder: asked.append(folder) or create)
    typo = tmp_path / "typo" / "path"
    code = entry.main([str(typo)])
    assert asked == [typo]
    if not create:
        assert code == 1 and not (tmp_path / "typo").exists()
        return
    window = _last_window()
    qtbot.addWidget(window)
    assert code == 0 and (typo / "workspace.sqlite").is_file()
    assert no_dialogs and no_dialogs[0][0] == "No image to show"
    window.close()


def test_a_folder_with_nothing_readable_says_which_files_it_skipped_and_why(
        qtbot, tmp_path: Path, no_event_loop, no_dialogs) -> None:
    folder = tmp_path / "scans"
    folder.mkdir()
    (folder / "notes.txt").write_text("not an image")
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    assert entry.main([str(folder)]) == 0
    window = _last_window()
    qtbot.addWidget(window)
    (title, problem), = no_dialogs
    assert title == "No image to show" and "holds no image QTSeg Studio can read" in problem
    assert "broken.png: " in problem and "corrupt" in problem
    assert "notes.txt: not an image format" in problem
    window.close()


def test_an_empty_folder_says_volumes_may_go_in_it_too(qtbot, tmp_path: Path, no_event_loop,
                                                      no_dialogs, monkeypatch) -> None:
    from qtseg_app.qt import dialogs

    told: list[str] = []
    monkeypatch.setattr(dialogs, "show_error", lambda parent, title, problem, todo,
                        blocking=False: told.append(todo))
    (tmp_path / "scans").mkdir()
    assert entry.main([str(tmp_path / "scans")]) == 0
    window = _last_window()
    qtbot.addWidget(window)
    assert "PNG" in told[0] and "NIfTI" in told[0] and "DICOM series" in told[0]
    window.close()


def test_a_damaged_workspace_database_is_a_dialog_naming_it(qtbot, image_folder: Path,
                                                            no_event_loop, no_dialogs) -> None:
    (image_folder / "workspace.sqlite").write_bytes(b"not a database " * 100)
    assert entry.main([str(image_folder)]) == 1
    (title, problem), = no_dialogs
    assert title == "Workspace database cannot be opened"
    assert "workspace.sqlite' is damaged" in problem
