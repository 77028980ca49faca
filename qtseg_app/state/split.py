"""The fine-tune split as the user sees and changes it: train, validation or left out.

The plan is the workspace's (``Workspace.split_plan``: the user's choice per
image wins, images the model learnt never validate, one volume is split by
slice blocks with a gap). This class keeps the last plan, says in words where
the image on screen goes and why, and stores the user's choice for it.
"""

from __future__ import annotations

from qtseg_app.state.events import Event
from qtseg_app.state.session import ReviewSession
from qtseg_core.workspace import ImageRecord, ReviewStatus, WorkspaceError
from qtseg_core.workspace.splits import SplitPlan

#: The user's choices, as the menu names them; None puts an image back to automatic.
CHOICE_TEXT = {"train": "train on it", "val": "validate on it",
               "excluded": "leave it out of fine-tuning", None: "automatic"}
VOUCHED = (ReviewStatus.ACCEPTED, ReviewStatus.CORRECTED)
SIDE_TEXT = {"train": "training", "val": "validation", "gap": "left out (next to validation)",
             "excluded": "left out"}


class SplitChoices:
    """Where the vouched-for images go in the next fine-tune, and the user's say in it."""

    def __init__(self, session: ReviewSession) -> None:
        self.session = session
        self.plan = SplitPlan()
        self.changed: Event[SplitPlan] = Event()  # the plan was made again
        self._known: dict[int, tuple[object, str | None]] = {}  # id -> (status, choice)
        session.images.record_changed.connect(self._on_record)
        session.finetune.changed.connect(self._on_finetune)

    def _on_record(self, record: ImageRecord) -> None:
        """Plan again when an image's status or split choice changed (not on every
        stroke: planning reads every vouched-for mask)."""
        now = (record.status, record.split)
        if self._known.get(record.id, now) != now or (
                record.id not in self._known and record.status in VOUCHED):
            self.refresh()
        self._known[record.id] = now

    def _on_finetune(self, change: tuple[str, object]) -> None:
        if change[0] == "versions_changed":  # another model: other images it learnt
            self.refresh()

    def refresh(self) -> SplitPlan:
        """Plan again from what the workspace holds (after a decision or a choice)."""
        try:
            self.plan = self.session.ws.split_plan()
        except (WorkspaceError, OSError) as error:
            self.session.say(f"The fine-tune split could not be planned: {error}")
            return self.plan
        self.changed.emit(self.plan)
        return self.plan

    def choose(self, choice: str | None) -> bool:
        """Store ``choice`` ('train', 'val', 'excluded' or None) for the image on screen."""
        image_id = self.session.current_id
        if image_id is None:
            self.session.say("Open an image first.")
            return False
        try:
            self.session.ws.set_split_choice(image_id, choice, self.session.ws.reviewer_name)
        except (WorkspaceError, OSError) as error:
            self.session.report("Not saved", f"The split choice could not be saved: {error}",
                                "Free disk space or check the disk, then choose again.")
            return False
        record = self.session.refresh_record(image_id)
        self.refresh()
        self.session.say(f"{record.name}: {CHOICE_TEXT[choice]} ({self.where(image_id)}).")
        return True

    def where(self, image_id: int) -> str:
        """e.g. 'validation, chosen' or 'training, automatic' or 'not in the split yet'."""
        side = self.plan.sides.get(image_id)
        if side is None:
            return "not in the split until it is accepted or corrected"
        chosen = self.session.ws.image(image_id).split is not None
        return f"{SIDE_TEXT[side]}, {'chosen' if chosen else 'automatic'}"

    def summary(self) -> str:
        """One line of counts for the fine-tune panel (the reason: :meth:`reason`)."""
        counts = {side: len(self.plan.ids(side)) for side in SIDE_TEXT}
        if not any(counts.values()):
            return "Split: nothing accepted or corrected yet."
        return (f"Split: {counts['train']} training · {counts['val']} validation · "
                f"{counts['gap'] + counts['excluded']} left out.")

    def reason(self) -> str:
        """Why the split is as it is, in words (the plan's note, as a sentence)."""
        note = self.plan.note
        return note[:1].upper() + note[1:]
