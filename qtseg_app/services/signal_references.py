"""A fix for PySide6 builds whose ``Signal.emit`` gives back a reference it does not own.

PySide6 6.12.0 returns ``True`` from ``SignalInstance.emit`` without counting
the reference, so every emit takes one reference from ``True`` for good. The
app emits a few signals per predicted image (the result, the queue length,
the list row), and after some 10^4 emits (a Predict all of a few thousand
images) Python aborts with "Fatal Python error: bool_dealloc: deallocating
True or False". :func:`balance_emit_references` checks whether this PySide6
does that and, only then, wraps ``emit`` to count the reference it returns.
"""

from __future__ import annotations

import ctypes
import sys

from PySide6 import QtCore

_PROBE_EMITS = 16


class _Probe(QtCore.QObject):
    fired = QtCore.Signal()


def emit_takes_references() -> bool:
    """True when each ``emit`` takes a reference from the object it returns."""
    probe = _Probe()
    returned = probe.fired.emit()
    before = sys.getrefcount(returned)
    for _ in range(_PROBE_EMITS):
        probe.fired.emit()
    return before - sys.getrefcount(returned) == _PROBE_EMITS


def balance_emit_references() -> bool:
    """Wrap ``SignalInstance.emit`` when this PySide6 needs it (once); True when wrapped."""
    emit = QtCore.SignalInstance.emit
    if getattr(emit, "balances_references", False):
        return True
    if not emit_takes_references():
        return False

    def counted_emit(self: QtCore.SignalInstance, *args: object) -> object:
        returned = emit(self, *args)
        ctypes.pythonapi.Py_IncRef(ctypes.py_object(returned))  # the reference emit took
        return returned

    counted_emit.balances_references = True  # type: ignore[attr-defined]
    QtCore.SignalInstance.emit = counted_emit
    return True
