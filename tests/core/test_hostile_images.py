"""Hostile or broken images are bounded and named on every reader path, never decoded."""

from __future__ import annotations

import cv2
import numpy as np
import pydicom
import pytest
import torch
from pydicom.data import get_testdata_file

from qtseg_core import io
from qtseg_core.checkpoint import save_model
from qtseg_core.data.samples import DatasetError, Sample
from qtseg_core.inference import Predictor
from qtseg_core.io import ImageReadError, read_image
from qtseg_core.models import build_model
from qtseg_core.predict import predict_files
from qtseg_core.training.evaluation import evaluate
from qtseg_core.training.loop import NonFiniteLossError, StepSettings, train_one_epoch
from qtseg_core.training.losses import SegmentationLoss
from qtseg_core.training.reporting import StepMeter
from qtseg_core.workspace import Workspace
from tests.core.test_training_fixtures import TINY_MODEL
from tests.core.workspace_helpers import write_huge_png_header


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return build_model("qtseg", **TINY_MODEL)


@pytest.fixture
def never_decoded(monkeypatch):
    """Fails the test if any pixel data is decoded."""
    def decode(path, data):
        raise AssertionError(f"{path} was decoded")
    monkeypatch.setattr(io, "_decode_raster", decode)


def test_a_decompression_bomb_is_refused_on_its_header_by_the_default_limit(
        tmp_path, never_decoded):
    bomb = write_huge_png_header(tmp_path / "bomb.png", 20000, 20000)
    with pytest.raises(ImageReadError, match=r"bomb.png.*20000x20000 = 400 megapixels"):
        read_image(bomb)


def test_one_configurable_limit_for_predict_eval_and_the_workspace(
        model, tmp_path, monkeypatch, never_decoded):
    monkeypatch.setenv("QTSEG_MAX_PIXELS", "1000")
    folder = tmp_path / "images"
    folder.mkdir()
    cv2.imwrite(str(folder / "big.png"), np.zeros((40, 40), np.uint8))  # 1600 px
    cv2.imwrite(str(tmp_path / "mask.png"), np.zeros((40, 40), np.uint8))

    report = predict_files(model, [folder], tmp_path / "out", device="cpu")
    assert "too large" in report.skipped[str(folder / "big.png")] and not report.written

    checkpoint = tmp_path / "m.safetensors"
    save_model(model, checkpoint, input_size=64)
    with pytest.raises(DatasetError, match="None of the 1 images"):
        evaluate(checkpoint, [Sample("big", folder / "big.png", (tmp_path / "mask.png",))],
                 device="cpu")

    with Workspace.open(folder) as ws:
        (image,) = ws.images()
        assert "too large" in image.read_error and "QTSEG_MAX_PIXELS" in image.read_error
        with pytest.raises(ImageReadError, match="too large"):
            ws.read_image(image.id)


def test_a_bad_limit_value_is_named():
    import os
    os.environ["QTSEG_MAX_PIXELS"] = "lots"
    try:
        with pytest.raises(ValueError, match="QTSEG_MAX_PIXELS='lots'"):
            io.max_pixels()
    finally:
        del os.environ["QTSEG_MAX_PIXELS"]


def test_one_nan_pixel_in_a_float_tiff_is_refused_not_predicted_blank(model, tmp_path):
    image = np.random.default_rng(0).random((32, 32)).astype(np.float32)
    image[5, 7] = np.nan
    cv2.imwrite(str(tmp_path / "nan.tif"), image)
    with pytest.raises(ImageReadError, match="nan.tif.*1 of 1024 pixel values are NaN"):
        read_image(tmp_path / "nan.tif")
    with pytest.raises(ValueError, match="NaN or infinite"):
        Predictor(model, device="cpu", size=64).predict(image)


def _dicom_with(tmp_path, name: str, slope: str):
    """CT_small.dcm with its RescaleSlope bytes replaced (pydicom refuses to set a bad one)."""
    dataset = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
    dataset.RescaleSlope = "9.99"
    path = tmp_path / name
    dataset.save_as(path)
    data = path.read_bytes()
    assert data.count(b"9.99") == 1
    path.write_bytes(data.replace(b"9.99", slope.ljust(4).encode()))
    return path


@pytest.mark.filterwarnings("ignore::UserWarning")  # pydicom warns about the bad DS value
@pytest.mark.parametrize("slope", ["abc", "NaN"])
def test_a_bad_dicom_slope_is_named_and_skipped_in_a_folder_run(model, tmp_path, slope):
    folder = tmp_path / "slices"
    folder.mkdir()
    bad = _dicom_with(folder, "bad.dcm", slope)
    cv2.imwrite(str(folder / "good.png"), np.full((30, 30), 90, np.uint8))
    with pytest.raises(ImageReadError, match=f"bad.dcm.*RescaleSlope is '?{slope}"):
        read_image(bad)
    report = predict_files(model, [folder], tmp_path / "out", device="cpu")
    assert list(report.written) == [str(folder / "good.png")]
    assert "RescaleSlope" in report.skipped[str(bad)]


def test_training_stops_on_a_non_finite_loss_before_the_weights_are_spoilt(model):
    import copy

    trained = copy.deepcopy(model)
    before = {k: v.clone() for k, v in trained.state_dict().items()}
    images = torch.zeros(2, 3, 64, 64)
    images[0, 0, 3, 3] = float("nan")
    batch = {"image": images, "mask": torch.zeros(2, 64, 64, dtype=torch.long)}
    meter = StepMeter(epoch=0, epochs=1, steps=1, every=1, stream=None)
    with pytest.raises(NonFiniteLossError, match="loss became nan"):
        train_one_epoch(trained, [batch], loss_fn=SegmentationLoss(),
                        optimizer=torch.optim.SGD(trained.parameters(), lr=0.1), scaler=None,
                        settings=StepSettings(torch.device("cpu")), meter=meter)
    after = trained.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before if before[k].is_floating_point()
               and "running" not in k)
