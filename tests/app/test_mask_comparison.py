"""The "Install the fine-tuned model?" box shows the true, old and new masks, not only scores."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from PySide6 import QtWidgets

from qtseg_app.qt import dialogs
from qtseg_app.qt.mask_comparison import MaskComparison
from qtseg_core.finetune.preview import MaskPreview


def preview(folder: Path, name: str) -> MaskPreview:
    """A 64 px slice whose true object is a disk; the old model found nothing, the new one it."""
    image = np.tile(np.linspace(0, 4000, 64, dtype=np.uint16), (64, 1))
    disk = cv2.circle(np.zeros((64, 64), np.uint8), (32, 32), 12, 1, -1)
    paths = {part: str(folder / f"{name}_{part}.png") for part in ("image", "truth", "old", "new")}
    for part, data in (("image", image), ("truth", disk), ("old", disk * 0), ("new", disk)):
        cv2.imwrite(paths[part], data)
    return MaskPreview(name, paths["image"], paths["truth"], paths["old"], paths["new"])


def pixels(label: QtWidgets.QLabel) -> np.ndarray:
    picture = label.pixmap().toImage()
    picture = picture.convertToFormat(picture.Format.Format_RGB888)
    row_bytes = picture.bytesPerLine()
    data = np.frombuffer(picture.constBits(), np.uint8, row_bytes * picture.height())
    return data.reshape(picture.height(), row_bytes)[:, :3 * picture.width()].copy()


def test_the_install_question_shows_each_models_mask_beside_the_truth(
        qtbot, tmp_path: Path, monkeypatch) -> None:
    previews = (preview(tmp_path, "brain_z040"), preview(tmp_path, "brain_z044"))
    seen: list[tuple[list[str], list[list[np.ndarray]]]] = []

    def press(box: QtWidgets.QMessageBox) -> int:  # what is on screen while the box is open
        comparison = box.findChild(MaskComparison, "mask_comparison")
        seen.append(([label.text() for label in comparison.findChildren(QtWidgets.QLabel)],
                     [[pixels(label) for label in row] for row in comparison.thumbnails]))
        next(b for b in box.buttons() if b.text().startswith("Install")).click()
        return 0

    monkeypatch.setattr(QtWidgets.QMessageBox, "exec", press)
    assert dialogs.ask_install_unsure(None, "scores…", "v1", previews)
    [(texts, rows)] = seen
    assert "<b>v1 (in use)</b>" in texts and "brain_z044" in texts
    assert len(rows) == 2  # one row per validation image
    for truth, old, new in rows:
        assert np.array_equal(new, truth)  # the new model found the disk
        assert not np.array_equal(old, truth)  # the old one did not


def test_without_masks_the_question_is_the_scores_alone(qtbot, monkeypatch) -> None:
    found: list[object] = []
    monkeypatch.setattr(QtWidgets.QMessageBox, "exec", lambda box: found.append(
        box.findChild(MaskComparison)) or 0)
    assert not dialogs.ask_install_unsure(None, "scores…", "v1")
    assert found == [None]
