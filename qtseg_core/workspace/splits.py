"""Which vouched-for images a fine-tune trains on and which it validates on.

``plan_split(images) -> SplitPlan`` is planned afresh from what the workspace
holds each time a fine-tune is planned (and shown in the app), so it works
with what the user has:

- enough volumes (``MIN_GROUPS`` groups or ungrouped images that may be
  validated on): whole volumes apart, about 1 in ``VAL_EVERY`` to validation,
  chosen from a hash of the volume's name (stable across runs and machines);
- too few (one volume, a few): inside each volume the last contiguous block of
  slices with foreground goes to validation, the slices within ``gap`` of it
  are left out of both sides (neighbouring slices look alike), the rest
  trains; the plan's ``note`` says so. When no volume has slices to spare
  (a few volumes of one slice each), one whole volume validates.

Two rules win over both: the user's own choice per image (train / validation
/ excluded, :data:`CHOICES`), and never validating on an image the parent model
(or any model it came from) was trained on; such an image trains instead.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

VAL_EVERY = 5
MIN_GROUPS = 5
VAL_FRACTION = 0.2
CHOICES = ("train", "val", "excluded")
_SLICE = re.compile(r"_z(\d+)$")


@dataclass(frozen=True)
class SplitImage:
    """One vouched-for image as the planner sees it.

    ``choice`` is the user's ('train' / 'val' / 'excluded') or None (automatic);
    ``seen_by_parent``: the model being fine-tuned was trained on it;
    ``has_foreground``: its mask marks something (an empty mask cannot judge a model).
    """

    image_id: int
    name: str
    group: str | None = None
    choice: str | None = None
    seen_by_parent: bool = False
    has_foreground: bool = True


@dataclass(frozen=True)
class SplitPlan:
    """Where each image goes: ``sides[image_id]`` is 'train', 'val', 'gap' or 'excluded'.

    ``rule`` is 'volumes' (whole volumes apart) or 'slice-blocks' (blocks
    inside volumes); ``note`` says in words what was done and why.
    """

    sides: dict[int, str] = field(default_factory=dict)
    rule: str = "volumes"
    note: str = ""

    def ids(self, side: str) -> list[int]:
        return [image_id for image_id, where in self.sides.items() if where == side]

    @property
    def train(self) -> list[int]:
        return self.ids("train")

    @property
    def val(self) -> list[int]:
        return self.ids("val")


def unit_of(image: SplitImage) -> str:
    """The volume an image belongs to, or the image itself when it has no group."""
    return f"group:{image.group}" if image.group else f"image:{image.name}"


def hashed_split(key: str) -> str:
    """'val' for about 1 in VAL_EVERY keys, else 'train'; stable across runs."""
    return "val" if _hash(key) % VAL_EVERY == 0 else "train"


def slice_position(name: str, fallback: int) -> int:
    """The slice index in a name like 'brain1_z011.png' (11), else ``fallback``."""
    match = _SLICE.search(name.rsplit(".", 1)[0])
    return int(match.group(1)) if match else fallback


def plan_split(images: Sequence[SplitImage]) -> SplitPlan:
    """Plan train / validation for ``images`` (see the module docstring for the rules)."""
    sides, notes = _fixed_sides(images)
    automatic = [image for image in images if image.image_id not in sides]
    units = _units(automatic, pool_ungrouped=False)
    eligible = [key for key, members in units.items() if _may_validate(members)]
    blocks = {} if len(eligible) >= MIN_GROUPS else _blocks(images, sides)
    no_val = "val" not in blocks.values() and "val" not in sides.values()
    if len(eligible) >= MIN_GROUPS or (no_val and len(eligible) > 1):
        sides.update(_whole_volumes(units, eligible))
        rule = "volumes"
        notes.insert(0, f"whole volumes apart: {len(_val_units(sides, units))} of "
                        f"{len(units)} volumes (or single images) validate")
    else:
        sides.update(blocks)
        rule = "slice-blocks"
        notes.insert(0, _blocks_note(len(eligible), sides, automatic))
    return SplitPlan(dict(sorted(sides.items())), rule, "; ".join(notes))


def _blocks(images: Sequence[SplitImage], fixed: dict[int, str]) -> dict[int, str]:
    """The slice-block sides of every image without a ``fixed`` one, volume by volume."""
    sides: dict[int, str] = {}
    for members in _units(images, pool_ungrouped=True).values():
        sides.update(_slice_blocks(members, fixed))
    return sides


def _fixed_sides(images: Iterable[SplitImage]) -> tuple[dict[int, str], list[str]]:
    """Sides set by the user's choices and by the parent's training set."""
    sides: dict[int, str] = {}
    moved = []
    for image in images:
        if image.choice not in (None, *CHOICES):
            raise ValueError(f"Split choice {image.choice!r} for {image.name}: use one of "
                             f"{', '.join(CHOICES)} or None (automatic).")
        if image.seen_by_parent and image.choice in (None, "val"):
            sides[image.image_id] = "train"
            if image.choice == "val":
                moved.append(image.name)
        elif image.choice is not None:
            sides[image.image_id] = image.choice
    notes = []
    if moved:
        notes.append(f"{len(moved)} image(s) you chose for validation train instead: the model "
                     f"being fine-tuned was trained on them ({', '.join(moved[:3])})")
    return sides, notes


def _units(images: Iterable[SplitImage], *, pool_ungrouped: bool) -> dict[str, list[SplitImage]]:
    """Images by volume; ungrouped images each alone, or together in one pool."""
    units: dict[str, list[SplitImage]] = {}
    for image in images:
        key = "ungrouped" if pool_ungrouped and not image.group else unit_of(image)
        units.setdefault(key, []).append(image)
    return units


def _may_validate(members: Sequence[SplitImage]) -> bool:
    """A volume may validate when the parent never saw it and it shows something."""
    return not any(m.seen_by_parent for m in members) and any(m.has_foreground for m in members)


def _whole_volumes(units: dict[str, list[SplitImage]], eligible: list[str]) -> dict[int, str]:
    val = {key for key in eligible if hashed_split(key) == "val"}
    if not val:  # always some validation: the eligible volume with the smallest hash
        val = {min(eligible, key=_hash)}
    return {m.image_id: "val" if key in val else "train"
            for key, members in units.items() for m in members}


def _slice_blocks(members: list[SplitImage], fixed: dict[int, str]) -> dict[int, str]:
    """Inside one volume: the last block of foreground slices validates, a gap, the rest trains.

    Only images without a ``fixed`` side are placed. Slices the parent saw, and
    slices within the gap of them, never validate. Ungrouped images (pooled in
    name order) need no gap.
    """
    ordered = sorted(members, key=lambda m: (slice_position(m.name, 0), m.name))
    at = {m.image_id: slice_position(m.name, rank) for rank, m in enumerate(ordered)}
    gap = block_gap(len(ordered)) if ordered[0].group else 0
    seen_at = [at[m.image_id] for m in ordered if m.seen_by_parent]
    free = [m for m in ordered if m.image_id not in fixed]
    candidates = [m for m in free if m.has_foreground
                  and all(abs(at[m.image_id] - p) > gap for p in seen_at)]
    if len(ordered) < 2 or not candidates:
        return {m.image_id: "train" for m in free}
    val = {m.image_id for m in candidates[-max(1, round(VAL_FRACTION * len(ordered))):]}
    val_at = [at[i] for i in val] + [at[i] for i, side in fixed.items() if side == "val"
                                     and i in at]
    sides = {m.image_id: "val" if m.image_id in val else
             ("gap" if min(abs(at[m.image_id] - p) for p in val_at) <= gap else "train")
             for m in free}
    if "train" not in sides.values() and "train" not in fixed.values():
        sides = {i: ("val" if i in val else "train") for i in sides}  # too few for a gap
    return sides


def block_gap(slices: int) -> int:
    """Slices left out on each side of a validation block: 1, or 5 % of a long volume."""
    return max(1, round(0.05 * slices))


def _val_units(sides: dict[int, str], units: dict[str, list[SplitImage]]) -> list[str]:
    return [key for key, members in units.items()
            if any(sides.get(m.image_id) == "val" for m in members)]


def _blocks_note(eligible: int, sides: dict[int, str], images: list[SplitImage]) -> str:
    auto = [sides[i.image_id] for i in images]
    return (
        f"only {eligible} volume(s) that can validate (whole-volume validation needs "
        f"{MIN_GROUPS}): validating on a block of slices inside each volume, "
        f"{auto.count('val')} validate, {auto.count('train')} train, {auto.count('gap')} "
        "left out as a gap next to the validation block"
    )


def _hash(key: str) -> int:
    return int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest()[:8], "big")
