"""The app's state: plain Python, no Qt (an import-linter contract enforces it).

Widgets (:mod:`qtseg_app.qt`) render it by subscribing to its events and
write the user's input back through its methods; services
(:mod:`qtseg_app.services`) write their results into it. See
docs/ARCHITECTURE.md for how an event flows from a key press to a saved mask.
"""

from __future__ import annotations

from qtseg_app.state.decisions import Decisions
from qtseg_app.state.document import ImageDocument
from qtseg_app.state.events import Event, Evented
from qtseg_app.state.labels import LabelClass, LabelTable
from qtseg_app.state.model import NO_MODEL_HINT, FinetuneState, ModelInfo, ModelState
from qtseg_app.state.predictions import PredictionResult, Predictions, PredictionStatus
from qtseg_app.state.session import Message, PredictionQueue, Problem, ReviewSession
from qtseg_app.state.settings import DisplaySettings, Tool, ToolSettings

__all__ = [
    "NO_MODEL_HINT",
    "Decisions",
    "DisplaySettings",
    "Event",
    "Evented",
    "FinetuneState",
    "ImageDocument",
    "LabelClass",
    "LabelTable",
    "Message",
    "ModelInfo",
    "ModelState",
    "PredictionQueue",
    "PredictionResult",
    "PredictionStatus",
    "Predictions",
    "Problem",
    "ReviewSession",
    "Tool",
    "ToolSettings",
]
