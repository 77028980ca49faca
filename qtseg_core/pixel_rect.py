"""A pixel rectangle: the one the refiners crop to and the app's edits report."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Rect:
    """A pixel rectangle, rows ``top:bottom`` and columns ``left:right`` (ends exclusive).

    Refiners work inside one around the object (RITM's zoom-in); the app's edits
    report the one they changed, and the view repaints only that region.
    """

    top: int
    left: int
    bottom: int
    right: int

    @property
    def slices(self) -> tuple[slice, slice]:
        """Index a (H, W) array: ``mask[rect.slices]``."""
        return slice(self.top, self.bottom), slice(self.left, self.right)

    @property
    def height(self) -> int:
        return self.bottom - self.top

    @property
    def width(self) -> int:
        return self.right - self.left

    @property
    def shape(self) -> tuple[int, int]:
        return self.height, self.width

    @property
    def empty(self) -> bool:
        return self.height <= 0 or self.width <= 0

    def union(self, other: Rect | None) -> Rect:
        """Smallest rectangle holding both (``other`` None gives self)."""
        if other is None:
            return self
        return Rect(min(self.top, other.top), min(self.left, other.left),
                    max(self.bottom, other.bottom), max(self.right, other.right))

    def clip(self, height: int, width: int) -> Rect:
        """This rectangle cut to an image of ``height`` x ``width``."""
        return Rect(max(self.top, 0), max(self.left, 0),
                    min(self.bottom, height), min(self.right, width))
