"""``plan_finetune(workspace, settings) -> FinetuneJob``: what a fine-tune will learn from.

A job is a frozen, JSON round-trippable description of one fine-tune: the model
it starts from, the images on each side of the workspace's fixed train /
validation split, the settings, and its own folder ``<ws>/finetune/<timestamp>/``.
Planning reads the workspace once and snapshots the vouched-for masks into the
job folder, so the run (often in another process, while annotating goes on)
trains on exactly what the job lists and never needs the workspace database.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from qtseg_core.checkpoint import read_metadata
from qtseg_core.data.samples import Sample
from qtseg_core.device import pick_device
from qtseg_core.finetune.errors import FinetuneError, NotEnoughImagesError
from qtseg_core.finetune.settings import DEFAULT_MAX_SIZE, FinetuneSettings, finetune_recipe
from qtseg_core.io import ImageReadError, read_image, write_json_atomic
from qtseg_core.training.autoconfig import machine_facts
from qtseg_core.training.fingerprint import fingerprint
from qtseg_core.training.planner import plan_input_size
from qtseg_core.workspace import TrainingItem, Workspace
from qtseg_core.workspace.images import FINETUNE_FOLDER, JOB_FILE, JOB_MARKER
from qtseg_core.workspace.splits import SplitPlan

JOB_FORMAT = "qtseg-finetune-job/1"
MIN_TRAIN_IMAGES = 1
MIN_VAL_IMAGES = 1


@dataclass(frozen=True)
class TrainingPair:
    """One image of a job: workspace id, file name, image path, snapshot of its mask."""

    image_id: int
    name: str
    image: str
    mask: str


@dataclass(frozen=True)
class FinetuneJob:
    """Everything a fine-tune run needs; ``settings.input_size`` is already resolved.

    classes: the workspace's (name, RGB colour) per class when the job was planned;
    the fine-tuned model is saved with them.
    """

    workspace: str
    model_version: str
    model_path: str
    train: tuple[TrainingPair, ...]
    val: tuple[TrainingPair, ...]
    settings: FinetuneSettings
    output_dir: str
    created_at: str
    split_note: str = ""
    seen_by_parent: tuple[int, ...] = ()  # never validated on (the gate re-checks)
    classes: tuple[tuple[str, tuple[int, int, int]], ...] = ()

    @property
    def job_file(self) -> Path:
        return Path(self.output_dir) / JOB_FILE

    @property
    def owns_output_dir(self) -> bool:
        """True when plan_finetune created ``output_dir`` (it holds the JOB_MARKER file);
        only such a folder is ever deleted (a hand-edited job's may be the user's)."""
        return (Path(self.output_dir) / JOB_MARKER).is_file()

    @property
    def train_ids(self) -> list[int]:
        return [pair.image_id for pair in self.train]

    @property
    def val_ids(self) -> list[int]:
        return [pair.image_id for pair in self.val]

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": JOB_FORMAT,
            **{key: getattr(self, key) for key in ("workspace", "model_version", "model_path")},
            "train": [vars(pair) for pair in self.train],
            "val": [vars(pair) for pair in self.val],
            "settings": self.settings.to_dict(),
            "output_dir": self.output_dir,
            "created_at": self.created_at,
            "split_note": self.split_note,
            "seen_by_parent": list(self.seen_by_parent),
            "classes": [[name, list(color)] for name, color in self.classes],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FinetuneJob:
        if data.get("format") != JOB_FORMAT:
            raise FinetuneError(
                f"Not a fine-tune job (format {data.get('format')!r}, expected {JOB_FORMAT!r}); "
                "give the job.json that plan_finetune wrote."
            )
        pairs = {side: tuple(TrainingPair(**p) for p in data[side]) for side in ("train", "val")}
        plain = {key: data[key] for key in ("workspace", "model_version", "model_path",
                                            "output_dir", "created_at")}
        classes = tuple((str(name), tuple(color)) for name, color in data.get("classes", ()))
        return cls(**plain, **pairs, settings=FinetuneSettings.from_dict(data["settings"]),
                   split_note=data.get("split_note", ""),
                   seen_by_parent=tuple(data.get("seen_by_parent", ())), classes=classes)

    def save(self) -> Path:
        """Write ``job.json`` in the job folder; returns its path."""
        self.job_file.parent.mkdir(parents=True, exist_ok=True)
        write_json_atomic(self.job_file, self.to_dict())
        return self.job_file

    @classmethod
    def load(cls, path: str | Path) -> FinetuneJob:
        """Read a ``job.json`` (or the job folder holding one)."""
        path = Path(path)
        path = path / JOB_FILE if path.is_dir() else path
        if not path.is_file():
            raise FileNotFoundError(f"Fine-tune job {path} does not exist; plan the job first.")
        return cls.from_dict(json.loads(path.read_text(encoding="utf-8")))


def plan_finetune(workspace: Workspace, settings: FinetuneSettings | None = None) -> FinetuneJob:
    """The job of fine-tuning ``workspace``'s current model on its accepted / corrected images.

    ``settings`` None: ``finetune_recipe`` for the number of training images.
    The split is the workspace's plan (``Workspace.split_plan``: the user's
    choices, whole volumes or slice blocks, never validating on what the model
    learnt). Raises FinetuneError without a current model and
    NotEnoughImagesError when either side is empty (the message says what to
    review). Writes the job folder (mask snapshots + job.json).
    """
    model = workspace.current_model()
    if model is None:
        raise FinetuneError(
            "This workspace has no model to fine-tune; load a model (Model > Open) first."
        )
    items = {item.image_id: item for item in workspace.training_items()}
    plan = workspace.split_plan(model.version)
    train = [items[i] for i in plan.train]
    val = [items[i] for i in plan.val]
    _require_enough(model.version, list(items.values()), train, val, plan)
    metadata = read_metadata(model.path)
    names, colors = workspace.classes()
    _require_same_classes(names, model.version, metadata.class_names)
    if metadata.config.num_classes != 2:
        raise FinetuneError(
            f"{model.version} segments {metadata.config.num_classes} classes; fine-tuning on "
            "corrections supports binary (background / foreground) models for now."
        )
    settings = settings or finetune_recipe(len(train))
    output = _new_job_folder(workspace.folder)
    train_pairs = tuple(_snapshot(workspace, item, output) for item in train)
    if settings.input_size is None:
        size = planned_input_size(train_pairs, metadata.input_size, settings.device)
        settings = settings.resolved(size)
    job = FinetuneJob(
        workspace=str(workspace.folder),
        model_version=model.version,
        model_path=str(model.path),
        train=train_pairs,
        val=tuple(_snapshot(workspace, item, output) for item in val),
        settings=settings,
        output_dir=str(output),
        created_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        split_note=plan.note,
        seen_by_parent=tuple(sorted(workspace.seen_by_model(model.version))),
        classes=tuple((name, tuple(color)) for name, color in zip(names, colors, strict=True)),
    )
    job.save()
    return job


def planned_input_size(pairs: Sequence[TrainingPair], model_input_size: int,
                       device: str | None = None) -> int:
    """The canvas a fine-tune on ``pairs`` trains at: the training planner's ``plan_input_size``
    on their fingerprint, the native size at most min(256, the model's own) (a short run on a
    CPU), larger where the thinnest objects need it (up to 1.5x the images' side and 1.5x
    that cap: 384 at most from a 256 cap, whatever the images' size).

    Measured (benchmarks/finetune_gain.py, session 9): 320 instead of 256 on the atlas grey
    matter (6 px ribbon) +2.23 Dice on the choosing block, white matter +3.24, ~1.3x the CPU;
    on the check's own proxy a tie over 4 seeds (83.3 both; the seeds' range 6-8).
    """
    samples = [Sample(str(p.image_id), Path(p.image), (Path(p.mask),)) for p in pairs]
    prints = fingerprint(samples, [], num_classes=2)
    cap = min(DEFAULT_MAX_SIZE, int(model_input_size))
    size, _ = plan_input_size(prints, machine_facts(pick_device(device)), max_native=cap)
    return size


def _require_same_classes(names: list[str], version: str, model_names: tuple[str, ...]) -> None:
    """Fine-tuning teaches a model its own classes only: the workspace must have as many."""
    if len(names) != len(model_names):
        raise FinetuneError(
            f"The workspace has {len(names)} classes ({', '.join(names)}) but {version} "
            f"predicts {len(model_names)} ({', '.join(model_names)}); fine-tuning cannot add "
            "classes to a model. Export the training set and train a model on the workspace's "
            "classes (qtseg train EXPORT), then load it."
        )


def _require_enough(version: str, items: list, train: list, val: list, plan: SplitPlan) -> None:
    if len(val) < MIN_VAL_IMAGES:
        raise NotEnoughImagesError(_no_validation_message(version, items, plan), 1)
    if len(train) < MIN_TRAIN_IMAGES:
        needed = MIN_TRAIN_IMAGES - len(train)
        raise NotEnoughImagesError(_few_training_message(train, val, needed), needed)


def _no_validation_message(version: str, items: list, plan: SplitPlan) -> str:
    return (
        f"None of the {len(items)} accepted or corrected image(s) can validate the new model "
        f"against {version}. A validation image:\n"
        "- must show something to segment;\n"
        f"- must not be an image {version} was trained on;\n"
        "- in a volume, needs a second reviewed slice beside it.\n"
        f"({plan.note})\n"
        f"Accept or correct 1 more image (a slice with a lesion, of a volume {version} has not "
        "learnt), or mark one as validation."
    )


def _few_training_message(train: list, val: list, needed: int) -> str:
    volumes = sorted({item.group or Path(item.image_path).name for item in val})
    return (
        f"Fine-tuning needs at least {MIN_TRAIN_IMAGES} training image(s) and has {len(train)}: "
        f"the other {len(val)} accepted or corrected image(s) validate "
        f"({', '.join(volumes)}), or were excluded. Accept or correct {needed} more image(s), "
        "or mark one as training."
    )


def _new_job_folder(workspace_folder: Path) -> Path:
    """``<ws>/finetune/<UTC timestamp>[-n]/``, created new (never an existing one) and marked
    with JOB_MARKER so that discarding the job may delete it."""
    root = workspace_folder / FINETUNE_FOLDER
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    for attempt in range(1000):
        folder = root / (stamp if attempt == 0 else f"{stamp}-{attempt}")
        try:
            folder.mkdir(parents=True)
            (folder / JOB_MARKER).write_text("created by qtseg plan_finetune\n")
            return folder
        except FileExistsError:
            continue
    raise FinetuneError(f"Could not create a new job folder under {root}; clean it up.")


def _snapshot(workspace: Workspace, item: TrainingItem, output: Path) -> TrainingPair:
    """Copy the item's mask into the job folder: later edits cannot change what was trained.
    A slice of a volume gets its pixels written there too (``images/<id>.tif``): the run
    reads 2D image files, never the volume."""
    mask = output / "masks" / f"{item.image_id:06d}.png"
    mask.parent.mkdir(exist_ok=True)
    shutil.copyfile(item.mask_path, mask)
    record = workspace.image(item.image_id)
    if record.volume_id is None:
        return TrainingPair(item.image_id, Path(item.image_path).name, str(item.image_path),
                            str(mask))
    image = workspace.write_slice_image(item.image_id,
                                        output / "images" / f"{item.image_id:06d}.tif")
    return TrainingPair(item.image_id, record.name, str(image), str(mask))



def empty_validation_masks(job: FinetuneJob) -> set[int]:
    """Ids of the job's validation images whose mask snapshot shows nothing (or is unreadable)."""
    empty = set()
    for pair in job.val:
        try:
            if not np.any(read_image(pair.mask) > 0):
                empty.add(pair.image_id)
        except ImageReadError:
            empty.add(pair.image_id)
    return empty

