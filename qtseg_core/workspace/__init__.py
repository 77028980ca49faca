"""The app's Qt-free state: a folder with a SQLite database, masks and models.

``qtseg finetune`` and the desktop app both read it, so it lives in the core.
Start with :meth:`Workspace.open`.
"""

from __future__ import annotations

from qtseg_core.workspace.errors import (
    ExportError,
    WorkspaceDatabaseError,
    WorkspaceError,
    WorkspaceLockedError,
    WorkspaceReadOnlyError,
    WorkspaceWriteError,
)
from qtseg_core.workspace.records import (
    Comment,
    HistoryEvent,
    ImageRecord,
    MaskKind,
    MaskVersion,
    ModelVersion,
    ReviewStatus,
    TrainingItem,
)
from qtseg_core.workspace.workspace import Workspace

__all__ = [
    "Comment",
    "ExportError",
    "HistoryEvent",
    "ImageRecord",
    "MaskKind",
    "MaskVersion",
    "ModelVersion",
    "ReviewStatus",
    "TrainingItem",
    "Workspace",
    "WorkspaceError",
    "WorkspaceLockedError",
    "WorkspaceDatabaseError",
    "WorkspaceReadOnlyError",
    "WorkspaceWriteError",
]
