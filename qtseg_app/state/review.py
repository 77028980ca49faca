"""Review decisions and the clinicians' review mode, as state."""

from __future__ import annotations

from dataclasses import dataclass

from qtseg_app.state.events import Evented
from qtseg_core.workspace import ReviewStatus

TO_REVIEW = (ReviewStatus.UNREVIEWED, ReviewStatus.PREDICTED, ReviewStatus.CORRECTED)


@dataclass(eq=False)
class ReviewState(Evented):
    """mode: the minimal review view is on. auto_advance: a decision opens the next
    image still to review."""

    mode: bool = False
    auto_advance: bool = True
