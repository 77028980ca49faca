"""Training and data configuration: frozen dataclasses, the paper's presets, file + flag overrides.

One config type is used by ``qtseg train``, the fine-tune feature and the tests.
A run resolves its config once (preset -> config file -> flags) and saves the
result as ``config.json`` in the run folder, so ``--resume`` and a reader of the
run see exactly what was trained.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import tomllib

# A volume id such as "brain1_z011" -> group "brain1" (slices of one volume stay together).
SLICE_GROUP_PATTERN = r"^(.+)_z\d+$"


@dataclass(frozen=True)
class DataConfig:
    """Where the images come from and how they are split into train / validation.

    Either ``root`` (a folder in any layout ``qtseg_core.data.open_dataset`` reads)
    with a split rule, or explicit ``train_pairs`` / ``val_pairs`` of
    ``(image_path, mask_path)`` (what the fine-tune feature passes).
    ``val_split`` names the split used for validation; the test split is never
    used during training.
    """

    root: str | None = None
    layout: str = "auto"
    split: str = "auto"  # "auto" (official split or grouped/K-fold), "kfold", "grouped"
    fold: int = 0
    num_folds: int = 5
    group_pattern: str | None = None  # regex with one group; e.g. SLICE_GROUP_PATTERN
    val_fraction: float = 0.2
    train_pairs: tuple[tuple[str, str], ...] | None = None
    val_pairs: tuple[tuple[str, str], ...] | None = None
    num_workers: int = 0
    augment: bool = True
    augmentation: str = "paper"  # "paper" (MISSFormer recipe) | "light" (small data, short runs)

    def __post_init__(self) -> None:
        for name in ("train_pairs", "val_pairs"):
            pairs = getattr(self, name)
            if pairs is not None:
                object.__setattr__(self, name, tuple((str(i), str(m)) for i, m in pairs))
        _check_choice("augmentation", self.augmentation, ("paper", "light"))
        if self.root is None and self.train_pairs is None:
            raise ValueError(
                "No training data: give DataConfig(root=FOLDER) or explicit train_pairs "
                "(a list of (image_path, mask_path))."
            )
        if self.train_pairs is not None and not self.val_pairs:
            raise ValueError(
                "train_pairs given without val_pairs: give at least one validation pair, "
                "the best checkpoint is chosen on validation Dice."
            )


@dataclass(frozen=True)
class TrainConfig:
    """Every training setting; defaults are the paper's recipe (512², AdamW, StepLR, 350 epochs).

    ``model`` holds overrides for ``build_model("qtseg", **model)`` (e.g.
    ``{"base_width": 8}``); ``num_classes`` / ``in_channels`` are filled from the
    data when absent. ``precision`` is "fp32", "bf16" or "fp16" (CUDA only;
    ignored with a warning on the CPU).
    """

    data: DataConfig
    output_dir: str = "runs/qtseg"
    preset: str = "paper"
    model: dict[str, Any] = field(default_factory=dict)
    init_from: str | None = None
    input_size: int = 512
    epochs: int = 350
    batch_size: int = 32
    grad_accum_steps: int = 1
    optimizer: str = "adamw"  # "adamw" | "sgd"
    lr: float = 1e-3
    weight_decay: float = 1e-4
    momentum: float = 0.9
    scheduler: str = "step"  # "step" | "poly" | "cosine" | "constant"
    warmup_epochs: int = 0  # linear warm-up of the lr (before "cosine", or any schedule)
    step_size: int = 50
    gamma: float = 0.5
    poly_power: float = 0.9
    min_lr: float = 1e-5
    ce_weight: float = 1.0
    dice_weight: float = 1.0
    freeze_encoder_epochs: int = 0
    encoder_lr_scale: float = 1.0  # the encoder's lr = lr x this (fine-tuning: < 1)
    freeze_batchnorm: bool = False  # BatchNorm running statistics kept as loaded
    early_stopping_patience: int = 0  # epochs without a better val Dice; 0 = off
    ema_decay: float = 0.0  # > 0: validate and save an average of the weights (weight_average.py)
    budget_minutes: float | None = None  # stop on time, schedule follows the elapsed fraction
    precision: str = "fp32"
    channels_last: bool = True
    device: str | None = None
    num_threads: int | None = None  # CPU threads for torch; None: torch's default
    seed: int = 0
    log_every: int = 10
    tensorboard: bool = True
    sync_bn: bool = False  # SyncBatchNorm across processes (multi-GPU)

    def __post_init__(self) -> None:
        _check_choice("optimizer", self.optimizer, ("adamw", "sgd"))
        _check_choice("scheduler", self.scheduler, ("step", "poly", "cosine", "constant"))
        _check_choice("precision", self.precision, ("fp32", "bf16", "fp16"))
        if self.input_size % 32:
            raise ValueError(
                f"input_size={self.input_size}: QTSeg needs a multiple of 32 "
                f"(e.g. {max(32, round(self.input_size / 32) * 32)})."
            )
        for name in ("epochs", "batch_size", "grad_accum_steps"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name}={getattr(self, name)}: must be at least 1.")
        if self.budget_minutes is not None and self.budget_minutes <= 0:
            raise ValueError(
                f"budget_minutes={self.budget_minutes}: give a positive number of minutes."
            )
        if not 0 <= self.ema_decay < 1:
            raise ValueError(
                f"ema_decay={self.ema_decay}: give a decay in [0, 1) (e.g. 0.95; 0 is off)."
            )
        if not 0 < self.encoder_lr_scale <= 1 or self.warmup_epochs < 0:
            raise ValueError(
                f"encoder_lr_scale={self.encoder_lr_scale}, warmup_epochs={self.warmup_epochs}: "
                "give a scale in (0, 1] (e.g. 0.1) and 0 or more warm-up epochs."
            )

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-serialisable dict (tuples become lists)."""
        return json.loads(json.dumps(asdict(self)))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        """Rebuild from ``to_dict`` output or a config file; unknown keys are an error."""
        data = dict(data)
        _reject_unknown(cls, data, "training")
        data_section = dict(data.pop("data", {}))
        _reject_unknown(DataConfig, data_section, "data")
        return cls(data=DataConfig(**data_section), **data)


def _check_choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ValueError(f"{name}={value!r}: choose one of {', '.join(choices)}.")


def _reject_unknown(cls: type, data: dict[str, Any], section: str) -> None:
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValueError(f"Unknown {section} config entries {unknown}; known: {sorted(known)}.")


# Named recipes. "paper" is the published one for every data set but retinal vessels;
# "auto" (what `qtseg train` uses when no preset is named) is filled in from the data by
# qtseg_core.training.planner, see qtseg_core.training.autoconfig.
PRESETS: dict[str, dict[str, Any]] = {
    "auto": {},
    "paper": {},
    "isic2016": {},
    "busi": {},
    "kvasir": {},
    "bkai": {},
    "dsb2018": {},
    "fives": {
        "optimizer": "sgd",
        "lr": 0.01,
        "batch_size": 4,
        "scheduler": "poly",
        "input_size": 1024,
    },
    # Short CPU runs: the example script, the starter model and fine-tuning.
    "cpu-demo": {"input_size": 128, "epochs": 30, "batch_size": 4, "step_size": 10},
    # The fine-tune's base: FinetuneSettings' defaults (the same numbers), which every
    # fine-tune job overrides with its own (qtseg_core.finetune.finetune_recipe).
    "finetune": {
        "epochs": 60,
        "batch_size": 4,
        "lr": 1e-3,
        "scheduler": "cosine",
        "early_stopping_patience": 20,
        "warmup_epochs": 3,
        "freeze_batchnorm": False,
    },
}


def preset_values(name: str) -> dict[str, Any]:
    """The overrides of a named preset (a copy), or a clear error listing the presets."""
    if name not in PRESETS:
        raise ValueError(f"Unknown preset {name!r}; choose one of {', '.join(sorted(PRESETS))}.")
    return {"preset": name, **PRESETS[name]}


def read_config_file(path: str | Path) -> dict[str, Any]:
    """Read a JSON (.json) or TOML (.toml) config file into a nested dict."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"Config file {path} does not exist; check the path and file name.")
    text = path.read_text(encoding="utf-8")
    try:
        if path.suffix.lower() == ".toml":
            return tomllib.loads(text)
        return json.loads(text)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as error:
        raise ValueError(f"Config file {path} is not valid {path.suffix[1:]}: {error}") from error


def resolve_config(
    preset: str | None = None,
    file_values: dict[str, Any] | None = None,
    overrides: dict[str, Any] | None = None,
    plan_values: dict[str, Any] | None = None,
) -> TrainConfig:
    """Merge, later winning: defaults < preset < plan < config file < overrides (CLI flags).

    ``preset`` (e.g. from ``--preset``) wins over a ``preset`` entry in the file.
    ``plan_values`` are a training plan's choices (``TrainingPlan.overrides()``).

    ``file_values`` and ``overrides`` are nested dicts like ``TrainConfig.to_dict()``;
    a ``data`` sub-dict and a ``model`` sub-dict are merged key by key.
    """
    file_values = dict(file_values or {})
    file_preset = file_values.pop("preset", None)
    preset = preset or file_preset or "paper"
    merged: dict[str, Any] = preset_values(preset)
    for layer in (plan_values or {}, file_values, overrides or {}):
        merged = _merge(merged, layer)
    return TrainConfig.from_dict(merged)


def _merge(base: dict[str, Any], layer: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in layer.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    return merged
