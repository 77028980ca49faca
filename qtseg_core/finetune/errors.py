"""Errors of the fine-tune feature; each message names the problem and what to do."""

from __future__ import annotations


class FinetuneError(RuntimeError):
    """A fine-tune cannot start or finish; the message says why and what to do."""


class NotEnoughImagesError(FinetuneError):
    """Too few accepted / corrected images on one side of the split.

    ``needed`` is how many more images (or volumes, for a missing validation
    set) the annotator has to accept or correct; the message explains which.
    """

    def __init__(self, message: str, needed: int) -> None:
        super().__init__(message)
        self.needed = needed


class FinetuneCancelled(Exception):  # noqa: N818 - a stop the user asked for, not an error
    """The run was cancelled; nothing was written to the workspace, temp files are gone."""
