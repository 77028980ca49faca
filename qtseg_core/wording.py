"""Wording shared by messages for people."""

from __future__ import annotations

from collections.abc import Sequence


def shortlist(names: Sequence[str], limit: int = 5) -> str:
    """'a, b, c' or, past ``limit`` names, 'a, b, c, d, e and 7 more'."""
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more
