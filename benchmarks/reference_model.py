"""The authors' QTSeg (v0.3.1 source, never committed here) as a timing reference.

``--reference PATH`` of ``model_speed.py`` names a folder holding the authors'
``networks/`` and ``configs/`` (their repository's ``src/``). Their model is
built from their own code with random weights and random, non-trivial
BatchNorm statistics (and a non-zero channel-attention gamma, which their
initialisation leaves at 0), saved as their checkpoint layout
(``state_dict_model``) and converted by ``qtseg import-checkpoint``'s
function, so both sides compute the same network.

Their model code imports only torch, numpy and the standard library (their
losses need torchvision, but the benchmark never imports ``networks.losses``),
so no shim is needed.
"""

from __future__ import annotations

import importlib
import sys
import tempfile
from pathlib import Path

import torch
from torch import nn

from qtseg_core.checkpoint import load_model
from qtseg_core.official_checkpoint import import_checkpoint


class AuthorsLogits(nn.Module):
    """The authors' network returning only the full-size logits (theirs returns a pair)."""

    def __init__(self, network: nn.Module) -> None:
        super().__init__()
        self.network = network

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.network(images)[0]


def build_reference(folder: str | Path, num_classes: int = 2, seed: int = 0) -> nn.Module:
    """The authors' QTSeg from ``folder`` (holding ``networks/``, ``configs/``), random weights."""
    folder = Path(folder).resolve()
    if not (folder / "networks").is_dir() or not (folder / "configs").is_dir():
        raise SystemExit(f"--reference {folder} must hold the authors' networks/ and configs/ "
                         "folders (their repository's src/).")
    sys.path.insert(0, str(folder))
    config = importlib.import_module("configs.base").Config(
        encoder_pretrained="", decoder_pretrained="", num_classes=num_classes)
    torch.manual_seed(seed)
    network = importlib.import_module("networks.models").QTSeg(config)
    randomise_statistics(network)
    return AuthorsLogits(network.eval()).eval()


@torch.no_grad()
def randomise_statistics(network: nn.Module) -> None:
    """BatchNorm running statistics and affine terms away from their defaults; CAB gamma != 0."""
    for module in network.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.running_mean.normal_(0.0, 0.2)
            module.running_var.uniform_(0.5, 2.0)
            module.weight.uniform_(0.6, 1.4)
            module.bias.normal_(0.0, 0.2)
    for name, parameter in network.named_parameters():
        if name.endswith("channel_attention.gamma"):
            parameter.fill_(0.1)


def converted_copy(reference: AuthorsLogits) -> nn.Module:
    """Our model holding ``reference``'s weights, through ``import_checkpoint``."""
    with tempfile.TemporaryDirectory(prefix="qtseg-reference-") as tmp:
        source, target = Path(tmp) / "authors.pt", Path(tmp) / "model.safetensors"
        torch.save({"state_dict_model": reference.network.state_dict()}, source)
        import_checkpoint(source, target)
        return load_model(target).eval()
