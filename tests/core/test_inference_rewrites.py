"""The inference-only rewrites of the decoder compute what the modules they replace compute."""

from __future__ import annotations

import copy

import pytest
import torch

from qtseg_core.models.attention import Attention, DualMixAttention
from qtseg_core.models.decoder import DecoderStage
from qtseg_core.models.pixel_blocks import DotProductMaskHead, PixelBlockMaskHead
from qtseg_core.models.token_side_attention import (
    ImageAttendsToTokens,
    TokensAttendToImage,
    TokenSideDualMix,
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

@pytest.mark.parametrize("steps, grid, output", [(2, (5, 7), (45, 61)), (1, (4, 3), (8, 6))])
def test_the_pixel_block_head_matches_upsampling_then_the_dot_product(steps, grid, output):
    torch.manual_seed(2)
    stage = DecoderStage(dim=16, out_dim=16, depth=1, num_classes=3, num_heads=2, mlp_dim=8,
                         upsample_steps=steps).eval()
    with torch.no_grad():
        for parameter in stage.upsample.parameters():
            parameter.add_(torch.randn_like(parameter) * 0.3)  # LayerNorm away from 1, 0
    tokens, features = torch.randn(2, 3, 16), torch.randn(2, 16, *grid)
    with torch.no_grad():
        expected = DotProductMaskHead()(tokens, stage.upsample(features), output)
        got = PixelBlockMaskHead(copy.deepcopy(stage.upsample))(tokens, features, output)
    assert got.shape == expected.shape == (2, 3, *output)
    assert torch.allclose(got, expected, atol=1e-5)
    assert torch.equal(got.argmax(1), expected.argmax(1))


def test_the_pixel_block_head_refuses_an_upsampling_it_cannot_split_into_blocks():
    overlapping = torch.nn.Sequential(torch.nn.ConvTranspose2d(8, 8, 3, 2), torch.nn.Identity(),
                                      torch.nn.GELU())
    with pytest.raises(ValueError, match="kernel = stride"):
        PixelBlockMaskHead(overlapping)
