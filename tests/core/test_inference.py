"""Predictor: any image in, mask / probabilities / uncertainty at the original size out."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch

from qtseg_core.checkpoint import save_model
from qtseg_core.inference import Prediction, Predictor, class_argmax, predictor_for
from qtseg_core.models import build_model
from tests.core.test_training_fixtures import TINY_MODEL, disc_pair, one_torch_thread  # noqa: F401


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return build_model("qtseg", **TINY_MODEL)


@pytest.mark.parametrize(
    "image",
    [
        np.zeros((50, 70), np.uint8),
        np.full((33, 20, 3), 200, np.uint8),
        np.arange(40 * 90, dtype=np.uint16).reshape(40, 90),
        np.random.default_rng(0).normal(0, 300, (64, 64)).astype(np.int16),
        np.zeros((30, 30, 4), np.uint8),
    ],
    ids=["grey-u8", "rgb", "u16", "ct-i16", "rgba"],
)
def test_outputs_are_at_the_original_size(model, image):
    prediction = Predictor(model, device="cpu", size=64).predict(image)
    height, width = image.shape[:2]
    assert prediction.mask.shape == (height, width) and prediction.mask.dtype == np.uint8
    assert prediction.probabilities.shape == (2, height, width)
    assert prediction.probabilities.dtype == np.float32
    np.testing.assert_allclose(prediction.probabilities.sum(0), 1.0, atol=1e-4)
    assert prediction.uncertainty.shape == (height, width)
    assert 0.0 <= prediction.uncertainty.min() <= prediction.uncertainty.max() <= 1.0
    assert 0.0 <= prediction.uncertainty_score <= 1.0


def test_batch_gives_the_same_answers_as_one_by_one(model):
    images = [disc_pair(seed, shape)[0] for seed, shape in ((1, (48, 64)), (2, (70, 40)))]
    predictor = Predictor(model, device="cpu", size=64)
    batched = predictor.predict_batch(images, batch_size=2)
    for image, prediction in zip(images, batched, strict=True):
        single = predictor.predict(image)
        np.testing.assert_allclose(single.probabilities, prediction.probabilities, atol=1e-5)


def test_mask_at_threshold_and_errors_for_people(model):
    probabilities = np.stack([np.full((4, 4), 0.7), np.full((4, 4), 0.3)]).astype(np.float32)
    prediction = Prediction(probabilities.argmax(0).astype(np.uint8), probabilities)
    assert prediction.mask_at(0.25).all() and not prediction.mask_at(0.5).any()
    with pytest.raises(ValueError, match="between 0 and 1"):
        prediction.mask_at(2)
    predictor = Predictor(model, device="cpu", size=64)
    with pytest.raises(ValueError, match=r"\(H, W\)"):
        predictor.predict(np.zeros((2, 3, 4, 5)))
    with pytest.raises(ValueError, match="multiple of 32"):
        Predictor(model, size=100)


def test_size_and_device_defaults(model, tmp_path):
    save_model(model, tmp_path / "m.safetensors", input_size=96)
    predictor = predictor_for(tmp_path / "m.safetensors")
    assert predictor.size == 96
    assert predictor.device.type == ("cuda" if torch.cuda.is_available() else "cpu")
    assert Predictor(build_model("qtseg", **TINY_MODEL)).size == 512


def test_the_callers_model_is_left_training(model):
    model.train()
    Predictor(model, device="cpu", size=64)
    assert model.training


def test_predicts_from_a_worker_thread(model):
    predictor = Predictor(model, device="cpu", size=64)
    results = []
    worker = threading.Thread(target=lambda: results.append(predictor.predict(disc_pair(3)[0])))
    worker.start()
    worker.join()
    assert results[0].mask.shape == (48, 64)


@pytest.mark.parametrize("classes", [1, 2, 3, 5])
def test_the_mask_is_numpys_argmax_ties_going_to_the_first_class(classes):
    rng = np.random.default_rng(classes)
    probabilities = rng.integers(0, 4, (classes, 37, 53)).astype(np.float32)  # many ties
    mask = class_argmax(probabilities)
    assert mask.dtype == np.uint8
    assert np.array_equal(mask, probabilities.argmax(axis=0))
