"""The network: shapes, the paper's figures, gradients, train/eval and input errors."""

from __future__ import annotations

import pytest
import torch

from qtseg_core import ModelConfig, build_model
from qtseg_core.model_info import describe
from qtseg_core.models import MODEL_REGISTRY, crop_to, pad_to_multiple

TINY = dict(base_width=8, decoder_depths=(1, 1, 1), num_heads=4, mlp_dim=64)


@pytest.mark.parametrize(
    ("overrides", "input_shape", "expected"),
    [
        ({}, (1, 3, 64, 64), (1, 2, 64, 64)),
        ({}, (2, 3, 96, 160), (2, 2, 96, 160)),
        ({"num_classes": 4}, (1, 3, 128, 96), (1, 4, 128, 96)),
        ({"in_channels": 1}, (3, 1, 64, 128), (3, 2, 64, 128)),
        ({"num_classes": 3, "in_channels": 1, "decoder_depths": (2, 1, 1)}, (1, 1, 32, 64),
         (1, 3, 32, 64)),
    ],
)
def test_output_shapes(overrides, input_shape, expected):
    model = build_model("qtseg", **{**TINY, **overrides}).eval()
    with torch.no_grad():
        assert model(torch.randn(input_shape)).shape == expected


@pytest.mark.parametrize("name", sorted(MODEL_REGISTRY))
def test_every_registered_model_runs(name):
    model = build_model(name).eval()
    with torch.no_grad():
        assert model(torch.randn(1, 3, 64, 64)).shape == (1, 2, 64, 64)


def test_paper_model_has_published_parameter_count_and_flops():
    model = build_model("qtseg")
    info = describe(model, size=512)
    assert info.parameters == 9_214_850
    assert info.parameters_by_part == {"encoder": 2_259_536, "mlfd": 279_424, "decoder": 6_675_890}
    assert len(model.state_dict()) == 614
    assert abs(info.flops - 5_118_094_336) / 5_118_094_336 < 0.01
    assert info.output_shape == (1, 2, 512, 512)


def test_gradients_reach_every_parameter():
    model = build_model("qtseg", **TINY).train()
    with torch.no_grad():  # gamma starts at 0; open the channel branch so its path is used
        for module in model.modules():
            if hasattr(module, "gamma"):
                module.gamma.fill_(0.5)
    model(torch.randn(2, 3, 64, 64)).logsumexp(1).mean().backward()
    dead = [n for n, p in model.named_parameters() if p.grad is None or not p.grad.any()]
    assert dead == []


def test_train_mode_updates_batchnorm_and_eval_is_deterministic():
    model = build_model("qtseg", **TINY)
    images = torch.randn(2, 3, 64, 64)
    before = model.encoder.stem.norm.running_mean.clone()
    model.train()(images)
    assert not torch.equal(before, model.encoder.stem.norm.running_mean)
    model.eval()
    with torch.no_grad():
        first, second = model(images), model(images)
    assert torch.equal(first, second)
    assert not torch.allclose(first, model.train()(images))


def test_wrong_channel_count_is_explained():
    model = build_model("qtseg", **TINY)
    with pytest.raises(ValueError, match=r"\(B, 3, H, W\).*\(1, 1, 64, 64\)"):
        model(torch.randn(1, 1, 64, 64))


def test_size_not_multiple_of_32_names_the_size_to_pad_to():
    model = build_model("qtseg", **TINY)
    with pytest.raises(ValueError, match="pad it to 96x64"):
        model(torch.randn(1, 3, 70, 50))


def test_pad_then_crop_gives_original_size_logits():
    model = build_model("qtseg", **TINY).eval()
    images = torch.randn(1, 3, 70, 50)
    padded, size = pad_to_multiple(images)
    assert padded.shape[-2:] == (96, 64)
    assert torch.equal(padded[..., :70, :50], images)
    with torch.no_grad():
        assert crop_to(model(padded), size).shape == (1, 2, 70, 50)


@pytest.mark.parametrize(
    "bad", [{"num_classes": 1}, {"in_channels": 4}, {"decoder_depths": (1, 2)},
            {"base_width": 6}],
)
def test_bad_configs_are_refused_with_a_reason(bad):
    with pytest.raises(ValueError, match=next(iter(bad))):
        ModelConfig(**bad)


def test_unknown_model_name_lists_the_known_ones():
    with pytest.raises(ValueError, match="qtseg-tiny"):
        build_model("unet")


def test_positional_encoding_is_computed_once_per_grid_and_follows_its_weights():
    model = build_model("qtseg", **TINY).eval()
    encoding = model.decoder.stages[0].positional_encoding
    first = encoding(8, 8)
    assert encoding(8, 8) is first  # cached
    state = model.state_dict()
    key = "decoder.stages.0.positional_encoding.gaussian_matrix"
    state[key] = torch.randn_like(state[key])
    model.load_state_dict(state)
    assert not torch.equal(encoding(8, 8), first)
