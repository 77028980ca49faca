"""The decoder's rewrites compute what the modules they replace compute: the token-side
attentions (inference only) and the pixel-block mask head (every model, training included)."""

from __future__ import annotations

import copy

import pytest
import torch
from torch.nn import functional as F

from qtseg_core.models.attention import Attention, DualMixAttention
from qtseg_core.models.decoder import DecoderStage
from qtseg_core.models.pixel_blocks import PixelBlockMaskHead, check_block_upsampling
from qtseg_core.models.token_side_attention import (
    ImageAttendsToTokens,
    TokensAttendToImage,
    TokenSideDualMix,
    channel_mean_as_product,
)


def attention(dim: int = 32, heads: int = 4, seed: int = 0) -> Attention:
    torch.manual_seed(seed)
    module = Attention(dim=dim, num_heads=heads).eval()
    with torch.no_grad():
        for linear in (module.query, module.key, module.value, module.output):
            linear.bias.normal_(0, 0.5)  # PyTorch's default biases are small: make them count
    return module


@pytest.mark.parametrize("batch, tokens, pixels", [(1, 2, 64), (2, 3, 35), (2, 1, 7)])
def test_tokens_attending_to_the_image_match_attention(batch, tokens, pixels):
    reference = attention()
    q, k, v = torch.randn(batch, tokens, 32), torch.randn(batch, pixels, 32), torch.randn(
        batch, pixels, 32)
    with torch.no_grad():
        expected = reference(q, k, v)
        got = TokensAttendToImage(reference)(q, k, v)
    assert got.shape == expected.shape
    assert torch.allclose(got, expected, atol=1e-5)


@pytest.mark.parametrize("batch, tokens, pixels", [(1, 2, 64), (2, 3, 35), (2, 1, 7)])
def test_the_image_attending_to_tokens_matches_attention(batch, tokens, pixels):
    reference = attention(seed=1)
    q, k, v = torch.randn(batch, pixels, 32), torch.randn(batch, tokens, 32), torch.randn(
        batch, tokens, 32)
    with torch.no_grad():
        expected = reference(q, k, v)
        got = ImageAttendsToTokens(reference)(q, k, v)
    assert got.shape == expected.shape
    assert torch.allclose(got, expected, atol=1e-5)



@pytest.mark.parametrize("batch, tokens, grid", [(1, 2, (8, 8)), (2, 3, (5, 7))])
def test_the_dma_block_reading_its_channel_branch_on_the_tokens_side_matches_it(
    batch, tokens, grid
):
    torch.manual_seed(3)
    block = DualMixAttention(dim=32, num_heads=4, mlp_dim=16).eval()
    with torch.no_grad():
        block.channel_attention.gamma.fill_(0.7)  # 0 at initialisation would hide CAB
    t, f, p = torch.randn(batch, tokens, 32), torch.randn(batch, 32, *grid), torch.randn(
        1, 32, *grid)
    with torch.no_grad():
        expected = block(t, f, p)
        got = TokenSideDualMix(copy.deepcopy(block))(t, f, p)
    for a, b in zip(got, expected, strict=True):
        assert a.shape == b.shape
        assert torch.allclose(a, b, atol=1e-5)


def test_sams_channel_mean_as_a_product_is_the_channel_mean():
    x = torch.randn(2, 48, 5, 7) * 3 + 1
    got = channel_mean_as_product(x)
    assert got.shape == (2, 1, 5, 7)
    assert torch.allclose(got, x.mean(1, keepdim=True), atol=1e-6)


def upsampled_then_dot_product(tokens, features, upsample, output):
    """The head as the paper writes it: upsample on the image grid, then tokens . pixels."""
    upsampled = upsample(features)
    b, c, h, w = upsampled.shape
    logits = torch.bmm(tokens, upsampled.reshape(b, c, h * w)).reshape(b, -1, h, w)
    return F.interpolate(logits, size=output, mode="bilinear", align_corners=False)


def block_stage(steps: int) -> DecoderStage:
    torch.manual_seed(2)
    stage = DecoderStage(dim=16, out_dim=16, depth=1, num_classes=3, num_heads=2, mlp_dim=8,
                         upsample_steps=steps)
    with torch.no_grad():
        for parameter in stage.upsample.parameters():
            parameter.add_(torch.randn_like(parameter) * 0.3)  # LayerNorm away from 1, 0
    return stage


@pytest.mark.parametrize("steps, grid, output", [(2, (5, 7), (45, 61)), (1, (4, 3), (8, 6))])
def test_the_pixel_block_head_matches_upsampling_then_the_dot_product(steps, grid, output):
    stage = block_stage(steps).eval()
    tokens, features = torch.randn(2, 3, 16), torch.randn(2, 16, *grid)
    with torch.no_grad():
        expected = upsampled_then_dot_product(tokens, features, stage.upsample, output)
        got = PixelBlockMaskHead()(tokens, features, stage.upsample, output)
    assert got.shape == expected.shape == (2, 3, *output)
    assert torch.allclose(got, expected, atol=1e-5)
    assert torch.equal(got.argmax(1), expected.argmax(1))


def test_training_through_the_pixel_block_head_gets_the_same_gradients():
    stage = block_stage(2).train()
    tokens = torch.randn(2, 3, 16, requires_grad=True)
    features = torch.randn(2, 16, 5, 7, requires_grad=True)
    target = torch.randn(2, 3, 45, 61)
    gradients = []
    for head in (upsampled_then_dot_product, PixelBlockMaskHead()):
        stage.zero_grad()
        tokens.grad = features.grad = None
        ((head(tokens, features, stage.upsample, (45, 61)) - target) ** 2).mean().backward()
        gradients.append([tokens.grad, features.grad] +
                         [p.grad.clone() for p in stage.upsample.parameters()])
    for expected, got in zip(*gradients, strict=True):
        assert torch.allclose(got, expected, rtol=1e-4, atol=1e-6)


def test_the_pixel_block_head_refuses_an_upsampling_it_cannot_split_into_blocks():
    overlapping = torch.nn.Sequential(torch.nn.ConvTranspose2d(8, 8, 3, 2), torch.nn.Identity(),
                                      torch.nn.GELU())
    with pytest.raises(ValueError, match="kernel = stride"):
        check_block_upsampling(overlapping)
