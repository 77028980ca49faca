"""The clinicians' review strip, and the review keys that need to ask a person something.

Decisions themselves are state (:class:`~qtseg_app.state.Decisions`); here the
reviewer's name is asked once (then kept in the workspace) and a flag asks
for a comment.
"""

from __future__ import annotations

from PySide6 import QtWidgets

from qtseg_app.qt import dialogs
from qtseg_app.state import Decisions, PredictionStatus, ReviewSession
from qtseg_app.state.review import TO_REVIEW, comment_line
from qtseg_core.workspace import Comment, ReviewStatus


class ReviewBar(QtWidgets.QFrame):
    """The strip shown in review mode: image, reviewer, what is left, the keys."""

    def __init__(self, session: ReviewSession, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.setObjectName("reviewBar")
        self.setStyleSheet("#reviewBar { background: #1d2430; } QLabel { color: #e8e8e8; "
                           "font-size: 15px; padding: 4px 10px; }")
        self.image_label = QtWidgets.QLabel()
        self.comment_label = QtWidgets.QLabel()  # the latest comment (a flag's reason)
        self.comment_label.setStyleSheet("color: #f0c674; font-style: italic;")
        self.left_label = QtWidgets.QLabel()
        self.keys_label = QtWidgets.QLabel(
            "<b>A</b> accept · <b>R</b> reject · <b>F</b> flag · <b>PgUp</b> back · "
            "<b>PgDn</b> skip · <b>F2</b> leave review mode")
        for label in (self.image_label, self.comment_label):  # clipped, never widening the
            label.setSizePolicy(QtWidgets.QSizePolicy.Policy.Ignored,  # window: full text
                                QtWidgets.QSizePolicy.Policy.Preferred)  # in the tooltip
        layout = QtWidgets.QHBoxLayout(self)
        layout.addWidget(self.image_label, 1)
        layout.addWidget(self.comment_label, 1)
        layout.addWidget(self.left_label)
        layout.addWidget(self.keys_label)
        self.setVisible(session.review.mode)
        session.review.changed.connect(lambda _change: self.refresh())
        session.document_changed.connect(lambda _document: self.refresh())
        session.images.record_changed.connect(lambda _record: self.refresh())
        session.predictions.status_changed.connect(lambda _change: self.refresh())

    def refresh(self) -> None:
        """Show the image on screen, its status, the reviewer and how many are left."""
        session = self.session
        self.setVisible(session.review.mode)
        if not session.review.mode:
            return
        counts = session.ws.readable_counts()  # an unreadable file is never reviewed
        left = sum(counts[status] for status in TO_REVIEW)
        record = session.document.record if session.document is not None else None
        who = session.ws.reviewer_name or "reviewer not set"
        name, status = (record.name, record.status.value) if record else ("(no image)", "")
        if record and session.predictions.status(record.id) is PredictionStatus.PENDING:
            status += " — prediction pending"
        self.image_label.setText(f"<b>{name}</b> — {status} — {who}")
        self.image_label.setToolTip(f"{name} — {status} — {who}")
        self.left_label.setText(f"{left} left to review")
        self._show_comments(session.ws.comments(record.id) if record else [])

    def _show_comments(self, comments: list[Comment]) -> None:
        """The latest comment in the strip, all of them in its tooltip."""
        latest = comments[-1] if comments else None
        self.comment_label.setText(f"“{latest.text}” — {latest.author or 'unnamed'}"
                                   if latest else "")
        self.comment_label.setToolTip("\n".join(comment_line(c) for c in comments))
        self.comment_label.setVisible(latest is not None)  # else the name gets its room


class ReviewKeys:
    """A / R / F and F2: ask for the reviewer's name once, then decide through the state."""

    def __init__(self, decisions: Decisions, parent: QtWidgets.QWidget) -> None:
        self.decisions, self.parent = decisions, parent

    def reviewer(self) -> str | None:
        """The stored reviewer name, asking once when none is stored (None: cancelled)."""
        name = self.decisions.reviewer
        if not name:
            name = dialogs.ask_reviewer_name(self.parent)
            if not name or not self.decisions.set_reviewer(name):
                return None
        return name

    def change_reviewer(self) -> None:
        """Review ▸ Reviewer name…: decisions from now on carry the new name."""
        name = dialogs.ask_reviewer_name(self.parent)
        if name and self.decisions.set_reviewer(name):
            self.decisions.session.say(f"Reviewer: {name}.")

    def show_history(self) -> None:
        """Review ▸ Image history: who did what to the image on screen, with comments."""
        from qtseg_app.qt.history_dialog import HistoryDialog

        session = self.decisions.session
        if session.current_id is not None:
            self.history = HistoryDialog(session.ws, session.current_id, self.parent)
            self.history.show()

    def toggle_mode(self) -> None:
        self.decisions.toggle_mode()
        if self.decisions.session.review.mode:
            self.reviewer()

    def accept(self) -> None:
        self._decide(ReviewStatus.ACCEPTED)

    def reject(self) -> None:
        self._decide(ReviewStatus.REJECTED)

    def flag(self) -> None:
        document = self.decisions.session.document
        if document is None:
            return
        comment = dialogs.ask_flag_comment(self.parent, document.record.name)
        if comment is not None:
            self._decide(ReviewStatus.FLAGGED, comment or None)

    def _decide(self, status: ReviewStatus, comment: str | None = None) -> None:
        if self.decisions.session.document is not None:
            self.reviewer()
        self.decisions.decide(status, comment)
