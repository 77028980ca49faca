"""Review decisions: statuses with who, when and why; comments; the history."""

from __future__ import annotations

import sqlite3

from qtseg_core.workspace._base import utc_now
from qtseg_core.workspace.errors import WorkspaceError
from qtseg_core.workspace.masks import MasksMixin
from qtseg_core.workspace.records import Comment, HistoryEvent, ReviewStatus


class ReviewMixin(MasksMixin):
    """Status changes and comments, each recorded in the image's history."""

    def set_status(self, image_id: int, status: ReviewStatus | str, reviewer: str | None,
                   comment: str | None = None) -> None:
        """Change an image's status and record who, when and why.

        Accepting needs a mask (a prediction or a correction; save an empty
        correction to accept "nothing here").
        """
        status = ReviewStatus(status)
        if status is ReviewStatus.ACCEPTED and self.final_mask(image_id) is None:
            name = self.image(image_id).name
            raise WorkspaceError(
                f"Cannot accept '{name}' (image {image_id}): it has no mask yet. Predict it, "
                "or paint a correction (an empty one if there is nothing to segment).")
        with self._transaction() as db:
            old = self._status(db, image_id)
            db.execute("UPDATE images SET status = ? WHERE id = ?", (status.value, image_id))
            self._log(db, image_id, "status", reviewer, old_status=old, new_status=status,
                      comment=comment)
            if comment:
                self._insert_comment(db, image_id, reviewer, comment)

    def history(self, image_id: int | None = None) -> list[HistoryEvent]:
        """Events of one image (every event of the workspace when None), oldest first."""
        if image_id is None:
            rows = self._query("SELECT * FROM events ORDER BY id")
        else:
            rows = self._query("SELECT * FROM events WHERE image_id = ? ORDER BY id",
                               (image_id,))
        return [_event(row) for row in rows]

    def add_comment(self, image_id: int, author: str | None, text: str) -> Comment:
        """Attach a comment to an image (also recorded in its history)."""
        self.image(image_id)
        with self._transaction() as db:
            comment_id = self._insert_comment(db, image_id, author, text)
            self._log(db, image_id, "comment", author, comment=text)
        row = self._query("SELECT * FROM comments WHERE id = ?", (comment_id,))[0]
        return _comment(row)

    def comments(self, image_id: int) -> list[Comment]:
        """Comments of an image, oldest first."""
        rows = self._query("SELECT * FROM comments WHERE image_id = ? ORDER BY id", (image_id,))
        return [_comment(row) for row in rows]

    @staticmethod
    def _insert_comment(db: sqlite3.Connection, image_id: int, author: str | None,
                        text: str) -> int:
        cursor = db.execute("INSERT INTO comments (image_id, author, text, created_at) "
                            "VALUES (?, ?, ?, ?)", (image_id, author, text, utc_now()))
        return cursor.lastrowid


def _event(row: sqlite3.Row) -> HistoryEvent:
    return HistoryEvent(
        id=row["id"], image_id=row["image_id"], kind=row["kind"], actor=row["actor"],
        created_at=row["created_at"],
        old_status=ReviewStatus(row["old_status"]) if row["old_status"] else None,
        new_status=ReviewStatus(row["new_status"]) if row["new_status"] else None,
        comment=row["comment"], detail=row["detail"])


def _comment(row: sqlite3.Row) -> Comment:
    return Comment(id=row["id"], image_id=row["image_id"], author=row["author"],
                   text=row["text"], created_at=row["created_at"])
