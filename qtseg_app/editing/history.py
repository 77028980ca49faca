"""Undo / redo as cropped differences with a memory cap.

A full-mask copy per step is what made 3D Slicer's undo eat 100 GB; here a
step stores only the changed rectangle, as the XOR of its old and new values
(zero wherever nothing changed; applying it again toggles between the two, so
one patch serves undo and redo), zlib-compressed when large, and the oldest
steps are dropped once ``max_steps`` or ``max_bytes`` is exceeded.
"""

from __future__ import annotations

import zlib
from collections import deque
from dataclasses import dataclass

import numpy as np

from qtseg_app.editing.geometry import Rect

_COMPRESS_ABOVE = 4096  # bytes; smaller patches are cheaper kept raw


@dataclass(frozen=True)
class _Patch:
    """An array kept raw or zlib-compressed."""

    data: bytes | np.ndarray
    shape: tuple[int, ...]
    dtype: np.dtype

    @classmethod
    def pack(cls, array: np.ndarray) -> _Patch:
        array = np.ascontiguousarray(array)
        if array.nbytes <= _COMPRESS_ABOVE:
            return cls(array.copy(), array.shape, array.dtype)
        return cls(zlib.compress(array.tobytes(), 1), array.shape, array.dtype)

    def unpack(self) -> np.ndarray:
        if isinstance(self.data, np.ndarray):
            return self.data
        return np.frombuffer(zlib.decompress(self.data), self.dtype).reshape(self.shape)

    @property
    def nbytes(self) -> int:
        return len(self.data) if isinstance(self.data, bytes) else self.data.nbytes


@dataclass(frozen=True)
class EditStep:
    """One undoable edit of ``rect``: ``delta`` = old XOR new."""

    rect: Rect
    delta: _Patch
    label: str

    @property
    def nbytes(self) -> int:
        return self.delta.nbytes + 200  # + bookkeeping

    def toggle(self, mask: np.ndarray) -> None:
        """Turn the rect from old to new, or from new back to old."""
        mask[self.rect.slices] ^= self.delta.unpack()


class EditHistory:
    """Undo and redo stacks of :class:`EditStep` for one mask.

    max_steps: undo depth kept (the issue asks for at least 100).
    max_bytes: memory cap over both stacks; the oldest undo steps go first,
        but the newest step is always kept.
    """

    def __init__(self, *, max_steps: int = 200, max_bytes: int = 64 * 1024 * 1024) -> None:
        self.max_steps = max_steps
        self.max_bytes = max_bytes
        self._undo: deque[EditStep] = deque()
        self._redo: list[EditStep] = []
        self._nbytes = 0

    def push(self, rect: Rect, old: np.ndarray, new: np.ndarray, label: str = "edit") -> None:
        """Record that ``rect`` changed from ``old`` to ``new``; clears the redo stack."""
        for step in self._redo:
            self._nbytes -= step.nbytes
        self._redo.clear()
        step = EditStep(rect, _Patch.pack(np.bitwise_xor(old, new)), label)
        self._undo.append(step)
        self._nbytes += step.nbytes
        self._trim()

    def undo(self, mask: np.ndarray) -> Rect | None:
        """Put back the last step's old values into ``mask``; its rect, or None if none."""
        if not self._undo:
            return None
        step = self._undo.pop()
        step.toggle(mask)
        self._redo.append(step)
        return step.rect

    def redo(self, mask: np.ndarray) -> Rect | None:
        """Re-apply the last undone step; its rect, or None if none."""
        if not self._redo:
            return None
        step = self._redo.pop()
        step.toggle(mask)
        self._undo.append(step)
        return step.rect

    def clear(self) -> None:
        """Forget every step (e.g. when another mask is loaded)."""
        self._undo.clear()
        self._redo.clear()
        self._nbytes = 0

    @property
    def can_undo(self) -> bool:
        return bool(self._undo)

    @property
    def can_redo(self) -> bool:
        return bool(self._redo)

    @property
    def undo_count(self) -> int:
        return len(self._undo)

    @property
    def redo_count(self) -> int:
        return len(self._redo)

    @property
    def nbytes(self) -> int:
        """Memory held by the stored steps, in bytes (approximate, never above the cap
        except for a single newest step larger than it)."""
        return self._nbytes

    def undo_label(self) -> str | None:
        """What "Undo" would undo (for a menu text), or None."""
        return self._undo[-1].label if self._undo else None

    def redo_label(self) -> str | None:
        """What "Redo" would redo, or None."""
        return self._redo[-1].label if self._redo else None

    def _trim(self) -> None:
        while len(self._undo) > self.max_steps or (
                self._nbytes > self.max_bytes and len(self._undo) > 1):
            self._nbytes -= self._undo.popleft().nbytes
