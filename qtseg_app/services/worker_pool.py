"""The services' worker threads, waited for before the interpreter shuts down.

Python joins its own threads at exit, never Qt's pool threads. A worker still
running when the interpreter finalizes (a model load that outlived the 10 s a
closing window waits, on a busy machine) is stopped by Python the next time it
takes the interpreter lock. Inside a torch or ONNX Runtime call that lock is
taken back in pybind11's ``noexcept`` guard, so the stop becomes
``std::terminate``: the process aborts ("terminate called without an active
exception", exit status 134) after the user's work was saved, and whatever it
started meanwhile (an ONNX export thread) runs into the same end. So every
pool made here is waited for at exit, after the window closed and before the
interpreter finalizes.
"""

from __future__ import annotations

import atexit
import weakref

from PySide6 import QtCore

_pools: weakref.WeakSet[QtCore.QThreadPool] = weakref.WeakSet()


def worker_pool(parent: QtCore.QObject) -> QtCore.QThreadPool:
    """A one-thread pool owned by ``parent`` that the process's exit waits for."""
    pool = QtCore.QThreadPool(parent)
    pool.setMaxThreadCount(1)
    _pools.add(pool)
    return pool


def wait_for_workers() -> None:
    """Block until every live pool's running task has ended (at exit; tasks are finite)."""
    for pool in list(_pools):
        try:
            pool.waitForDone()
        except RuntimeError:  # its Qt object is gone, and Qt waited for it then
            continue


atexit.register(wait_for_workers)
