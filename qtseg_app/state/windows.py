"""Which display window an image opens with, and the windows the user chose.

The user's window (typed, dragged, slid or a preset) is kept per image, per
volume and per kind of image: CT in Hounsfield units, else the folder, data
type and channels (one folder of one scanner's 16-bit MRI is one kind). An
image opens with, in this order: the window the user set on it; the window on
screen when it is the next slice of the same volume; the user's window of its
volume, then of its kind; the scanner's DICOM window tags; the automatic one.
CT presets (Hounsfield units) apply to CT images only.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable

import numpy as np

from qtseg_app.state.levels import CT_PRESETS, WindowLevel, auto_window, looks_like_ct
from qtseg_app.state.settings import DisplaySettings
from qtseg_app.state.slices import stored_window
from qtseg_core.workspace import ImageRecord, Workspace

AUTOMATIC = "Automatic"


def image_kind(record: ImageRecord, image: np.ndarray) -> Hashable:
    """The group of images that share a window: "CT", or (folder, dtype, channels)."""
    if looks_like_ct(image):
        return "CT"
    channels = 1 if image.ndim == 2 else image.shape[2]
    return (str(record.path.parent), image.dtype.str, channels)


class DisplayWindows:
    """Chooses the window of each image opened and remembers the user's windows."""

    def __init__(self, ws: Workspace, display: DisplaySettings,
                 say: Callable[[str], None]) -> None:
        self.ws, self.display, self._say = ws, display, say
        self._chosen: dict[Hashable, WindowLevel] = {}
        self._shown: tuple[ImageRecord, np.ndarray] | None = None
        self._choosing = False
        display.changed.connect(self._on_display)

    def open(self, record: ImageRecord, image: np.ndarray) -> None:
        """The window for a newly shown image (see the module docstring)."""
        previous, self._shown = self._shown, (record, image)
        same_volume = (previous is not None and record.volume_id is not None
                       and previous[0].volume_id == record.volume_id)
        window = self._chosen.get(("image", record.id))
        if window is None and same_volume and self.display.window is not None:
            window = self.display.window
        for key in (self._volume_key(record), image_kind(record, image)):
            window = window or self._chosen.get(key)
        window = window or stored_window(self.ws, record) or auto_window(image)
        self._show(window, self._preset_named(window, image))

    def apply_preset(self, name: str) -> bool:
        """A CT preset (CT images only; False and a message otherwise), or "Automatic":
        forget the user's window for this image and its kind and compute it again."""
        if self._shown is None:
            self.display.preset = name
            return True
        record, image = self._shown
        if name in CT_PRESETS and not looks_like_ct(image):
            self._say(f"{name} is a CT window in Hounsfield units; {record.name} is not a CT "
                      "image, so its window is kept.")
            self.display.changed.emit(("preset", self.display.preset))  # the box snaps back
            return False
        if name in CT_PRESETS:
            self.display.preset = name
            self.display.window = CT_PRESETS[name]  # remembered as the user's choice
            return True
        for key in self._keys(record, image):
            self._chosen.pop(key, None)
        self._show(stored_window(self.ws, record) or auto_window(image), AUTOMATIC)
        return True

    def _show(self, window: WindowLevel, preset: str) -> None:
        self._choosing = True
        try:
            self.display.preset = preset
            self.display.window = window
        finally:
            self._choosing = False

    def _on_display(self, change: tuple[str, object]) -> None:
        name, value = change
        if name == "window" and value is not None and not self._choosing \
                and self._shown is not None:
            for key in self._keys(*self._shown):
                self._chosen[key] = value

    def _keys(self, record: ImageRecord, image: np.ndarray) -> list[Hashable]:
        keys = [("image", record.id), image_kind(record, image)]
        return keys + ([self._volume_key(record)] if record.volume_id is not None else [])

    @staticmethod
    def _volume_key(record: ImageRecord) -> Hashable:
        return ("volume", record.volume_id)

    @staticmethod
    def _preset_named(window: WindowLevel, image: np.ndarray) -> str:
        if looks_like_ct(image):
            return next((name for name, preset in CT_PRESETS.items() if preset == window),
                        AUTOMATIC)
        return AUTOMATIC
