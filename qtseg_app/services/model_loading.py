"""Reading a checkpoint off the GUI thread: the slow part of changing the model.

Building the network and its :class:`~qtseg_core.inference.Predictor` takes about
a second for the full model, and recognising a file already registered hashes
every registered version. :class:`LoadTask` does both in a pool thread and
reports through a typed signal; the window stays responsive and the model in
use keeps predicting until the new one is ready. Nothing here touches the
workspace or a widget.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6 import QtCore

from qtseg_core.checkpoint import ModelMetadata, load_checkpoint, read_metadata
from qtseg_core.inference import Predictor, predictor_for
from qtseg_core.interactive import Refiner, default_refiner


def file_digest(path: Path) -> str:
    """SHA-256 of a file (checkpoints are small enough to hash at load time)."""
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class LoadedModel:
    """A checkpoint ready to predict.

    same_as: the registered version whose file has the same content (a file
    loaded again is not registered twice), or None; only looked for when the
    load was given registered versions to compare with.
    refiner: what the click tool uses with this model (``default_refiner``).
    """

    path: Path
    predictor: Predictor
    metadata: ModelMetadata
    same_as: str | None = None
    refiner: Refiner | None = None


def read_checkpoint(path: Path, registered: dict[str, Path] | None = None) -> LoadedModel:
    """Build the predictor for ``path``; with ``registered`` (version -> file), also say
    which registered version holds the same bytes. Slow: call it off the GUI thread."""
    same_as = None
    if registered is not None:
        read_metadata(path)  # a clear error before hashing or building anything
        digest = file_digest(path)
        same_as = next((version for version, file in registered.items()
                        if file.exists() and file_digest(file) == digest), None)
    checkpoint = load_checkpoint(path)
    refiner = default_refiner(checkpoint.model, checkpoint.metadata.input_size)
    return LoadedModel(path, predictor_for(checkpoint), checkpoint.metadata, same_as, refiner)


class ModelLoad(QtCore.QObject):
    """One requested model change, like a network reply: ``loaded`` once the model is in
    use, ``failed`` with the reason. A load overtaken by a newer one emits neither."""

    loaded = QtCore.Signal(object)  # ModelInfo
    failed = QtCore.Signal(str)  # what went wrong, for a person

    def __init__(self, ticket: int, label: str, version: str | None = None,
                 parent: QtCore.QObject | None = None, *, starter: bool = False) -> None:
        super().__init__(parent)
        self.ticket = ticket
        self.label = label  # "v2" or the checkpoint's file name
        self.version = version  # the registered version being loaded, None for a new file
        self.starter = starter  # the bundled starter, for a workspace with no model yet


class LoadTask(QtCore.QRunnable):
    """Runs :func:`read_checkpoint` in a pool thread and reports through ``done``:
    ``done.emit(ticket, LoadedModel)`` or ``done.emit(ticket, "error message")``.
    A task whose ticket is already stale when it starts skips the work."""

    def __init__(self, done: QtCore.SignalInstance, ticket: int, path: Path,
                 registered: dict[str, Path] | None,
                 is_current: Callable[[int], bool]) -> None:
        super().__init__()
        self._done, self._ticket, self._path = done, ticket, path
        self._registered, self._is_current = registered, is_current

    def run(self) -> None:
        result: LoadedModel | str | None = None
        try:
            if self._is_current(self._ticket):
                result = read_checkpoint(self._path, self._registered)
        except Exception as error:  # noqa: BLE001 - any failure is reported, never raised
            result = str(error) or type(error).__name__
        try:
            self._done.emit(self._ticket, result)
        except RuntimeError:
            pass  # the window closed while the model loaded
