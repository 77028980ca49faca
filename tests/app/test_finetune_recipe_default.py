"""The Fine-tune button uses the measured recipe for the data size until the user sets their own."""

from __future__ import annotations

from dataclasses import replace

from PySide6 import QtCore, QtWidgets

from qtseg_app.services.finetune import store_settings, stored_settings
from qtseg_core.finetune import plan_finetune
from qtseg_core.finetune.settings import finetune_recipe
from tests.app.helpers import open_active
from tests.core.finetune_helpers import correct, nuclei_workspace, weak_model


def test_with_no_stored_settings_the_next_fine_tune_uses_the_recipe(
        qtbot, tmp_path, no_dialogs) -> None:
    folder, truth = nuclei_workspace(tmp_path / "ws", 7)
    window = open_active(qtbot, folder, weak_model(tmp_path / "weak.safetensors"))
    correct(window.ws, truth, 6)
    recipe = finetune_recipe(len(window.ws.split_plan().train))

    assert stored_settings(window.ws) is None
    job = plan_finetune(window.ws, stored_settings(window.ws))  # what the button plans
    assert (job.settings.epochs, job.settings.patience) == (recipe.epochs, recipe.patience)
    qtbot.mouseClick(window.finetune_panel.settings_button, QtCore.Qt.MouseButton.LeftButton)
    assert window.finetune_panel.settings_dialog.epochs.value() == recipe.epochs
    assert recipe.epochs != 60 and not no_dialogs  # not the plain defaults
    dialog = window.finetune_panel.settings_dialog
    dialog.epochs.setValue(12)  # what the dialog has no field for stays the recipe's
    assert dialog.settings() == replace(recipe, epochs=12)
    assert not dialog.settings().freeze_batchnorm  # 5 training tiles fill a batch
    dialog.reject()
    window.close()


def test_restore_defaults_shows_the_recipe_and_ok_lets_it_follow_the_corrections(
        qtbot, tmp_path, no_dialogs) -> None:
    folder, truth = nuclei_workspace(tmp_path / "ws", 7)
    window = open_active(qtbot, folder, weak_model(tmp_path / "weak.safetensors"))
    correct(window.ws, truth, 6)
    store_settings(window.ws, replace(finetune_recipe(5), epochs=12, lr=5e-4))
    qtbot.mouseClick(window.finetune_panel.settings_button, QtCore.Qt.MouseButton.LeftButton)
    dialog = window.finetune_panel.settings_dialog
    assert dialog.epochs.value() == 12  # the user's own settings are shown first
    restore = dialog.findChild(QtWidgets.QDialogButtonBox).button(
        QtWidgets.QDialogButtonBox.StandardButton.RestoreDefaults)
    qtbot.mouseClick(restore, QtCore.Qt.MouseButton.LeftButton)

    recipe = finetune_recipe(len(window.ws.split_plan().train))
    assert (dialog.epochs.value(), dialog.patience.value(), dialog.lr.value()) == (
        recipe.epochs, recipe.patience, recipe.lr)
    assert dialog.settings() == recipe and not dialog.settings().freeze_batchnorm
    dialog.accept()
    assert stored_settings(window.ws) is None  # the next fine-tune plans the recipe for its data
    job = plan_finetune(window.ws, stored_settings(window.ws))
    assert job.settings == replace(recipe, input_size=job.settings.input_size)
    assert "measured recipe" in window.statusBar().currentMessage()
    window.close()
