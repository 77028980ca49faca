"""The product's one checkpoint format: a single ``.safetensors`` file.

Tensors are the model's state dict; the string metadata carries everything
else needed to use the model with no other file: the ModelConfig, class names
and colours, the input size and normalisation, and provenance (data, date,
command, validation scores). Nothing here ever unpickles a file.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, replace
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save

from qtseg_core import checkpoint_checks as checks
from qtseg_core.classes import default_colors, default_names
from qtseg_core.config import ModelConfig
from qtseg_core.io import atomic_write
from qtseg_core.models.qtseg import QTSeg

FORMAT = "qtseg-studio/1"
DEFAULT_NORMALIZATION = {"kind": "per-image-minmax", "range": [-1.0, 1.0]}


@dataclass(frozen=True)
class ModelMetadata:
    """What a checkpoint says about its model besides the weights."""

    config: ModelConfig
    class_names: tuple[str, ...]
    class_colors: tuple[tuple[int, int, int], ...]
    input_size: int = 512
    normalization: dict = field(default_factory=lambda: dict(DEFAULT_NORMALIZATION))
    provenance: dict = field(default_factory=dict)

    @classmethod
    def default_for(cls, config: ModelConfig) -> ModelMetadata:
        return cls(config=config, class_names=default_names(config.num_classes),
                   class_colors=default_colors(config.num_classes))

    def to_strings(self) -> dict[str, str]:
        return {
            "format": FORMAT,
            "model_config": json.dumps(self.config.to_dict()),
            "class_names": json.dumps(list(self.class_names)),
            "class_colors": json.dumps([list(c) for c in self.class_colors]),
            "input_size": str(self.input_size),
            "normalization": json.dumps(self.normalization),
            "provenance": json.dumps(self.provenance, default=str),
        }

    @classmethod
    def from_strings(cls, strings: dict[str, str], path: Path) -> ModelMetadata:
        if strings.get("format") != FORMAT:
            raise ValueError(
                f"{path} is a safetensors file but not a QTSeg Studio checkpoint "
                f"(format {strings.get('format')!r}, expected {FORMAT!r}). Convert the authors' "
                "checkpoints with 'qtseg import-checkpoint'."
            )
        config = checks.model_config(checks.json_field(strings, "model_config", path), path)
        count = config.num_classes
        provenance = checks.json_field(strings, "provenance", path) if "provenance" in strings \
            else {}
        return cls(
            config=config,
            class_names=checks.class_names(
                checks.json_field(strings, "class_names", path), count, path),
            class_colors=checks.class_colors(
                checks.json_field(strings, "class_colors", path), count, path),
            input_size=checks.input_size(strings.get("input_size"), path),
            normalization=checks.normalization(
                checks.json_field(strings, "normalization", path), path),
            provenance=provenance if isinstance(provenance, dict) else {},
        )


@dataclass(frozen=True)
class Checkpoint:
    """A model rebuilt from a checkpoint file, with what the file says about it.

    The metadata travels beside the network (not as an attribute on it), so
    wrapping or compiling the network cannot silently drop it.
    """

    model: QTSeg
    metadata: ModelMetadata


def save_model(
    model: QTSeg,
    path: str | os.PathLike,
    *,
    metadata: ModelMetadata | None = None,
    class_names: list[str] | None = None,
    class_colors: list[tuple[int, int, int]] | None = None,
    input_size: int | None = None,
    half_precision: bool = False,
    **provenance: object,
) -> ModelMetadata:
    """Write ``model`` to ``path`` (atomically); returns the metadata written.

    Unset fields keep those of ``metadata`` (e.g. a loaded ``Checkpoint``'s), or the
    defaults for the model's config; ``provenance`` entries are merged into its
    provenance. ``half_precision`` stores floating-point weights as float16 to halve
    the file (loading restores float32).
    """
    metadata = _updated_metadata(
        model, metadata, class_names, class_colors, input_size, provenance
    )
    tensors = {
        name: _storable(tensor, half_precision) for name, tensor in model.state_dict().items()
    }
    broken = checks.non_finite_tensors(tensors)
    if broken:
        raise ValueError(
            f"Not saving {path}: {len(broken)} weight tensor(s) hold NaN or Inf ({broken[0]} "
            "...), so the training diverged; lower the learning rate or check the images "
            "for NaN pixels, and train again.")
    payload = save(tensors, metadata=metadata.to_strings())
    atomic_write(path, lambda stream: stream.write(payload))
    return metadata


def read_metadata(path: str | os.PathLike) -> ModelMetadata:
    """The metadata of a checkpoint, without building the model."""
    path = _existing(path)
    try:
        from safetensors import safe_open

        with safe_open(str(path), framework="pt") as handle:
            strings = handle.metadata() or {}
    except (SafetensorError, OSError) as error:
        raise _not_a_checkpoint(path, error) from error
    return ModelMetadata.from_strings(strings, path)


def load_model(path: str | os.PathLike, device: str | torch.device = "cpu") -> QTSeg:
    """Rebuild the model saved at ``path`` from that file alone (eval mode, float32)."""
    return load_checkpoint(path, device).model


def load_checkpoint(path: str | os.PathLike, device: str | torch.device = "cpu") -> Checkpoint:
    """The model saved at ``path`` (eval mode, float32) and the file's metadata.

    The metadata is checked (bounded config) before the network is built, the
    file's tensor shapes against the built network before any weight is read,
    and the weights must be finite: a bad file raises ValueError naming it and
    the field.
    """
    metadata, model, tensors = _checked(Path(path))
    expected = model.state_dict()
    tensors = {k: v.to(expected[k].dtype) for k, v in tensors.items()}
    model.load_state_dict(tensors, strict=True)
    return Checkpoint(model.to(device).eval(), metadata)


def verify_checkpoint(path: str | os.PathLike) -> ModelMetadata:
    """Check a checkpoint as ``load_checkpoint`` does (fields, shapes, finite weights);
    returns its metadata. For registering a file as a model version."""
    return _checked(Path(path))[0]


def _checked(path: Path) -> tuple[ModelMetadata, QTSeg, dict[str, torch.Tensor]]:
    """Metadata, the (untrained) network it describes, and the file's checked tensors."""
    metadata = read_metadata(path)
    model = QTSeg(metadata.config)  # bounded: ModelConfig refuses absurd sizes
    expected = {name: tuple(tensor.shape) for name, tensor in model.state_dict().items()}
    try:
        from safetensors import safe_open

        with safe_open(str(path), framework="pt") as handle:
            shapes = {name: handle.get_slice(name).get_shape() for name in handle.keys()}
        checks.check_tensor_shapes(expected, shapes, path)
        tensors = load_file(str(path), device="cpu")
    except (SafetensorError, OSError) as error:
        raise _not_a_checkpoint(path, error) from error
    broken = checks.non_finite_tensors(tensors)
    if broken:
        raise checks.CheckpointFieldError(
            path, "tensors", f"hold NaN or Inf in {len(broken)} of {len(tensors)} tensors "
            f"({broken[0]} ...): the training that wrote it diverged")
    return metadata, model, tensors


def _updated_metadata(
    model: QTSeg, current: ModelMetadata | None, class_names: list[str] | None,
    class_colors: list | None, input_size: int | None, provenance: dict,
) -> ModelMetadata:
    current = current or ModelMetadata.default_for(model.config)
    updates: dict = {"config": model.config, "provenance": {**current.provenance, **provenance}}
    if class_names is not None:
        updates["class_names"] = tuple(class_names)
    if class_colors is not None:
        updates["class_colors"] = tuple(tuple(int(v) for v in c) for c in class_colors)
    if input_size is not None:
        updates["input_size"] = int(input_size)
    metadata = replace(current, **updates)
    if len(metadata.class_names) != model.config.num_classes:
        raise ValueError(
            f"{len(metadata.class_names)} class names {list(metadata.class_names)} for a model "
            f"with {model.config.num_classes} classes; give one name per class, background first."
        )
    return metadata


def _storable(tensor: torch.Tensor, half_precision: bool) -> torch.Tensor:
    tensor = tensor.detach().to("cpu").contiguous()
    if half_precision and tensor.is_floating_point():
        return tensor.to(torch.float16)
    return tensor.clone()


def _existing(path: str | os.PathLike) -> Path:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"Checkpoint {path} does not exist; check the path and file name.")
    return path


def _not_a_checkpoint(path: Path, error: Exception) -> ValueError:
    hint = (
        " It looks like a PyTorch pickle: convert it with "
        f"'qtseg import-checkpoint {path} -o model.safetensors'."
        if path.suffix in (".pt", ".pth", ".ckpt")
        else ""
    )
    return ValueError(f"{path} is not a readable .safetensors checkpoint ({error}).{hint}")
