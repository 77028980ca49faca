"""``qtseg-app --self-test``: one summary line and 0, or a clear message and a non-zero status."""

from __future__ import annotations

import shutil
from pathlib import Path

from qtseg_app import __main__ as entry
from qtseg_core.resources import DEMO_IMAGES, resource_path
from qtseg_core.workspace import Workspace


def test_a_folder_with_a_model_reports_what_it_predicted(qtbot, image_folder: Path,
                                                        tiny_checkpoint: Path, capsys) -> None:
    with Workspace.open(image_folder) as ws:
        ws.register_model(tiny_checkpoint, make_current=True)
    assert entry.main(["--self-test", str(image_folder)]) == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith("qtseg-studio ") and " OK: " in line
    assert "5 images in" in line and "model v1 (" in line and "device cpu" in line
    assert "Qt platform offscreen" in line


def test_a_new_folder_uses_the_bundled_starter(qtbot, tmp_path: Path, capsys) -> None:
    folder = tmp_path / "mine"
    folder.mkdir()
    shutil.copy(resource_path(DEMO_IMAGES) / "breast1_z008.png", folder)  # 120 x 45: fast
    assert entry.main(["--self-test", str(folder)]) == 0
    line = capsys.readouterr().out
    assert "1 image in" in line and "starter" in line and "breast1_z008.png (45x120)" in line


def test_a_folder_without_images_says_so_and_fails(qtbot, tmp_path: Path, capsys) -> None:
    (tmp_path / "notes.txt").write_text("no images here")
    assert entry.main(["--self-test", str(tmp_path)]) == 3
    err = capsys.readouterr().err
    assert "self-test FAILED" in err and "no images" in err and "PNG" in err
    assert "NIfTI" in err  # volumes too: a folder of .nii.gz files is a workspace


def test_a_missing_folder_says_so_and_fails(qtbot, tmp_path: Path, capsys) -> None:
    assert entry.main(["--self-test", str(tmp_path / "absent")]) == 2
    assert "is not a folder" in capsys.readouterr().err


def _truncated_png(source: Path, target: Path) -> None:
    """A PNG whose header is sound but whose pixels are cut off (a broken copy)."""
    target.write_bytes(source.read_bytes()[:300])


def test_a_damaged_first_image_is_skipped_for_the_next_one(qtbot, tmp_path: Path,
                                                          capsys) -> None:
    demo = resource_path(DEMO_IMAGES) / "breast1_z008.png"
    _truncated_png(demo, tmp_path / "a_damaged.png")  # first by name
    shutil.copy(demo, tmp_path / "b_good.png")
    assert entry.main(["--self-test", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "predicted b_good.png (45x120)" in out
    assert "1 image and 1 unreadable file in" in out


def test_a_broken_file_is_counted_apart_from_the_readable_images(
        qtbot, image_folder: Path, tiny_checkpoint: Path, capsys) -> None:
    (image_folder / "images" / "zz_broken.png").write_bytes(b"not a png at all")
    assert entry.main(["--self-test", str(image_folder)]) == 0
    assert "5 images and 1 unreadable file in" in capsys.readouterr().out


def test_a_folder_of_damaged_images_says_so_and_fails(qtbot, tmp_path: Path, capsys) -> None:
    _truncated_png(resource_path(DEMO_IMAGES) / "breast1_z008.png", tmp_path / "damaged.png")
    assert entry.main(["--self-test", str(tmp_path)]) == 3
    err = capsys.readouterr().err
    assert "self-test FAILED" in err and "none readable" in err and "damaged.png" in err
