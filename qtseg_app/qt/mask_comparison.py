"""The true, old and new masks side by side on a few validation images (before installing).

A row per image of :func:`qtseg_core.finetune.preview.read_previews`: the image
with its true mask, with the mask of the model in use, and with the fine-tuned
model's, each a thumbnail with the same window (auto levels) and colours.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
from PySide6 import QtGui, QtWidgets

from qtseg_app.qt.overlay import OverlayStyle, render_mask
from qtseg_app.state.levels import auto_window
from qtseg_core.finetune.preview import MaskPreview
from qtseg_core.io import read_image

THUMBNAIL_PX = 180  # the longer side of each thumbnail on screen


def overlaid(image: np.ndarray, mask: np.ndarray, style: OverlayStyle) -> np.ndarray:
    """RGB (H, W, 3) uint8: ``image`` at auto levels with ``mask``'s classes blended in."""
    low, high = auto_window(image).levels
    grey = image if image.ndim == 3 else image[..., None].repeat(3, axis=2)
    rgb = np.clip((grey[..., :3].astype(np.float32) - low) / max(high - low, 1e-6), 0, 1) * 255
    if mask.shape != image.shape[:2]:
        mask = cv2.resize(mask, image.shape[1::-1], interpolation=cv2.INTER_NEAREST)
    rgba = render_mask(mask, style).astype(np.float32)
    alpha = rgba[..., 3:] / 255.0
    return np.ascontiguousarray(rgb * (1 - alpha) + rgba[..., :3] * alpha).astype(np.uint8)


def thumbnail(rgb: np.ndarray) -> QtGui.QPixmap:
    height, width = rgb.shape[:2]
    picture = QtGui.QImage(rgb.data, width, height, 3 * width, QtGui.QImage.Format.Format_RGB888)
    return QtGui.QPixmap.fromImage(picture.copy()).scaled(
        THUMBNAIL_PX, THUMBNAIL_PX, QtGui.Qt.AspectRatioMode.KeepAspectRatio)


class MaskComparison(QtWidgets.QWidget):
    """Thumbnails per validation image: true mask, the model in use's, the new model's."""

    def __init__(self, previews: Sequence[MaskPreview], old_name: str,
                 parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        grid = QtWidgets.QGridLayout(self)
        headers = ("validation image", "true mask", f"{old_name} (in use)", "new model")
        for column, text in enumerate(headers):
            grid.addWidget(QtWidgets.QLabel(f"<b>{text}</b>"), 0, column)
        style = OverlayStyle()
        self.thumbnails: list[list[QtWidgets.QLabel]] = []
        for row, preview in enumerate(previews, start=1):
            grid.addWidget(QtWidgets.QLabel(preview.name), row, 0)
            image = read_image(preview.image)
            labels = []
            for column, path in enumerate((preview.truth, preview.old_mask, preview.new_mask), 1):
                mask = cv2.imread(path, cv2.IMREAD_GRAYSCALE)
                if mask is None:  # removed since: show the image alone
                    mask = np.zeros(image.shape[:2], np.uint8)
                label = QtWidgets.QLabel()
                label.setPixmap(thumbnail(overlaid(image, mask, style)))
                grid.addWidget(label, row, column)
                labels.append(label)
            self.thumbnails.append(labels)
