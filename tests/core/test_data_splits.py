"""Sorted K-fold and volume-grouped splits: disjoint, complete, stable."""

from __future__ import annotations

import pytest

from qtseg_core.data import DatasetError, grouped_split, kfold_split

SLICES = [f"vol{v}_z{z:03d}" for v in range(7) for z in range(3 + v % 3)]


def test_kfold_sorts_and_slices_like_the_paper():
    ids = [f"img{i:02d}" for i in range(10)][::-1]  # order given does not matter
    train, val = kfold_split(ids, k=5, fold=1)
    assert val == ["img02", "img03"]
    assert train == sorted(set(ids) - set(val))


def test_kfold_folds_cover_every_id_once():
    ids = [f"x{i}" for i in range(23)]
    validations = [kfold_split(ids, 5, fold)[1] for fold in range(5)]
    assert sorted(i for v in validations for i in v) == sorted(ids)
    assert {len(v) for v in validations} <= {4, 5}


def test_kfold_rejects_bad_arguments():
    with pytest.raises(ValueError, match="fold=5"):
        kfold_split(["a", "b", "c"], k=5, fold=5)
    with pytest.raises(DatasetError, match="Cannot make 5 folds from 3"):
        kfold_split(["a", "b", "c"], k=5, fold=0)
    with pytest.raises(DatasetError, match="Duplicate"):
        kfold_split(["a", "a", "b"], k=2, fold=0)


def _volumes(ids):
    return {i.split("_z")[0] for i in ids}


@pytest.mark.parametrize("arguments", [{"val_fraction": 0.3}, {"k": 3, "fold": 2}])
def test_grouped_split_never_puts_one_volume_on_both_sides(arguments):
    train, val = grouped_split(SLICES, r"^(.*)_z\d+$", **arguments)
    assert train and val and not set(train) & set(val)
    assert sorted(train + val) == sorted(SLICES)
    assert not _volumes(train) & _volumes(val)
    assert (train, val) == grouped_split(list(reversed(SLICES)), r"^(.*)_z\d+$", **arguments)


def test_grouped_split_accepts_an_id_to_group_mapping():
    groups = {i: i.split("_z")[0] for i in SLICES}
    assert grouped_split(SLICES, groups, seed=3) == grouped_split(SLICES, r"^(.*)_z\d+$", seed=3)


def test_grouped_folds_cover_every_volume_once():
    held_out = [_volumes(grouped_split(SLICES, k=3, fold=f)[1]) for f in range(3)]
    assert sorted(v for h in held_out for v in h) == sorted(_volumes(SLICES))


def test_grouped_split_errors_are_actionable():
    with pytest.raises(DatasetError, match="matches none of the ids"):
        grouped_split(["a", "b"], r"^(.*)_slice\d+$")
    with pytest.raises(ValueError, match="one \\(capture group\\)"):
        grouped_split(SLICES, r"^.*_z\d+$")
    with pytest.raises(DatasetError, match="at least two volumes"):
        grouped_split(["v_z1", "v_z2"])


@pytest.mark.parametrize("seed", range(4))
def test_of_a_large_and_a_small_volume_the_small_one_validates(seed):
    ids = [f"brain1_z{z:03d}" for z in range(7)] + [f"brain2_z{z:03d}" for z in range(3)]
    train, val = grouped_split(ids, val_fraction=0.2, seed=seed)
    assert val == [f"brain2_z{z:03d}" for z in range(3)] and len(train) == 7


def test_unequal_volumes_hold_out_about_the_asked_share_of_images():
    ids = [f"v{v}_z{z:03d}" for v in range(10) for z in range(4 + 6 * (v % 3))]
    for seed in range(5):
        train, val = grouped_split(ids, val_fraction=0.2, seed=seed)
        assert abs(len(val) - 0.2 * len(ids)) <= 16 / 2  # within half the largest volume
        assert {i.split("_")[0] for i in train}.isdisjoint({i.split("_")[0] for i in val})
