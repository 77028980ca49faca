"""Review decisions (accept / reject / flag) and the clinicians' minimal review mode.

A decision is stored with the reviewer's name (asked once, kept in the
workspace settings) and moves on to the next image still to review, whose
prediction the window has already prefetched.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from PySide6 import QtCore, QtWidgets

from qtseg_app import dialogs
from qtseg_core.workspace import MaskKind, ReviewStatus

if TYPE_CHECKING:
    from qtseg_app.main_window import MainWindow

TO_REVIEW = (ReviewStatus.UNREVIEWED, ReviewStatus.PREDICTED, ReviewStatus.CORRECTED)


class ReviewBar(QtWidgets.QFrame):
    """The strip shown in review mode: image, reviewer, what is left, the keys."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("reviewBar")
        self.setStyleSheet("#reviewBar { background: #1d2430; } QLabel { color: #e8e8e8; "
                           "font-size: 15px; padding: 4px 10px; }")
        self.image_label = QtWidgets.QLabel()
        self.left_label = QtWidgets.QLabel()
        keys = QtWidgets.QLabel("<b>A</b> accept · <b>R</b> reject · <b>F</b> flag · "
                                "<b>PgDn</b> skip · <b>F2</b> leave review mode")
        layout = QtWidgets.QHBoxLayout(self)
        layout.addWidget(self.image_label, 1)
        layout.addWidget(self.left_label)
        layout.addWidget(keys)

    def show_state(self, image_name: str, status: str, reviewer: str | None, left: int) -> None:
        who = reviewer or "reviewer not set"
        self.image_label.setText(f"<b>{image_name}</b> — {status} — {who}")
        self.left_label.setText(f"{left} left to review")


class ReviewController(QtCore.QObject):
    """Accept, reject and flag the open image, then advance."""

    decided = QtCore.Signal(int, str)  # image id, new status

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.auto_advance = True

    def toggle_mode(self) -> None:
        """Review mode on/off: hide docks, tool bar and menus; show the decision strip."""
        window = self.window
        window.review_mode = not window.review_mode
        for dock in window.docks:
            dock.setVisible(not window.review_mode)
        window.toolbar.setVisible(not window.review_mode)
        window.menuBar().setVisible(not window.review_mode)
        window.review_bar.setVisible(window.review_mode)
        window.tools.set_tool("pan" if window.review_mode else "brush")
        if window.review_mode:
            self.reviewer()
        self.update_bar()
        window.canvas.fit()

    def update_bar(self) -> None:
        """Refresh the review strip (image, status, reviewer, how many are left)."""
        window = self.window
        if not window.review_mode:
            return
        counts = window.ws.counts()
        left = sum(counts[status] for status in TO_REVIEW)
        record = window.document.record if window.document is not None else None
        window.review_bar.show_state(record.name if record else "(no image)",
                                     record.status.value if record else "",
                                     window.ws.setting("reviewer_name"), left)

    def reviewer(self) -> str | None:
        """The stored reviewer name, asking once when none is stored (None: cancelled)."""
        ws = self.window.ws
        name = ws.setting("reviewer_name")
        if not name:
            name = dialogs.ask_reviewer_name(self.window)
            if not name:
                return None
            ws.set_setting("reviewer_name", name)
        return str(name)

    def accept(self) -> None:
        self._decide(ReviewStatus.ACCEPTED)

    def reject(self) -> None:
        self._decide(ReviewStatus.REJECTED)

    def flag(self) -> None:
        document = self.window.document
        if document is None:
            return
        comment = dialogs.ask_flag_comment(self.window, document.record.name)
        if comment is None:
            return
        self._decide(ReviewStatus.FLAGGED, comment or None)

    def _decide(self, status: ReviewStatus, comment: str | None = None) -> None:
        window = self.window
        document = window.document
        if document is None:
            window.say("Open a readable image first.")
            return
        reviewer = self.reviewer()
        if reviewer is None:
            window.say("A review decision needs the reviewer's name.")
            return
        if status is ReviewStatus.ACCEPTED:
            self._save_what_is_accepted(reviewer)
        window.autosave()
        window.ws.set_status(document.image_id, status, reviewer, comment)
        window.refresh_record(document.image_id)
        window.say(f"{document.record.name}: {status.value} by {reviewer}.")
        self.decided.emit(document.image_id, status.value)
        if self.auto_advance:
            window.open_next(to_review=True)

    def _save_what_is_accepted(self, reviewer: str) -> None:
        """Accepting means "this mask, as shown": store it as a correction unless it is
        the saved prediction itself (e.g. the threshold moved, or no mask was saved)."""
        window, document = self.window, self.window.document
        window.autosave()
        if document.has_correction:
            return
        prediction = window.ws.latest_mask(document.image_id, MaskKind.PREDICTION)
        if prediction is not None and np.array_equal(window.ws.read_mask(prediction),
                                                     document.mask):
            return
        window.ws.save_correction(document.image_id, document.mask, reviewer)
        document.mark_saved()
