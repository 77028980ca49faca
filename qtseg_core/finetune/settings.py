"""What a fine-tune on corrections may change: a short, safe recipe for a CPU.

Start from the current model's weights, train at a reduced canvas with AdamW
at a constant learning rate, stop when the validation Dice has not improved
for ``patience`` epochs. The defaults come from ``benchmarks/finetune_gain.py``
(tiny QTSeg, 128², 2-10 corrected nuclei tiles after a CT/MRI base): lr 1e-4
for 30 epochs with patience 5 stopped after 6 epochs with no gain at all
(a handful of images is only 1-3 steps per epoch); lr 1e-3 for up to 60
epochs with patience 15 lifted Dice on uncorrected tiles from 0 to 86 with 5
corrections, in under 20 s on one CPU thread; 3e-4 gave 0 / 73 / 87 for
N = 2 / 5 / 10.
The app's settings dialog edits exactly these fields.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any

#: The canvas side a fine-tune trains at unless the model's own is smaller.
DEFAULT_MAX_SIZE = 256


@dataclass(frozen=True)
class FinetuneSettings:
    """Settings of one fine-tune; ``input_size=None`` means min(256, the model's own)."""

    epochs: int = 60
    patience: int = 15
    lr: float = 1e-3
    batch_size: int = 4
    weight_decay: float = 1e-4
    input_size: int | None = None
    augment: bool = True
    freeze_encoder_epochs: int = 0
    seed: int = 0
    device: str | None = None

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name}={getattr(self, name)}: must be at least 1.")
        if self.patience < 0 or self.freeze_encoder_epochs < 0:
            raise ValueError(
                f"patience={self.patience}, freeze_encoder_epochs={self.freeze_encoder_epochs}: "
                "each must be 0 or more (0 = off)."
            )
        if not self.lr > 0:
            raise ValueError(f"lr={self.lr}: the learning rate must be positive, e.g. 1e-3.")
        if self.input_size is not None and (self.input_size < 64 or self.input_size % 32):
            suggestion = max(64, round(self.input_size / 32) * 32)
            raise ValueError(
                f"input_size={self.input_size}: give a multiple of 32 of at least 64 (e.g. "
                f"{suggestion}); at 32 the deepest features are 1x1 and a batch of one fails."
            )

    def resolved(self, model_input_size: int) -> FinetuneSettings:
        """These settings with ``input_size`` fixed: as given, else min(256, the model's)."""
        if self.input_size is not None:
            return self
        return replace(self, input_size=min(DEFAULT_MAX_SIZE, int(model_input_size)))

    def train_overrides(self) -> dict[str, Any]:
        """The TrainConfig entries these settings set (on top of the "finetune" preset)."""
        return {
            "epochs": self.epochs,
            "early_stopping_patience": self.patience,
            "lr": self.lr,
            "batch_size": self.batch_size,
            "weight_decay": self.weight_decay,
            "input_size": self.input_size,
            "freeze_encoder_epochs": self.freeze_encoder_epochs,
            "seed": self.seed,
            "device": self.device,
        }

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FinetuneSettings:
        """Rebuild from ``to_dict``; an unknown key is an error that lists the known ones."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"Unknown fine-tune settings {unknown}; known: {sorted(known)}.")
        return cls(**data)
