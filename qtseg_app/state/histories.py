"""Undo histories of the images the user has left, so Ctrl+Z works again on coming back.

Each history is already bounded (``EditHistory.max_bytes``); the parked ones
together are bounded too: past ``max_bytes`` or ``max_images`` the history of
the image left longest ago is dropped first. A history is handed back only to
the mask it was recorded on (same fingerprint): if the mask changed meanwhile
(a save that failed, a mask replaced outside the app), undo would replay the
wrong pixels, so the history is dropped instead.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict

import numpy as np

from qtseg_app.editing import EditHistory

DEFAULT_MAX_BYTES = 256 * 1024 * 1024
DEFAULT_MAX_IMAGES = 100


def fingerprint(mask: np.ndarray) -> bytes:
    """A digest of the mask's shape and pixels."""
    digest = hashlib.blake2b(str(mask.shape).encode(), digest_size=16)
    digest.update(np.ascontiguousarray(mask).data)
    return digest.digest()


class Histories:
    """Parked undo histories by image id, least recently left dropped first."""

    def __init__(self, *, max_bytes: int = DEFAULT_MAX_BYTES,
                 max_images: int = DEFAULT_MAX_IMAGES) -> None:
        self.max_bytes = max_bytes
        self.max_images = max_images
        self._parked: OrderedDict[int, tuple[EditHistory, bytes]] = OrderedDict()

    def park(self, image_id: int, history: EditHistory, mask: np.ndarray) -> None:
        """Keep ``history`` of ``image_id`` whose mask is now ``mask``."""
        self._parked.pop(image_id, None)
        if not history.can_undo and not history.can_redo:
            return
        self._parked[image_id] = (history, fingerprint(mask))
        self._trim()

    def take(self, image_id: int, mask: np.ndarray) -> EditHistory | None:
        """The history parked for ``image_id`` if ``mask`` is the one it was left with."""
        parked = self._parked.pop(image_id, None)
        if parked is None or parked[1] != fingerprint(mask):
            return None
        return parked[0]

    def drop(self, image_id: int) -> None:
        self._parked.pop(image_id, None)

    @property
    def nbytes(self) -> int:
        return sum(history.nbytes for history, _ in self._parked.values())

    def __len__(self) -> int:
        return len(self._parked)

    def _trim(self) -> None:
        while len(self._parked) > self.max_images or (
                len(self._parked) > 1 and self.nbytes > self.max_bytes):
            self._parked.popitem(last=False)
