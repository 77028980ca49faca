"""A tiny typed event mechanism for the Qt-free state (the way napari's model layer is evented).

``Event`` is a list of callbacks called in order on ``emit``; ``Evented`` is a
dataclass base whose fields emit ``changed(name, value)`` once per real change
(setting a field to the value it already has emits nothing). Everything runs
on the caller's thread: services hand results to the GUI thread before they
write into state, so widgets are only ever called from there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields
from typing import Any, Generic, TypeVar

import numpy as np

T = TypeVar("T")


class Event(Generic[T]):
    """Callbacks taking one argument of type ``T`` (a tuple or dataclass for several)."""

    def __init__(self) -> None:
        self._callbacks: list[Callable[[T], object]] = []

    def connect(self, callback: Callable[[T], object]) -> Callable[[T], object]:
        """Call ``callback(value)`` on every emit; returns it (usable as a decorator)."""
        self._callbacks.append(callback)
        return callback

    def disconnect(self, callback: Callable[[T], object]) -> None:
        if callback in self._callbacks:
            self._callbacks.remove(callback)

    def emit(self, value: T) -> None:
        for callback in list(self._callbacks):
            callback(value)


class Evented:
    """Dataclass base: assigning a declared field a new value emits ``changed((name, value))``.

    Subclasses are ``@dataclass`` classes; ``changed`` is created per instance.
    """

    def __post_init__(self) -> None:
        object.__setattr__(self, "changed", Event())

    def __setattr__(self, name: str, value: Any) -> None:
        known = name in {f.name for f in fields(self)}  # type: ignore[arg-type]
        old = getattr(self, name, _UNSET)
        object.__setattr__(self, name, value)
        if known and hasattr(self, "changed") and not _same(old, value):
            self.changed.emit((name, value))

    def update(self, **values: Any) -> None:
        """Set several fields (each that changes emits its own event)."""
        for name, value in values.items():
            setattr(self, name, value)


_UNSET = object()


def _same(old: object, new: object) -> bool:
    if isinstance(old, np.ndarray) or isinstance(new, np.ndarray):
        return old is new
    try:
        return bool(old == new)
    except (TypeError, ValueError):
        return old is new
