"""Import checkpoints published by the QTSeg authors (their v0.3.1 entry names).

Their files are PyTorch pickles holding either a bare state dict or a dict with
``state_dict_model``. They are read with ``torch.load(weights_only=True)`` only,
so a file cannot run code; every entry is then renamed to ours and checked.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import torch

from qtseg_core.checkpoint_checks import torch_load_weights_only
from qtseg_core.config import ModelConfig
from qtseg_core.models.blocks import ConvTransposeBNAct
from qtseg_core.models.qtseg import QTSeg

_ENCODER_LAYERS = {
    "stem": "conv_0", "down1": "conv_1", "stage1": "c2f_2", "down2": "conv_3",
    "stage2": "c2f_4", "down3": "conv_5", "stage3": "c2f_6", "down4": "conv_7",
    "stage4": "c2f_8", "sppf": "sppf_9", "top_down4": "c2f_12", "top_down3": "c2f_15",
    "bottom_up_down4": "conv_16", "bottom_up4": "c2f_18", "bottom_up_down5": "conv_19",
    "bottom_up5": "c2f_21",
}
# (our pattern, their replacement), applied in order to every entry name.
_RENAMES = [
    (r"^encoder\.(\w+)\.", lambda m: f"image_encoder.{_ENCODER_LAYERS[m[1]]}."),
    (r"\.bottlenecks\.(\d+)\.conv(\d)\.", r".m.\1.cv\2."),
    (r"\.(expand|reduce)\.", ".cv1."),
    (r"\.fuse\.", ".cv2."),
    (r"\.norm\.", ".bn."),
    (r"^mlfd\.levels\.(\d)\.(\d)\.", r"bridge.neck_\1_\2."),
    (r"^decoder\.query_tokens\.", "mask_decoder.mask_tokens."),
    (r"^decoder\.stages\.(\d)\.blocks\.", r"mask_decoder.DMAB_s\1.layers."),
    (r"\.spatial_attention\.conv\.", ".dm_attention.spatial_attention.cv1."),
    (r"\.channel_attention\.", ".dm_attention.channel_attention."),
    (r"\.tokens_to_spatial\.", ".dm_attention.spatial_token_mix_attention."),
    (r"\.tokens_to_channel\.", ".dm_attention.channel_token_mix_attention."),
    (r"\.mix_norm\.", ".dm_attention.token_layernorm."),
    (r"\.token_mlp\.fc(\d)\.", r".token_mlp.lin\1."),
    (r"\.token_norm\.", ".token_layernorm."),
    (r"\.features_to_tokens\.", ".feature_mix."),
    (r"^decoder\.stages\.(\d)\.final_attention\.",
     r"mask_decoder.DMAB_s\1.final_attn_token_to_image."),
    (r"^decoder\.stages\.(\d)\.final_norm\.", r"mask_decoder.DMAB_s\1.norm_final_attn."),
    (r"^decoder\.stages\.(\d)\.positional_encoding\.gaussian_matrix$",
     r"mask_decoder.PE_s\1.positional_encoding_gaussian_matrix"),
    (r"^decoder\.stages\.(\d)\.upsample\.", r"mask_decoder.SUB_s\1."),
    (r"^decoder\.stages\.(\d)\.token_handoff\.(\d+)\.", r"mask_decoder.MLP_s\1.\2."),
    (r"\.query\.", ".q_proj."), (r"\.key\.", ".k_proj."), (r"\.value\.", ".v_proj."),
    (r"\.output\.", ".out_proj."),
]


class CheckpointMismatchError(ValueError):
    """The authors' file does not hold the entries a QTSeg model needs."""


def official_name(model: QTSeg, name: str) -> str:
    """The authors' entry name for our state-dict entry ``name``."""
    official = name
    for pattern, replacement in _RENAMES:
        official = re.sub(pattern, replacement, official)
    module = model.get_submodule(name.rsplit(".", 2)[0])
    if name.startswith("mlfd.") and isinstance(module, ConvTransposeBNAct):
        official = official.replace(".conv.", ".conv_transpose.")
    return official


def read_official_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """Load the authors' file safely and return its state dict."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"Checkpoint {path} does not exist; check the path and file name.")
    content = torch_load_weights_only(path, "the authors' PyTorch checkpoint")
    if isinstance(content, Mapping) and "state_dict_model" in content:
        content = content["state_dict_model"]
    if not isinstance(content, Mapping) or not all(
        isinstance(v, torch.Tensor) for v in content.values()
    ):
        raise ValueError(
            f"{path} holds no state dict (expected a dict of tensors or one under "
            "'state_dict_model')."
        )
    return {k.removeprefix("module."): v for k, v in content.items()}


def infer_config(state: Mapping[str, torch.Tensor]) -> ModelConfig:
    """Read the number of classes and input channels off the authors' entries."""
    try:
        num_classes = state["mask_decoder.mask_tokens.weight"].shape[0]
        in_channels = state["image_encoder.conv_0.conv.weight"].shape[1]
    except KeyError as error:
        raise CheckpointMismatchError(
            f"Entry {error} is missing: this is not a QTSeg v0.3.1 checkpoint."
        ) from error
    return ModelConfig(num_classes=int(num_classes), in_channels=int(in_channels))


def convert_official_state_dict(state: Mapping[str, torch.Tensor]) -> QTSeg:
    """Build our model holding the authors' weights; refuse any mismatch, listing it."""
    model = QTSeg(infer_config(state))
    ours = model.state_dict()
    names = {official_name(model, name): name for name in ours}
    _check_entries(state, names, ours)
    model.load_state_dict({names[k]: v for k, v in state.items()}, strict=True)
    return model.eval()


def _check_entries(
    state: Mapping[str, torch.Tensor], names: dict[str, str], ours: Mapping[str, torch.Tensor]
) -> None:
    missing = sorted(set(names) - set(state))
    unexpected = sorted(set(state) - set(names))
    shapes = [
        f"{k}: file {tuple(state[k].shape)}, model {tuple(ours[names[k]].shape)}"
        for k in sorted(set(names) & set(state))
        if state[k].shape != ours[names[k]].shape
    ]
    problems = [
        f"{label} ({len(items)}):\n  " + "\n  ".join(items)
        for label, items in (
            ("missing entries", missing), ("unexpected entries", unexpected),
            ("shape mismatches", shapes),
        )
        if items
    ]
    if problems:
        raise CheckpointMismatchError(
            "The checkpoint does not match the QTSeg v0.3.1 model:\n" + "\n".join(problems)
        )


def import_checkpoint(source: str | Path, destination: str | Path) -> QTSeg:
    """Convert the authors' ``source`` file to our format at ``destination``.

    Refuses a destination that is the source itself or a folder (nothing is written).
    """
    from qtseg_core.checkpoint import save_model

    _check_destination(Path(source), Path(destination))
    try:
        model = convert_official_state_dict(read_official_state_dict(source))
    except ValueError as error:
        if str(source) in str(error):
            raise
        raise type(error)(f"{source}: {error}") from error
    save_model(model, destination, imported_from=str(source), source_format="QTSeg v0.3.1")
    return model


def _check_destination(source: Path, destination: Path) -> None:
    if destination.is_dir():
        raise ValueError(f"-o {destination} is a folder; give the .safetensors file to write, "
                         f"e.g. {destination / 'model.safetensors'}.")
    if source.exists() and destination.exists() and source.samefile(destination):
        raise ValueError(
            f"-o {destination} is the source file itself; importing would overwrite the "
            "authors' checkpoint. Give another name, e.g. model.safetensors.")
