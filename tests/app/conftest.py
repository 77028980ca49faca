"""Fixtures for the app tests: a workspace folder of real images and a tiny real model."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.app.helpers import copy_real_images, write_tiny_model


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_model(tmp_path_factory.mktemp("model") / "tiny.safetensors")


@pytest.fixture
def image_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "ws"
    copy_real_images(folder / "images")
    return folder


@pytest.fixture
def no_dialogs(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """Replace modal prompts: the reviewer is 'Dr Test', flags get a comment, a model the gate
    cannot vouch for is not installed; errors logged."""
    from qtseg_app.qt import dialogs

    errors: list[tuple[str, str]] = []
    monkeypatch.setattr(dialogs, "ask_reviewer_name", lambda parent: "Dr Test")
    monkeypatch.setattr(dialogs, "ask_flag_comment", lambda parent, name: "needs an expert")
    monkeypatch.setattr(dialogs, "ask_close_during_finetune", lambda parent: "cancel")
    monkeypatch.setattr(dialogs, "ask_install_unsure",
                        lambda parent, question, old, previews=(): False)
    monkeypatch.setattr(dialogs, "show_error",
                        lambda parent, title, problem, todo, blocking=False:
                        errors.append((title, problem)))
    return errors


@pytest.fixture(autouse=True)
def _no_bundled_starter(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """In these tests a folder with no model opens with no model. The product loads the
    bundled starter there; the tests of that behaviour ask for ``with_starter``."""
    if "with_starter" in request.fixturenames:
        return
    from qtseg_app.services import models

    monkeypatch.setattr(models, "bundled_starter", lambda: None)


@pytest.fixture
def with_starter() -> None:
    """Keep the product's behaviour: a workspace with no model starts with the starter."""
