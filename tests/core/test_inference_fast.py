"""The fast inference path computes what the eager model computes."""

from __future__ import annotations

import torch

from qtseg_core import build_model
from qtseg_core.models import prepare_for_inference


def trained_looking_model():
    """Tiny model with non-trivial BatchNorm statistics, as after training."""
    torch.manual_seed(0)
    model = build_model("qtseg", base_width=8, decoder_depths=(1, 1, 1), num_heads=4, mlp_dim=64)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_mean.normal_(0, 0.2)
                module.running_var.uniform_(0.5, 2.0)
                module.weight.normal_(1, 0.2)
                module.bias.normal_(0, 0.2)
    return model.eval()


def test_folded_channels_last_model_gives_the_same_logits_and_leaves_the_original_alone():
    model = trained_looking_model()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    fast = prepare_for_inference(model)
    images = torch.randn(2, 3, 64, 96)
    with torch.inference_mode():
        expected, got = model(images), fast(images)
    assert torch.allclose(expected, got, atol=1e-4)
    assert torch.equal(expected.argmax(1), got.argmax(1))
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in fast.network.modules())
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert model.training is False and any(isinstance(m, torch.nn.BatchNorm2d)
                                           for m in model.modules())


def test_compiled_path_gives_the_same_masks():
    model = trained_looking_model()
    compiled = prepare_for_inference(model, compile=True)
    images = torch.randn(1, 3, 64, 64)
    with torch.inference_mode():
        expected, got = model(images), compiled(images)
    assert torch.allclose(expected, got, atol=1e-4)
    assert torch.equal(expected.argmax(1), got.argmax(1))
