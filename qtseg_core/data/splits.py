"""Train/validation splits: the paper's sorted K-fold, and volume-grouped splits.

Official splits (ISIC2016, FIVES, a generic folder's splits.json) live on the
:class:`~qtseg_core.data.samples.DatasetIndex` (``index.split("train")``).
Everything here is deterministic: the same ids give the same split on every
machine, so a fold number in a run's provenance is enough to rebuild it.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Mapping, Sequence

from qtseg_core.data.samples import DatasetError

#: Slices named "<volume>_z<slice>" (the shared real data) share their volume.
SLICE_OF_VOLUME = r"^(.*)_z\d+$"


def kfold_split(ids: Sequence[str], k: int = 5, fold: int = 0) -> tuple[list[str], list[str]]:
    """The paper's K-fold: sort ids, cut into ``k`` contiguous slices, slice ``fold`` validates.

    Returns (train ids, validation ids), both sorted. Slice sizes differ by at most one.
    """
    ordered = _sorted_unique(ids)
    bounds = _fold_bounds(len(ordered), k, fold)
    validation = ordered[bounds[0] : bounds[1]]
    return ordered[: bounds[0]] + ordered[bounds[1] :], validation


def _sorted_unique(ids: Sequence[str]) -> list[str]:
    ordered = sorted(ids)
    duplicates = sorted({a for a, b in zip(ordered, ordered[1:], strict=False) if a == b})
    if duplicates:
        raise DatasetError(f"Duplicate sample ids {duplicates[:3]}: every id must be unique.")
    return ordered


def _fold_bounds(count: int, k: int, fold: int) -> tuple[int, int]:
    """[start, stop) of fold ``fold`` among ``count`` items cut into ``k`` slices."""
    if k < 2 or not 0 <= fold < k:
        raise ValueError(f"k={k}, fold={fold}: use k >= 2 and 0 <= fold < k.")
    if count < k:
        raise DatasetError(f"Cannot make {k} folds from {count} item(s); use k <= {count}.")
    return fold * count // k, (fold + 1) * count // k


def group_ids(ids: Sequence[str], group_pattern: str | Mapping[str, str]) -> dict[str, str]:
    """id -> group, from a regex with one capture group or from a mapping.

    An id the regex does not match is its own group; if it matches no id at
    all the pattern is surely wrong, and that is an error.
    """
    if isinstance(group_pattern, Mapping):
        return {i: str(group_pattern.get(i) or i) for i in ids}
    pattern = re.compile(group_pattern)
    if pattern.groups != 1:
        raise ValueError(f"group_pattern {group_pattern!r} needs exactly one (capture group).")
    matches = {i: pattern.match(i) for i in ids}
    if ids and not any(matches.values()):
        raise DatasetError(
            f"group_pattern {group_pattern!r} matches none of the ids (e.g. {list(ids)[:3]}); "
            f"fix the pattern, e.g. {SLICE_OF_VOLUME!r} for '<volume>_z<slice>' ids."
        )
    return {i: match.group(1) if match else i for i, match in matches.items()}


def grouped_split(
    ids: Sequence[str],
    group_pattern: str | Mapping[str, str] = SLICE_OF_VOLUME,
    *,
    val_fraction: float = 0.2,
    k: int | None = None,
    fold: int | None = None,
    seed: int = 0,
) -> tuple[list[str], list[str]]:
    """Split so that all ids of one group (slices of one volume) fall on the same side.

    With ``k`` and ``fold``: sorted groups in ``k`` contiguous folds (as
    :func:`kfold_split`, over groups). Otherwise whole groups, taken in a seeded
    shuffle, go to validation while they bring its share of the *images* nearer
    ``val_fraction`` (at least one group, never all): of a 7-slice and a 3-slice
    volume the 3 slices validate, not the 7. Returns (train ids, validation ids),
    both sorted.
    """
    ordered = _sorted_unique(ids)
    groups = group_ids(ordered, group_pattern)
    sizes = Counter(groups.values())
    names = sorted(sizes)
    held_out = set(_held_out_groups(names, val_fraction, k, fold, seed, sizes))
    train = [i for i in ordered if groups[i] not in held_out]
    return train, [i for i in ordered if groups[i] in held_out]


def _held_out_groups(
    names: list[str], val_fraction: float, k: int | None, fold: int | None, seed: int,
    sizes: Mapping[str, int],
) -> list[str]:
    if (k is None) != (fold is None):
        raise ValueError("Give both k and fold for a K-fold grouped split, or neither.")
    if k is not None and fold is not None:
        start, stop = _fold_bounds(len(names), k, fold)
        return names[start:stop]
    if not 0 < val_fraction < 1:
        raise ValueError(f"val_fraction={val_fraction}: use a value between 0 and 1.")
    if len(names) < 2:
        raise DatasetError(f"Only one group ({names}): a grouped split needs at least two volumes.")
    shuffled = list(names)
    random.Random(seed).shuffle(shuffled)
    return _nearest_share(shuffled, sizes, val_fraction)


def _nearest_share(shuffled: list[str], sizes: Mapping[str, int], fraction: float) -> list[str]:
    """Groups, in ``shuffled`` order, each taken when it brings the images held out nearer
    ``fraction`` of all; at least the first that fits, never every group."""
    target = fraction * sum(sizes.values())
    taken: list[str] = []
    held = 0
    for name in shuffled:
        if len(taken) == len(shuffled) - 1:
            break
        if abs(held + sizes[name] - target) < abs(held - target):
            taken.append(name)
            held += sizes[name]
    return taken or [min(shuffled, key=lambda name: sizes[name])]
