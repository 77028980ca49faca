"""Long work behind small interfaces: prediction, model loading, the fine-tune process.

Services run work off the GUI thread (a worker thread, a child process) and
write their results into the session's state (:mod:`qtseg_app.state`) on the
GUI thread; they never touch a widget.
"""

from __future__ import annotations

import os

from PySide6 import QtCore

from qtseg_app.services.click_refine import RefineService
from qtseg_app.services.finetune import FinetuneService
from qtseg_app.services.models import ModelService
from qtseg_app.services.prediction import ImageCache, PredictionService
from qtseg_app.services.signal_references import balance_emit_references
from qtseg_app.state import ReviewSession
from qtseg_core.workspace import Workspace

balance_emit_references()  # before any service emits: see signal_references


def file_stamp(ws: Workspace, image_id: int) -> tuple[int, int] | None:
    """(mtime in ns, size in bytes) of a 2D image's file, so a file replaced on disk is read
    again; None for a volume's slice (its volume is cached by the workspace) or no file."""
    record = ws.image(image_id)
    if record.volume_id is not None:
        return None
    try:
        status = os.stat(record.path)
    except OSError:
        return None
    return status.st_mtime_ns, status.st_size


class Services:
    """The session and the services that feed it, for one open workspace."""

    def __init__(self, ws: Workspace, parent: QtCore.QObject | None = None) -> None:
        self.images = ImageCache(ws.read_image, stamp=lambda image_id: file_stamp(ws, image_id))
        self.prediction = PredictionService(self.images, parent=parent)
        self.session = ReviewSession(ws, read_image=self.images, queue=self.prediction)
        self.models = ModelService(self.session, self.prediction, parent=parent)
        self.finetune = FinetuneService(self.session, self.models, parent=parent)
        self.refine = RefineService(parent=parent)
        self.session.tools.clicks.runner = self.refine
        self.prediction.queue_changed.connect(
            lambda waiting: self.session.model.update(queued=waiting))
        self.prediction.dropped.connect(self.session.predictions.not_pending)

    def shutdown(self) -> None:
        """Stop everything (the window closes): the fine-tune child is left to stop on its
        own, a model load and the prediction worker are waited for."""
        self.finetune.shutdown()
        self.refine.shutdown()
        self.models.shutdown()
        self.prediction.shutdown()


__all__ = ["FinetuneService", "ImageCache", "ModelService", "PredictionService", "RefineService",
           "Services"]
