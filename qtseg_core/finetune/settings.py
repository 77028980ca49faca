"""What a fine-tune on corrections may change: a short, safe recipe for a CPU.

Start from the current model's weights, train at a reduced canvas with AdamW,
stop when the validation Dice has not improved for ``patience`` epochs.
``finetune_recipe(n)`` picks the settings for n training images; its choices
were measured by ``benchmarks/finetune_gain.py`` (one brain MRI volume after
the starter, the demo, nuclei after a CT/MRI base; figures there):

- BatchNorm statistics frozen only when the training images do not fill one
  batch (fewer than ``batch_size``): with one image, updating them let the
  previous recipe overfit that slice (train loss 0.003) and score 0 Dice on
  the next slice; frozen, 34 Dice. With a batch's worth they train: on an MRI
  the starter never saw (the atlas-volume case, 10 training slices) frozen
  statistics stalled at train loss ~1.27 and validation Dice 0-52 (the
  parent's statistics describe its own lesion slices; re-estimating them once
  on the training images, AdaBN, stalled the same over 5 epochs), training ones reached
  validation Dice 97.8 by epoch 9;
- a 3-epoch warm-up of the learning rate, then lr 1e-3 on all layers: a 10x
  smaller rate for the encoder (tried, with and without frozen statistics)
  did not learn at all within 20 epochs on an MRI volume the starter misses;
- cosine decay of the rate after the warm-up, to ``TrainConfig.min_lr`` at the
  last epoch, over about ``TARGET_STEPS`` (360) steps: on the atlas grey-matter
  volume (10 training slices) the constant rate's validation Dice still swung
  by up to 8 points between epochs at the end of 160 steps; cosine over 160
  steps settled lower (86.7 against 89.2: the rate fell before the model had
  learnt enough, train loss 0.29 against 0.24), over 240 it matched the
  constant rate (89.2) and the brain task (96.0 against 96.2 on the untouched
  slices), with a smoother validation curve; over 360 steps (at most 120 epochs)
  grey matter rose again on the choosing set, a block of the volume apart from
  the check's scored slices (87.3 -> 88.9, better on 20 of 20 slices; figures in
  finetune_gain.py);
- at first 160 optimiser steps (a handful of images is one or
  two steps an epoch), early stopping on the planned validation images, and
  every vouched-for image of the workspace, old and new, in training (the
  replay of what the parent learnt where the workspace holds it). On a CT
  volume the base model never saw (5 slices training), 60 steps stopped
  before the model found the lesion (0.0 -> 2.8 Dice on untouched slices):
  it begins to after about 40 steps and the validation Dice swings from one
  epoch to the next; 160 steps with patience a third of the epochs reached
  32 (validation 76).

- the canvas: the training planner's input size for the job's own training
  images (``job.planned_input_size``), the native size at most 256 as before
  but larger for thin objects: on the atlas (233-px slices) grey matter and
  white matter train at 320, not 256 (+2.23 Dice on the choosing block, 20 of
  20 slices better; white matter +3.24, interval +0.10 to +6.41; ~1.3x the
  CPU time; on the check's proxy over 4 seeds a tie, 83.3 both, the seeds'
  range 6-8), the brain mask at its native 224. Thin objects on large images
  get at most 384 (1.5x the 256 cap), never the 768-1024 of a full-size run.

``FinetuneSettings()`` holds the same choices for the knobs the recipe does not
set from the data size (epochs and patience are plain defaults there), so a
caller that builds settings by hand starts from the product's recipe. The app's
settings dialog edits the common fields, keeps the others, and its "Restore
defaults" shows ``finetune_recipe(n)`` for the images the split trains on.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any

#: The native canvas side a fine-tune trains at, at most (thin objects may get more: job.py).
DEFAULT_MAX_SIZE = 256
#: Optimiser steps a fine-tune aims for (a handful of images is 1-3 steps an epoch).
TARGET_STEPS = 360
#: The most epochs a fine-tune plans (a single image is one step an epoch).
MAX_EPOCHS = 120
#: Learning-rate schedules after the warm-up ("cosine" reaches TrainConfig.min_lr at the end).
SCHEDULERS = ("cosine", "constant")


@dataclass(frozen=True)
class FinetuneSettings:
    """Settings of one fine-tune; ``input_size=None``: planned from the training images
    (``job.planned_input_size``: the training planner's size, native at most min(256, the
    model's own), more for thin objects).

    A fine-tune plans ``finetune_recipe(n)``; these defaults are its choices for a batch's
    worth of images, with plain ``epochs`` / ``patience``.
    """

    epochs: int = 60
    patience: int = 20
    lr: float = 1e-3
    batch_size: int = 4
    weight_decay: float = 1e-4
    input_size: int | None = None
    augment: bool = True
    freeze_encoder_epochs: int = 0
    encoder_lr_scale: float = 1.0
    warmup_epochs: int = 3
    scheduler: str = "cosine"
    freeze_batchnorm: bool = False
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
        if self.scheduler not in SCHEDULERS:
            raise ValueError(
                f"scheduler={self.scheduler!r}: choose one of {', '.join(SCHEDULERS)}.")
        if not self.lr > 0:
            raise ValueError(f"lr={self.lr}: the learning rate must be positive, e.g. 1e-3.")
        if self.input_size is not None and (self.input_size < 64 or self.input_size % 32):
            suggestion = max(64, round(self.input_size / 32) * 32)
            raise ValueError(
                f"input_size={self.input_size}: give a multiple of 32 of at least 64 (e.g. "
                f"{suggestion}); at 32 the deepest features are 1x1 and a batch of one fails."
            )

    def resolved(self, planned_size: int) -> FinetuneSettings:
        """These settings with ``input_size`` fixed: as given, else ``planned_size``."""
        if self.input_size is not None:
            return self
        return replace(self, input_size=int(planned_size))

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
            "encoder_lr_scale": self.encoder_lr_scale,
            "warmup_epochs": self.warmup_epochs,
            "scheduler": self.scheduler,
            "freeze_batchnorm": self.freeze_batchnorm,
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


def finetune_recipe(train_images: int, *, batch_size: int = 4) -> FinetuneSettings:
    """The measured recipe for ``train_images`` corrections (benchmarks/finetune_gain.py).

    A function of the data size so that a training planner can call it for its
    own small data: about ``TARGET_STEPS`` optimiser steps within 30-120 epochs,
    patience a third of them; all layers at lr 1e-3 after a 3-epoch warm-up,
    then cosine decay; BatchNorm statistics frozen when the images do not fill
    one batch.
    """
    steps_per_epoch = -(-max(1, train_images) // batch_size)
    epochs = min(MAX_EPOCHS, max(30, -(-TARGET_STEPS // steps_per_epoch)))
    return FinetuneSettings(epochs=epochs, patience=max(10, epochs // 3), batch_size=batch_size,
                            freeze_batchnorm=train_images < batch_size)
