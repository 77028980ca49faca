"""Workspace state a user relies on: it survives reopening, keeps every mask and decision."""

from __future__ import annotations

import sqlite3

import numpy as np
import pytest

from qtseg_core.io import ImageReadError
from qtseg_core.workspace import (
    MaskKind,
    ReviewStatus,
    Workspace,
    WorkspaceError,
    WorkspaceReadOnlyError,
)
from qtseg_core.workspace.schema import SCHEMA_VERSION
from tests.core.finetune_helpers import weak_model
from tests.core.workspace_helpers import demo_folder, square_mask, write_gray, write_huge_png_header

BRAIN = ("brain1_z011", "brain1_z012", "brain2_z008")


def _by_name(ws: Workspace) -> dict:
    return {image.name: image for image in ws.images()}


def test_create_scans_images_with_size_and_group(tmp_path):
    with Workspace.open(demo_folder(tmp_path, BRAIN)) as ws:
        images = _by_name(ws)
    assert sorted(images) == [f"{n}.png" for n in BRAIN]
    first = images["brain1_z011.png"]
    assert (first.width, first.height, first.group) == (256, 256, "brain1")
    assert first.status is ReviewStatus.UNREVIEWED and first.split is None
    assert first.path.is_file()


def test_reopen_keeps_masks_statuses_history_settings(tmp_path):
    folder = demo_folder(tmp_path, BRAIN)
    with Workspace.open(folder) as ws:
        image = ws.images()[0]
        prediction = square_mask(256, 256, 10, 10, 20)
        ws.save_prediction(image.id, prediction, "v1", uncertainty=0.4)
        ws.save_correction(image.id, square_mask(256, 256, 10, 10, 30), "Ana")
        ws.set_status(image.id, ReviewStatus.ACCEPTED, "Dr Rossi", comment="clean margin")
        ws.set_split_choice(image.id, "val", "Dr Rossi")
        ws.reviewer_name = "Dr Rossi"
        ws.last_image_id = image.id
        ws.set_setting("view_state", {"zoom": 2.0})
    with Workspace.open(folder) as ws:
        again = ws.image(image.id)
        assert again.status is ReviewStatus.ACCEPTED and again.split == "val"
        assert ws.reviewer_name == "Dr Rossi" and ws.last_image_id == image.id
        assert ws.setting("view_state") == {"zoom": 2.0}
        np.testing.assert_array_equal(
            ws.read_mask(ws.latest_mask(image.id, MaskKind.PREDICTION)), prediction)
        assert [c.text for c in ws.comments(image.id)] == ["clean margin"]
        assert len(ws.images()) == len(BRAIN)  # rescanning adds no duplicates


def test_prediction_kept_beside_every_correction(tmp_path):
    with Workspace.open(demo_folder(tmp_path, BRAIN)) as ws:
        image_id = ws.images()[0].id
        prediction = ws.save_prediction(image_id, square_mask(256, 256, 0, 0, 8), "v1")
        first = ws.save_correction(image_id, square_mask(256, 256, 0, 0, 9), "Ana")
        second = ws.save_correction(image_id, square_mask(256, 256, 0, 0, 10), "Ana")
        kinds = [v.kind for v in ws.mask_versions(image_id)]
        assert kinds == [MaskKind.PREDICTION, MaskKind.CORRECTION, MaskKind.CORRECTION]
        assert first.based_on == second.based_on == prediction.id
        assert ws.read_mask(prediction).sum() == 64  # untouched by the corrections
        assert ws.final_mask(image_id).id == second.id
        ws.save_prediction(image_id, square_mask(256, 256, 0, 0, 3), "v2")
        assert ws.latest_mask(image_id, MaskKind.PREDICTION, model_version="v1") == prediction
        assert ws.image(image_id).status is ReviewStatus.CORRECTED


def test_amend_replaces_the_draft_correction_only(tmp_path):
    with Workspace.open(demo_folder(tmp_path, BRAIN)) as ws:
        image_id = ws.images()[0].id
        ws.save_prediction(image_id, square_mask(256, 256, 0, 0, 8), "v1")
        draft = ws.save_correction(image_id, square_mask(256, 256, 0, 0, 9), "Ana", amend=True)
        amended = ws.save_correction(image_id, square_mask(256, 256, 0, 0, 12), "Ana",
                                     amend=True)
        assert amended.id == draft.id and ws.read_mask(amended).sum() == 144
        assert len(ws.mask_versions(image_id)) == 2


def test_statuses_and_history_name_the_reviewer(tmp_path):
    with Workspace.open(demo_folder(tmp_path, BRAIN)) as ws:
        image_id = ws.images()[1].id
        ws.save_prediction(image_id, square_mask(256, 256, 5, 5, 5), "v1")
        ws.set_status(image_id, "flagged", "Ana", comment="ask an expert")
        ws.set_status(image_id, ReviewStatus.REJECTED, "Dr Rossi")
        events = [e for e in ws.history(image_id) if e.kind == "status"]
        assert [(e.actor, e.old_status, e.new_status, e.comment) for e in events] == [
            ("Ana", ReviewStatus.PREDICTED, ReviewStatus.FLAGGED, "ask an expert"),
            ("Dr Rossi", ReviewStatus.FLAGGED, ReviewStatus.REJECTED, None)]
        assert ws.counts()[ReviewStatus.REJECTED] == 1
        assert ws.image(image_id).split is None  # rejected images are not training data


def test_accepting_without_any_mask_is_refused(tmp_path):
    with Workspace.open(demo_folder(tmp_path, BRAIN)) as ws:
        with pytest.raises(WorkspaceError, match="no mask yet"):
            ws.set_status(ws.images()[0].id, ReviewStatus.ACCEPTED, "Ana")


def test_bad_files_are_listed_with_reasons_and_the_rest_open(tmp_path):
    folder = demo_folder(tmp_path, BRAIN[:1])
    (folder / "images" / "garbage.png").write_bytes(b"not a png at all")
    (folder / "images" / "fake.dcm").write_bytes(b"\0" * 300)
    write_huge_png_header(folder / "images" / "huge.png")
    with Workspace.open(folder) as ws:
        images = _by_name(ws)
        assert images["brain1_z011.png"].readable
        for name in ("garbage.png", "fake.dcm", "huge.png"):
            assert not images[name].readable and images[name].read_error
        assert "too large" in images["huge.png"].read_error
        assert ws.next_image(None).name == "brain1_z011.png"  # bad ones are skipped
        with pytest.raises(WorkspaceError, match="could not be read"):
            ws.save_correction(images["huge.png"].id, np.zeros((4, 4), np.uint8), "Ana")


def test_scan_reads_headers_only_and_damaged_pixels_fail_when_opened(tmp_path):
    folder = demo_folder(tmp_path, BRAIN[:2])
    good = (folder / "images" / "brain1_z011.png").read_bytes()
    (folder / "images" / "brain1_z011.png").write_bytes(good[: len(good) // 3])  # header intact
    with Workspace.open(folder) as ws:
        damaged, sound = ws.images()
        assert damaged.readable and (damaged.width, damaged.height) == (256, 256)
        assert ws.next_image(None).id == damaged.id  # listed like any other until opened
        with pytest.raises(ImageReadError, match="brain1_z011.png.*corrupt or truncated"):
            ws.read_image(damaged.id)
        assert "corrupt or truncated" in ws.image(damaged.id).read_error
        assert ws.next_image(None).id == sound.id and ws.read_image(sound.id).shape == (256, 256)
        assert [e.kind for e in ws.history(damaged.id)][-1] == "unreadable"


def test_next_image_agrees_with_the_list_in_every_order_and_filter(tmp_path):
    folder = tmp_path / "ws"
    for index in range(12):
        write_gray(folder / f"{'ab'[index % 2]}{index % 5}_{index}.png", 16, 16)
    with Workspace.open(folder) as ws:
        ids = [image.id for image in ws.images()]
        for index, image_id in enumerate(ids[:7]):
            ws.save_prediction(image_id, np.zeros((16, 16), np.uint8), "v1",
                               uncertainty=[0.5, 0.2, None, 0.9][index % 4])
        ws.set_status(ids[1], ReviewStatus.FLAGGED, "Ana")
        for order in ("name", "uncertainty", "status"):
            for status in (None, ReviewStatus.PREDICTED, [ReviewStatus.FLAGGED, "unreviewed"]):
                listed = [i.id for i in ws.images(status=status, order=order)]
                walked, current = [], None
                for _ in listed:
                    current = ws.next_image(current and current.id, status=status, order=order)
                    walked.append(current.id)
                assert walked == listed, (order, status)
                if len(listed) > 1:  # wraps around to the first
                    assert ws.next_image(listed[-1], status, order).id == listed[0]


def test_a_workspace_of_the_previous_schema_is_upgraded_on_open(tmp_path):
    folder = demo_folder(tmp_path, BRAIN)
    with Workspace.open(folder) as ws:
        a, b, _ = ws.images()
        ws.save_prediction(a.id, square_mask(256, 256, 0, 0, 4), "v1", uncertainty=0.3)
        ws.save_prediction(b.id, square_mask(256, 256, 0, 0, 4), "v1", uncertainty=0.8)
    db = sqlite3.connect(folder / "workspace.sqlite")  # scores only where version 2 kept them
    db.execute("DROP INDEX images_by_uncertainty")
    db.execute("DROP INDEX images_by_status_uncertainty")
    db.execute("UPDATE images SET uncertainty = NULL")
    db.execute("UPDATE schema_version SET version = 2")
    db.commit()
    db.close()
    with Workspace.open(folder) as ws:
        assert [i.name for i in ws.images(order="uncertainty")][:2] == [b.name, a.name]
        assert ws.image(a.id).uncertainty == pytest.approx(0.3)
    db = sqlite3.connect(folder / "workspace.sqlite")
    assert db.execute("SELECT version FROM schema_version").fetchone()[0] == SCHEMA_VERSION


def test_order_filters_and_next_image(tmp_path):
    with Workspace.open(demo_folder(tmp_path, BRAIN)) as ws:
        a, b, c = ws.images()
        ws.save_prediction(a.id, square_mask(256, 256, 0, 0, 4), "v1", uncertainty=0.1)
        ws.save_prediction(c.id, square_mask(256, 256, 0, 0, 4), "v1", uncertainty=0.9)
        assert [i.id for i in ws.images(order="uncertainty")] == [c.id, a.id, b.id]
        assert [i.id for i in ws.images(status=ReviewStatus.PREDICTED)] == [a.id, c.id]
        assert ws.next_image(a.id, status=ReviewStatus.PREDICTED).id == c.id
        assert ws.next_image(c.id, status=ReviewStatus.PREDICTED).id == a.id  # wraps
        assert ws.next_image(b.id, status=ReviewStatus.UNREVIEWED) is None


def test_split_plan_is_grouped_and_stable(tmp_path):
    folder = tmp_path / "ws"
    for volume in range(12):
        for z in range(3):
            write_gray(folder / "images" / f"vol{volume:02d}_z{z:03d}.png")
    with Workspace.open(folder) as ws:
        for image in ws.images():
            ws.save_correction(image.id, square_mask(32, 48, 0, 0, 4), "Ana")
        names = {image.id: image.name for image in ws.images()}
        splits = {names[i]: side for i, side in ws.split_plan().sides.items()}
    with Workspace.open(folder) as ws:
        assert {names[i]: side for i, side in ws.split_plan().sides.items()} == splits
    by_volume: dict[str, set] = {}
    for name, split in splits.items():
        by_volume.setdefault(name[:5], set()).add(split)
    assert all(len(sides) == 1 for sides in by_volume.values())
    val_volumes = sum(sides == {"val"} for sides in by_volume.values())
    assert 1 <= val_volumes <= 6


def test_training_items_list_vouched_masks(tmp_path):
    with Workspace.open(demo_folder(tmp_path, BRAIN)) as ws:
        a, b, c = ws.images()
        ws.save_prediction(a.id, square_mask(256, 256, 0, 0, 4), "v1")
        ws.set_status(a.id, ReviewStatus.ACCEPTED, "Ana")
        correction = ws.save_correction(b.id, square_mask(256, 256, 0, 0, 6), "Ana")
        ws.save_prediction(c.id, square_mask(256, 256, 0, 0, 4), "v1")
        items = {item.image_id: item for item in ws.training_items()}
        assert sorted(items) == [a.id, b.id]
        assert items[b.id].mask_path == correction.path
        assert items[a.id].group == "brain1" and items[a.id].split is None  # automatic


def test_model_registry_with_provenance_and_rollback(tmp_path):
    source = weak_model(tmp_path / "weights.safetensors", seed=1)
    model_one = source.read_bytes()
    with Workspace.open(demo_folder(tmp_path, BRAIN)) as ws:
        first = ws.register_model(source, scores={"val_dice": 0.5})
        weak_model(source, seed=2)
        second = ws.register_model(source, parent=first.version, trained_on=[1, 2],
                                   settings={"epochs": 3}, scores={"val_dice": 0.6},
                                   make_current=True)
        assert ws.current_model().version == second.version == "v2"
        assert second.path.read_bytes() == source.read_bytes() != first.path.read_bytes()
        assert second.path.parent.name == "models"
        ws.set_current_model(first.version, actor="Ana")
    with Workspace.open(tmp_path / "ws") as ws:
        assert ws.current_model().version == "v1"
        assert ws.model("v2").trained_on == [1, 2] and ws.model("v2").parent == "v1"
        assert [m.version for m in ws.models()] == ["v1", "v2"]
        assert ws.current_model().path.read_bytes() == model_one


def test_read_only_open_reads_but_refuses_writes(tmp_path):
    folder = demo_folder(tmp_path, BRAIN)
    with Workspace.open(folder) as writer:
        with Workspace.open(folder, read_only=True) as reader:
            assert len(reader.images()) == 3
            with pytest.raises(WorkspaceReadOnlyError):
                reader.set_setting("reviewer_name", "x")
        writer.set_setting("reviewer_name", "still writable")


def test_database_is_wal_with_foreign_keys_and_schema_version(tmp_path):
    folder = demo_folder(tmp_path, BRAIN[:1])
    Workspace.open(folder).close()
    db = sqlite3.connect(folder / "workspace.sqlite")
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("SELECT version FROM schema_version").fetchone()[0] == SCHEMA_VERSION
    with pytest.raises(sqlite3.IntegrityError):
        db.execute("PRAGMA foreign_keys = ON")
        db.execute("INSERT INTO mask_versions (image_id, kind, path, created_at) "
                   "VALUES (999, 'prediction', 'x.png', 'now')")
    assert not (folder / "missing").exists()
    with pytest.raises(WorkspaceError, match="not a QTSeg workspace"):
        Workspace.open(tmp_path / "missing", create=False)


def test_a_checkpoint_with_nan_weights_is_never_registered(tmp_path):
    from safetensors import safe_open
    from safetensors.torch import load_file, save_file

    good = weak_model(tmp_path / "good.safetensors")
    tensors = load_file(str(good))
    name = next(k for k, v in tensors.items() if v.is_floating_point())
    tensors[name][...] = float("nan")
    with safe_open(str(good), framework="pt") as handle:
        save_file(tensors, str(tmp_path / "nan.safetensors"), handle.metadata())
    with Workspace.open(demo_folder(tmp_path, BRAIN)) as ws:
        with pytest.raises(ValueError, match="NaN or Inf"):
            ws.register_model(tmp_path / "nan.safetensors", make_current=True)
        assert ws.models() == [] and ws.current_model() is None
        assert list((ws.folder / "models").iterdir()) == []
