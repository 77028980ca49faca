"""qtseg predict never writes a mask over one of its input images."""

from __future__ import annotations

import cv2
import numpy as np

from qtseg_core.cli import main
from qtseg_core.predict import find_inputs
from tests.core.test_training_fixtures import disc_pair, tiny_checkpoint  # noqa: F401


def _images(folder, *names):
    folder.mkdir(exist_ok=True)
    for name in names:
        cv2.imwrite(str(folder / name), disc_pair(1, (37, 53))[0])
    return {name: (folder / name).read_bytes() for name in names}


def test_output_folder_equal_to_the_input_folder_is_refused_when_masks_would_replace_images(
        checkpoint, tmp_path, capsys):
    folder = tmp_path / "images"
    before = _images(folder, "a.png", "b.png")

    code = main(["predict", str(checkpoint), str(folder), "-o", str(folder), "--device", "cpu"])

    assert code == 2
    assert "would overwrite 2 input image(s)" in capsys.readouterr().err
    assert {name: (folder / name).read_bytes() for name in before} == before
    assert sorted(p.name for p in folder.iterdir()) == ["a.png", "b.png"]


def test_an_overlay_name_that_is_an_input_is_refused_too(checkpoint, tmp_path, capsys):
    folder = tmp_path / "images"
    before = _images(folder, "a.jpg", "a_overlay.png")

    code = main(["predict", str(checkpoint), str(folder), "-o", str(folder), "--overlay",
                 "--device", "cpu"])

    assert code == 2 and "a_overlay.png" in capsys.readouterr().err
    assert (folder / "a_overlay.png").read_bytes() == before["a_overlay.png"]


def test_outputs_that_cannot_collide_are_allowed_in_or_under_the_input_folder(
        checkpoint, tmp_path):
    folder = tmp_path / "images"
    before = _images(folder, "a.jpg")

    assert main(["predict", str(checkpoint), str(folder), "-o", str(folder), "--device",
                 "cpu"]) == 0
    assert main(["predict", str(checkpoint), str(folder), "-o", str(folder / "masks"),
                 "--device", "cpu"]) == 0
    assert (folder / "a.jpg").read_bytes() == before["a.jpg"]
    assert set(np.unique(cv2.imread(str(folder / "masks" / "a.png"), 0))) <= {0, 255}


def test_an_output_that_is_an_existing_file_gets_a_message(checkpoint, tmp_path, capsys):
    _images(tmp_path / "images", "a.png")
    taken = tmp_path / "out.txt"
    taken.write_text("mine")

    code = main(["predict", str(checkpoint), str(tmp_path / "images"), "-o", str(taken)])

    assert code == 2 and "is an existing file" in capsys.readouterr().err
    assert taken.read_text() == "mine"


def test_names_are_planned_for_every_input_so_clashes_get_a_suffix(tmp_path):
    _images(tmp_path / "x", "a.png")
    _images(tmp_path / "y", "a.jpg")
    _images(tmp_path, "a_2.png")
    files = [tmp_path / "x" / "a.png", tmp_path / "y" / "a.jpg", tmp_path / "a_2.png"]
    # the second "a" does not take "a_2": another input has that name by itself
    assert [item.name for item in find_inputs(files)] == ["a", "a_3", "a_2"]
