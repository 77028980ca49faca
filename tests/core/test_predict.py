"""qtseg predict at scale: names, manifest, skip-existing, parts, lists, progress, devices."""

from __future__ import annotations

import csv
import io

import cv2
import numpy as np
import pytest
import torch

from qtseg_core.cli import main
from qtseg_core.device import pick_device
from qtseg_core.inference import predictor_for
from qtseg_core.io import read_image
from qtseg_core.predict import (
    MANIFEST_FILE,
    PngMaskWriter,
    find_inputs,
    predict_files,
    run_pipeline,
    select_part,
    unique_names,
)
from qtseg_core.predict.inputs import process_share
from qtseg_core.predict.progress import Progress
from tests.core.test_training_fixtures import (  # noqa: F401
    disc_pair,
    one_torch_thread,
    tiny_checkpoint,
)


def write_images(folder, names, shape=(37, 53)):
    folder.mkdir(parents=True, exist_ok=True)
    for seed, name in enumerate(names):
        cv2.imwrite(str(folder / name), disc_pair(seed, shape)[0])
    return folder


def test_masks_at_size_extras_and_unreadable_files_reported(checkpoint, tmp_path):
    folder = write_images(tmp_path / "in", ["a.png"])
    (folder / "broken.png").write_bytes(b"nope")
    report = predict_files(
        checkpoint, [folder], tmp_path / "out", probabilities=True, overlay=True,
        uncertainty=True, device="cpu",
    )
    assert list(report.skipped) == [str(folder / "broken.png")]
    mask = read_image(report.written[str(folder / "a.png")])
    assert mask.shape == (37, 53) and set(np.unique(mask)) <= {0, 255}
    assert read_image(tmp_path / "out" / "a_overlay.png").shape == (37, 53, 3)
    assert read_image(tmp_path / "out" / "a_probability.png").shape == (37, 53)
    floats = np.load(tmp_path / "out" / "a_probabilities.npz")["probabilities"]
    assert floats.shape == (2, 37, 53) and floats.dtype == np.float32
    assert np.allclose(floats.sum(axis=0), 1.0, atol=1e-4)
    assert np.array_equal(floats.argmax(axis=0) * 255, mask)  # the maps behind the mask
    assert read_image(tmp_path / "out" / "a_uncertainty.png").shape == (37, 53)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(FileNotFoundError, match="holds no images"):
        predict_files(checkpoint, [empty], tmp_path / "out2")


class BrightnessModel:
    """A Predictor whose foreground probability is each canvas pixel's brightness: unlike a
    random network's, its output depends on the image, so a prediction given to the wrong
    image shows."""

    def __init__(self, predictor):
        self.prepare = predictor.prepare

    def canvas_probabilities(self, canvases):
        foreground = (canvases[:, :1] + 1) / 2  # B x 1 x size x size
        return np.concatenate([1 - foreground, foreground], axis=1)

    def alone(self, image):
        canvases, letterboxes = self.prepare([image])
        return letterboxes[0].restore(self.canvas_probabilities(canvases)[0])


def test_batches_with_an_unreadable_file_give_each_image_its_own_prediction(checkpoint, tmp_path):
    """Workers read and write whole batches: a file that cannot be read mid-batch shifts
    nothing, each image's saved probabilities are those of predicting it alone."""
    folder = tmp_path / "in"
    folder.mkdir()
    for index in range(7):  # sizes differ too, so a mismatched letterbox would show
        cv2.imwrite(str(folder / f"{index}.png"), disc_pair(index, (30 + 3 * index, 41 + index))[0])
    (folder / "0b.png").write_bytes(b"nope")  # second of the first batch of 4
    model = BrightnessModel(predictor_for(checkpoint, device="cpu"))
    writer = PngMaskWriter(tmp_path / "out", [(0, 0, 0), (255, 0, 0)], probabilities=True)
    result = run_pipeline(find_inputs([folder]), model, writer, batch_size=4, workers=2)
    assert list(result.skipped) == [str(folder / "0b.png")]
    assert sorted(result.written) == sorted(str(folder / f"{i}.png") for i in range(7))
    for index in range(7):
        saved = np.load(tmp_path / "out" / f"{index}_probabilities.npz")["probabilities"]
        np.testing.assert_allclose(saved, model.alone(read_image(folder / f"{index}.png")))


def test_a_run_keeps_one_batch_shape_and_a_run_of_one_short_batch_is_not_filled_up(
    checkpoint, tmp_path,
):
    """A runtime compiled per input shape (OpenVINO) compiles once per run: the short last
    batch is filled up to the run's batch size; a run smaller than one batch runs as is."""
    model = BrightnessModel(predictor_for(checkpoint, device="cpu"))
    shapes = []
    run_model = model.canvas_probabilities
    model.canvas_probabilities = lambda canvases: shapes.append(len(canvases)) or run_model(
        canvases)
    writer = PngMaskWriter(tmp_path / "out", [(0, 0, 0), (255, 0, 0)], probabilities=True)
    ten = write_images(tmp_path / "ten", [f"{i}.png" for i in range(10)])
    result = run_pipeline(find_inputs([ten]), model, writer, batch_size=4, workers=2)
    assert shapes == [4, 4, 4] and len(result.written) == 10
    for index in range(10):  # the blank canvases changed no image's prediction
        saved = np.load(tmp_path / "out" / f"{index}_probabilities.npz")["probabilities"]
        np.testing.assert_allclose(saved, model.alone(read_image(ten / f"{index}.png")))
    shapes.clear()
    three = write_images(tmp_path / "three", ["a.png", "b.png", "c.png"])
    run_pipeline(find_inputs([three]), model, writer, batch_size=8, workers=2)
    assert shapes == [3]


def test_colliding_names_are_numbered_in_input_order_and_never_take_a_real_name():
    assert unique_names(["a", "b", "a", "a_2", "A", "a"]) == ["a", "b", "a_3", "a_2", "A_4", "a_5"]
    many = unique_names(["scan"] * 50_000)  # O(n): the old quadratic rule needed minutes here
    assert many[:3] == ["scan", "scan_2", "scan_3"] and len(set(many)) == 50_000


def test_manifest_maps_every_input_to_its_mask_when_names_collide(checkpoint, tmp_path):
    first = write_images(tmp_path / "site1", ["case.png", "other.png"])
    second = write_images(tmp_path / "site2", ["case.png"])
    out = tmp_path / "out"
    report = predict_files(checkpoint, [first, second], out, device="cpu", progress=False)
    with open(out / MANIFEST_FILE, newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert report.manifest == out / MANIFEST_FILE
    assert {row["input"]: row["output"] for row in rows} == {
        str(first / "case.png"): str(out / "case.png"),
        str(first / "other.png"): str(out / "other.png"),
        str(second / "case.png"): str(out / "case_2.png"),
    }
    assert (out / "case_2.png").is_file()
    alone = predict_files(checkpoint, [first], tmp_path / "out2", device="cpu", progress=False)
    assert alone.manifest is None and not (tmp_path / "out2" / MANIFEST_FILE).exists()


def test_skip_existing_predicts_only_what_is_missing(checkpoint, tmp_path):
    folder = write_images(tmp_path / "in", [f"{i}.png" for i in range(4)])
    out = tmp_path / "out"
    predict_files(checkpoint, [folder], out, overlay=True, device="cpu", progress=False)
    (out / "2.png").unlink()
    (out / "3_overlay.png").unlink()
    (out / "0.png").write_bytes(b"kept")
    again = predict_files(
        checkpoint, [folder], out, overlay=True, skip_existing=True, device="cpu", progress=False,
    )
    assert sorted(again.written) == [str(folder / "2.png"), str(folder / "3.png")]
    assert sorted(again.existing) == [str(folder / "0.png"), str(folder / "1.png")]
    assert (out / "0.png").read_bytes() == b"kept" and (out / "3_overlay.png").is_file()


def test_parts_are_disjoint_and_together_cover_every_image(checkpoint, tmp_path):
    folder = write_images(tmp_path / "in", [f"{i:02d}.png" for i in range(7)])
    reports = [
        predict_files(checkpoint, [folder], tmp_path / "out", num_parts=2, part_id=k,
                      device="cpu", progress=False)
        for k in (0, 1)
    ]
    parts = [set(report.written) for report in reports]
    assert not parts[0] & parts[1]
    assert parts[0] | parts[1] == {str(p) for p in folder.iterdir()}
    assert len(list((tmp_path / "out").glob("*.png"))) == 7
    with pytest.raises(ValueError, match="--part-id 2"):
        select_part([], 2, 2)


def test_torchrun_ranks_share_a_part(tmp_path, monkeypatch):
    folder = write_images(tmp_path / "in", [f"{i}.png" for i in range(8)])
    items = find_inputs([folder])
    monkeypatch.setenv("WORLD_SIZE", "2")
    shares = []
    for rank in (0, 1):
        monkeypatch.setenv("RANK", str(rank))
        shares.append({i.name for i in process_share(items, 2, 1)})
    assert shares == [{"1", "5"}, {"3", "7"}]


def test_recursive_folders_keep_their_paths_and_lists_name_files(checkpoint, tmp_path):
    root = tmp_path / "in"
    write_images(root / "case1", ["s1.png", "s2.png"])
    write_images(root / "case2", ["s1.png"])
    write_images(root / ".hidden", ["x.png"])
    with pytest.raises(FileNotFoundError, match="--recursive"):
        find_inputs([root])
    assert [i.name for i in find_inputs([root], recursive=True)] == [
        "case1/s1", "case1/s2", "case2/s1"
    ]
    nested = predict_files(checkpoint, [root], tmp_path / "tree", recursive=True, progress=False)
    assert nested.written[str(root / "case2/s1.png")] == tmp_path / "tree" / "case2" / "s1.png"
    listing = tmp_path / "list.txt"
    listing.write_text(f"# first slices\nin/case1/s1.png\n\n{root / 'case2' / 's1.png'}\n")
    report = predict_files(checkpoint, [listing], tmp_path / "out", device="cpu", progress=False)
    assert report.written == {
        str(root / "case1/s1.png"): tmp_path / "out" / "s1.png",
        str(root / "case2/s1.png"): tmp_path / "out" / "s1_2.png",
    }
    assert report.manifest is not None


def test_cli_prints_summary_and_resumes(checkpoint, tmp_path, capsys):
    folder = write_images(tmp_path / "in", ["a.png", "b.png"])
    out = tmp_path / "out"
    assert main(["predict", str(checkpoint), str(folder), "-o", str(out), "--device", "cpu"]) == 0
    assert "wrote 2 mask(s)" in capsys.readouterr().out
    assert main(["predict", str(checkpoint), str(folder), "-o", str(out), "--skip-existing"]) == 0
    assert "left 2 finished input(s)" in capsys.readouterr().out


def test_progress_is_a_bar_on_a_terminal_and_plain_lines_in_a_log():
    bar, log = io.StringIO(), io.StringIO()
    for stream, interactive in ((bar, True), (log, False)):
        progress = Progress(3, stream, interactive=interactive)
        for _ in range(3):
            progress.advance()
        progress.close()
    assert bar.getvalue().startswith("\rpredict [") and "3/3 images" in bar.getvalue()
    assert "img/s, ETA 0:00:00" in bar.getvalue()
    assert log.getvalue().splitlines()[-1].startswith("predict: 3/3 images")
    assert "\r" not in log.getvalue()


def test_each_rank_takes_the_gpu_of_its_local_rank(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 4)
    monkeypatch.setenv("LOCAL_RANK", "2")
    assert pick_device("cuda") == torch.device("cuda", 2)
    assert pick_device(None) == torch.device("cuda", 2)
    assert pick_device("cuda:1") == torch.device("cuda", 1)
    assert pick_device("cpu") == torch.device("cpu")
    monkeypatch.setenv("LOCAL_RANK", "5")
    with pytest.raises(RuntimeError, match="LOCAL_RANK=5 but this node has 4 GPU"):
        pick_device("cuda")
