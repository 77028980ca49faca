"""The click-conditioned QTSeg: zero-initialised click inputs give the automatic model's logits."""

from __future__ import annotations

import pytest
import torch

from qtseg_core import build_model, load_model, save_model
from qtseg_core.checkpoint import read_metadata
from qtseg_core.models import add_click_inputs, prepare_for_inference


@pytest.fixture(scope="module")
def automatic():
    torch.manual_seed(0)
    return build_model("qtseg-tiny").eval()


def test_with_no_clicks_the_click_model_computes_exactly_the_automatic_logits(automatic):
    clicked = add_click_inputs(automatic).eval()
    images = torch.randn(2, 3, 64, 64)
    clicks = torch.zeros(2, 3, 64, 64)
    clicks[:, 0, 10:30, 10:30] = 1  # a previous mask and clicks, before any click training
    clicks[:, 1, 20, 20] = clicks[:, 2, 50, 50] = 1
    with torch.no_grad():
        expected = automatic(images)
        assert torch.equal(clicked(images), expected)
        assert torch.equal(clicked(images, torch.zeros(2, 3, 64, 64)), expected)
        assert torch.equal(clicked(images, clicks), expected)  # the extra weights start at zero


def test_clicks_change_the_output_once_the_click_weights_are_trained(automatic):
    clicked = add_click_inputs(automatic).eval()
    with torch.no_grad():
        clicked.click_encoder.conv.weight.fill_(0.1)
    images, clicks = torch.randn(1, 3, 64, 64), torch.zeros(1, 3, 64, 64)
    clicks[:, 1, 30:34, 30:34] = 1
    with torch.no_grad():
        assert not torch.equal(clicked(images, clicks), clicked(images))
        assert torch.equal(clicked(images, torch.zeros_like(clicks)), clicked(images))


def test_the_checkpoint_records_click_inputs_and_the_fast_path_keeps_them(automatic, tmp_path):
    clicked = add_click_inputs(automatic)
    with torch.no_grad():
        clicked.click_encoder.conv.weight.normal_()
    save_model(clicked, tmp_path / "m.safetensors", input_size=64)
    assert read_metadata(tmp_path / "m.safetensors").config.click_inputs is True
    loaded = load_model(tmp_path / "m.safetensors")
    images, clicks = torch.randn(1, 3, 64, 64), torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        reference = clicked.eval()(images, clicks)
        assert torch.allclose(loaded(images, clicks), reference, atol=1e-5)
        fast = prepare_for_inference(loaded)
        assert torch.allclose(fast(images, clicks), reference, atol=1e-3)


def test_clicks_for_a_model_without_click_inputs_are_refused(automatic):
    with pytest.raises(ValueError, match="no click inputs"):
        automatic(torch.randn(1, 3, 32, 32), torch.zeros(1, 3, 32, 32))


def test_click_maps_of_the_wrong_size_are_refused_with_the_expected_shape(automatic):
    clicked = add_click_inputs(automatic)
    with pytest.raises(ValueError, match=r"expected \(1, 3, 32, 32\)"):
        clicked(torch.randn(1, 3, 32, 32), torch.zeros(1, 2, 32, 32))
