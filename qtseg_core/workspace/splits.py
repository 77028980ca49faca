"""Train / validation assignment, made once per image and never changed.

About 1 in 5 groups goes to validation, chosen from a hash of the group (or
of the image name when it has no group) so that the choice does not depend on
the machine or the order of work. Images of a group already assigned follow
their group. Until some group is in validation, the fifth new group is sent
there, so a workspace always gets a validation set once it has five groups.
"""

from __future__ import annotations

import hashlib
import sqlite3

VAL_EVERY = 5


def split_key(group: str | None, name: str) -> str:
    """What the split is decided on: the group, or the image itself."""
    return f"group:{group}" if group else f"image:{name}"


def hashed_split(key: str) -> str:
    """'val' for about 1 in VAL_EVERY keys, else 'train'; stable across runs."""
    digest = hashlib.sha256(key.encode("utf-8")).digest()
    return "val" if int.from_bytes(digest[:8], "big") % VAL_EVERY == 0 else "train"


def choose_split(db: sqlite3.Connection, group: str | None, name: str) -> str:
    """The split for an image being accepted now (caller stores it in the same transaction)."""
    if group:
        row = db.execute("SELECT split FROM images WHERE group_id = ? AND split IS NOT NULL "
                         "LIMIT 1", (group,)).fetchone()
        if row is not None:
            return row["split"]
    split = hashed_split(split_key(group, name))
    if split == "train" and _needs_first_val(db):
        return "val"
    return split


def _needs_first_val(db: sqlite3.Connection) -> bool:
    """True when no unit is in validation yet and VAL_EVERY - 1 are in training."""
    units = ("SELECT COUNT(DISTINCT COALESCE('group:' || group_id, 'image:' || name)) "
             "FROM images WHERE split = ?")
    if db.execute(units, ("val",)).fetchone()[0] > 0:
        return False
    return db.execute(units, ("train",)).fetchone()[0] >= VAL_EVERY - 1
