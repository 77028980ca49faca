"""Review decisions and the clinicians' review mode, as state."""

from __future__ import annotations

from dataclasses import dataclass

from qtseg_app.state.events import Evented
from qtseg_core.workspace import Comment, ReviewStatus

TO_REVIEW = (ReviewStatus.UNREVIEWED, ReviewStatus.PREDICTED, ReviewStatus.CORRECTED)


@dataclass(eq=False)
class ReviewState(Evented):
    """mode: the minimal review view is on. auto_advance: a decision opens the next
    image still to review. reviewer: the name last set in this session (the workspace
    stores it)."""

    mode: bool = False
    auto_advance: bool = True
    reviewer: str | None = None


def comment_line(comment: Comment) -> str:
    """e.g. '2026-12-01 13:05 Dr Rossi: edge unclear' (for tooltips and the strip)."""
    when = comment.created_at[:16].replace("T", " ")
    return f"{when} {comment.author or 'unnamed'}: {comment.text}"
