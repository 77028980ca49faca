"""Planning train / validation for a fine-tune with what the user has reviewed.

The planner on made-up volumes (one volume, a few, many), then the workspace
around it: the user's choices, and a model's training images (listed in its
checkpoint by name or by content hash) never validating it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from qtseg_core.checkpoint import load_model, save_model
from qtseg_core.provenance import describe_training_images
from qtseg_core.workspace import Workspace
from qtseg_core.workspace.splits import SplitImage, block_gap, plan_split
from tests.core.finetune_helpers import weak_model
from tests.core.workspace_helpers import demo_folder


def volume(name: str, slices: int, first_id: int = 0, **fields: object) -> list[SplitImage]:
    return [SplitImage(first_id + z, f"{name}_z{z:03d}.png", name, **fields)
            for z in range(slices)]


def sides_by_volume(plan, images: list[SplitImage]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for image in images:
        out.setdefault(image.group, set()).add(plan.sides[image.image_id])
    return out


def assert_one_side_each(plan, images: list[SplitImage]) -> None:
    assert sorted(plan.sides) == sorted(image.image_id for image in images)
    assert set(plan.sides.values()) <= {"train", "val", "gap", "excluded"}


def test_one_volume_validates_on_a_slice_block_with_a_gap() -> None:
    images = volume("mri", 74)
    plan = plan_split(images)
    assert_one_side_each(plan, images)
    assert plan.rule == "slice-blocks" and "block of slices" in plan.note
    val = sorted(plan.val)
    assert len(val) == round(0.2 * 74) and val == list(range(val[0], val[-1] + 1))  # contiguous
    gap = block_gap(74)
    nearest_train = max(plan.train)
    assert val[0] - nearest_train > gap  # a gap of left-out slices between the blocks
    assert len(plan.ids("gap")) == gap


def test_one_volume_never_validates_on_what_the_parent_learnt() -> None:
    images = [SplitImage(z, f"mri_z{z:03d}.png", "mri", seen_by_parent=z >= 20)
              for z in range(30)]
    plan = plan_split(images)
    assert plan.val and all(image_id < 20 - block_gap(30) for image_id in plan.val)
    assert all(plan.sides[z] == "train" for z in range(20, 30))


def test_validation_block_holds_foreground() -> None:
    images = [SplitImage(z, f"mri_z{z:03d}.png", "mri", has_foreground=10 <= z < 20)
              for z in range(40)]
    plan = plan_split(images)
    assert plan.val and all(10 <= image_id < 20 for image_id in plan.val)


def test_two_slices_with_a_natural_gap_train_one_validate_one() -> None:
    images = [SplitImage(8, "brain2_z008.png", "brain2"), SplitImage(10, "brain2_z010.png",
                                                                        "brain2")]
    plan = plan_split(images)
    assert plan.train == [8] and plan.val == [10]


def test_few_volumes_validate_inside_each_volume() -> None:
    images = volume("a", 10) + volume("b", 10, 100) + volume("c", 3, 200)
    plan = plan_split(images)
    assert_one_side_each(plan, images)
    assert plan.rule == "slice-blocks"
    assert all("val" in sides and "train" in sides
               for sides in sides_by_volume(plan, images).values())


@pytest.mark.parametrize("seen_volumes", [set(), {"v00", "v03", "v07"}])
def test_many_volumes_keep_whole_volumes_apart(seen_volumes: set[str]) -> None:
    images = [image for v in range(12)
              for image in volume(f"v{v:02d}", 4, 100 * v, seen_by_parent=f"v{v:02d}" in
                                  seen_volumes)]
    plan = plan_split(images)
    assert_one_side_each(plan, images)
    assert plan.rule == "volumes"
    by_volume = sides_by_volume(plan, images)
    assert all(len(sides) == 1 for sides in by_volume.values())  # no volume on both sides
    assert 1 <= sum(sides == {"val"} for sides in by_volume.values()) <= 6
    assert all(by_volume[name] == {"train"} for name in seen_volumes)


def test_user_choices_win_but_never_validate_on_parent_training() -> None:
    images = volume("mri", 10)
    images[0] = SplitImage(0, "mri_z000.png", "mri", choice="val")
    images[1] = SplitImage(1, "mri_z001.png", "mri", choice="excluded")
    images[9] = SplitImage(9, "mri_z009.png", "mri", choice="val", seen_by_parent=True)
    plan = plan_split(images)
    assert plan.sides[0] == "val" and plan.sides[1] == "excluded" and plan.sides[9] == "train"
    assert "train instead" in plan.note and "mri_z009.png" in plan.note
    with pytest.raises(ValueError, match="use one of train, val, excluded"):
        plan_split([SplitImage(0, "x.png", choice="validation")])


BRAIN = ("brain1_z011", "brain1_z012", "brain1_z013", "brain2_z008", "brain2_z009",
         "brain2_z010")


def correct_all(ws: Workspace) -> None:
    for image in ws.images():
        mask = np.zeros((256, 256), np.uint8)
        mask[100:120, 100:120] = 1
        ws.save_correction(image.id, mask, "annotator")


def test_workspace_plan_leaves_out_what_the_model_learnt(tmp_path: Path) -> None:
    folder = demo_folder(tmp_path, BRAIN)
    base = weak_model(tmp_path / "weak.safetensors")
    brain2 = sorted((folder / "images").glob("brain2_*"))
    model = load_model(base)  # trained on brain2, listed by content hash under other names
    save_model(model, base, trained_on=describe_training_images(
        (f"copy{i}", path) for i, path in enumerate(brain2)))
    with Workspace.open(folder) as ws:
        ws.register_model(base)
        correct_all(ws)
        ids = {image.name: image.id for image in ws.images()}
        assert ws.seen_by_model() == {ids[f"{n}.png"] for n in BRAIN[3:]}
        plan = ws.split_plan()
        assert plan.val and all(ids[f"{n}.png"] not in plan.val for n in BRAIN[3:])
        ws.set_split_choice(ids["brain1_z011.png"], "excluded", "annotator")
        assert ws.image(ids["brain1_z011.png"]).split == "excluded"
        assert ws.split_plan().sides[ids["brain1_z011.png"]] == "excluded"
        ws.set_split_choice(ids["brain1_z011.png"], None, "annotator")
        assert ws.image(ids["brain1_z011.png"]).split is None
        assert ws.history(ids["brain1_z011.png"])[-1].detail == "automatic"


def test_older_checkpoints_match_training_images_by_name(tmp_path: Path) -> None:
    base = weak_model(tmp_path / "weak.safetensors")
    save_model(load_model(base), base, trained_on=["brain1_z011", "brain1_z012"])
    with Workspace.open(demo_folder(tmp_path, BRAIN)) as ws:
        ws.register_model(base)
        child = ws.register_model(base, parent="v1", trained_on=[ws.images()[2].id],
                                  make_current=True)
        names = {ws.image(i).name for i in ws.seen_by_model(child.version)}
        assert names == {"brain1_z011.png", "brain1_z012.png", "brain1_z013.png"}


def test_few_single_slice_volumes_validate_one_whole_volume() -> None:
    images = [SplitImage(i, f"{name}_z001.png", name) for i, name in enumerate("abc")]
    plan = plan_split(images)
    assert plan.rule == "volumes" and len(plan.val) == 1 and len(plan.train) == 2
