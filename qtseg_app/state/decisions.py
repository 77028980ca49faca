"""Review decisions (accept / reject / flag) on the image on screen, and review mode.

A decision is stored with the reviewer's name (the Qt layer asks for it once
and stores it in the workspace) and, by default, moves on to the next image
still to review, whose prediction has been prefetched.

Accept never stores a mask the user has not seen: while the image's
prediction is pending (and nobody painted on it), Accept waits; the accept is
done the moment the prediction is on screen, and dropped if the user opens
another image first. An empty accepted mask is thus one that was on screen.
"""

from __future__ import annotations

import numpy as np

from qtseg_app.state.events import Event
from qtseg_app.state.predictions import PredictionStatus
from qtseg_app.state.session import ReviewSession
from qtseg_app.state.settings import Tool
from qtseg_core.workspace import MaskKind, ReviewStatus, WorkspaceError


class Decisions:
    """Accept, reject and flag the open image of ``session``, then advance."""

    def __init__(self, session: ReviewSession) -> None:
        self.session = session
        self.decided: Event[tuple[int, ReviewStatus]] = Event()
        self.waiting: tuple[int, str | None] | None = None  # (image id, comment) to accept
        session.prediction_shown.connect(self._accept_when_shown)
        session.document_changed.connect(self._drop_waiting)

    @property
    def reviewer(self) -> str | None:
        return self.session.ws.reviewer_name

    def set_reviewer(self, name: str) -> bool:
        """Store the reviewer's name; False (and a message) when the disk refuses it."""
        try:
            self.session.ws.reviewer_name = name
        except (WorkspaceError, OSError) as error:
            self.session.report("Not saved", f"The reviewer name could not be saved: {error}",
                                "Free disk space or check the disk, then decide again.")
            return False
        self.session.review.reviewer = name  # the review strip shows it
        return True

    def toggle_mode(self) -> None:
        """Review mode on/off: the pan tool while on (a click never paints by mistake)."""
        review = self.session.review
        review.mode = not review.mode
        self.session.tools.set_tool(Tool.PAN if review.mode else Tool.BRUSH)

    def decide(self, status: ReviewStatus, comment: str | None = None) -> bool:
        """Record ``status`` for the image on screen by the stored reviewer; False when
        there is no readable image or no reviewer name (a message says which)."""
        session = self.session
        document = session.document
        if document is None:
            session.say("Open a readable image first.")
            return False
        reviewer = self.reviewer
        if not reviewer:
            session.say("A review decision needs the reviewer's name.")
            return False
        if status is ReviewStatus.ACCEPTED and self._prediction_pending():
            self.waiting = (document.image_id, comment)
            session.say(f"{document.record.name}: prediction pending; it is accepted as soon "
                        "as it is on screen (open another image to cancel).")
            return False
        if not self._store(document, status, reviewer, comment):
            return False
        session.refresh_record(document.image_id)
        session.say(f"{document.record.name}: {status.value} by {reviewer}.")
        self.decided.emit((document.image_id, status))
        if session.review.auto_advance:
            session.open_next(to_review=True)
        return True

    def _store(self, document: object, status: ReviewStatus, reviewer: str,
               comment: str | None) -> bool:
        """Write the mask and the decision; on a failing disk say so, keep the edit in
        memory and the status as it was, and return False."""
        session = self.session
        try:
            if status is ReviewStatus.ACCEPTED:
                self._save_what_is_accepted(reviewer)
            if not session.save():
                return False
            session.ws.set_status(document.image_id, status, reviewer, comment)
        except (WorkspaceError, OSError) as error:
            session.report("Not saved", f"{status.value.capitalize()} for "
                           f"{document.record.name} could not be saved: {error}",
                           "Free disk space or check the disk, then decide again; the mask "
                           "on screen is kept.")
            return False
        return True

    def _prediction_pending(self) -> bool:
        """True while the model's mask for the image on screen has not arrived (and no
        person's mask stands in for it): what is on screen is not what would be stored."""
        document = self.session.document
        pending = self.session.predictions.status(document.image_id) is PredictionStatus.PENDING
        return pending and not document.has_correction and not document.dirty

    def _accept_when_shown(self, image_id: int) -> None:
        waiting, self.waiting = self.waiting, None
        document = self.session.document
        if waiting is not None and waiting[0] == image_id and document is not None \
                and document.image_id == image_id:
            self.decide(ReviewStatus.ACCEPTED, waiting[1])

    def _drop_waiting(self, document: object) -> None:
        if self.waiting is not None and getattr(document, "image_id", None) != self.waiting[0]:
            self.session.say("Accept cancelled: another image was opened before the "
                             "prediction arrived.")
            self.waiting = None

    def _save_what_is_accepted(self, reviewer: str) -> None:
        """Accepting means "this mask, as shown": store it as a correction unless it is
        the saved prediction itself (e.g. the threshold moved, or no mask was saved)."""
        session = self.session
        document = session.document
        session.save()
        if document.has_correction:
            return
        ws = session.ws
        prediction = ws.latest_mask(document.image_id, MaskKind.PREDICTION)
        if prediction is not None and np.array_equal(ws.read_mask(prediction), document.mask):
            return
        ws.save_correction(document.image_id, document.mask, reviewer)
        document.mark_saved()
