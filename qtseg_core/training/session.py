"""Everything a run needs, built once from a TrainConfig: model, optimiser, loaders, reporter.

Kept apart from the epoch loop (``run.py``) so that each piece can be built
and tested on its own, and so ``--resume`` rebuilds exactly the same objects
before loading their saved state into them.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field, replace
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import DataLoader

from qtseg_core.checkpoint import load_model
from qtseg_core.data.dataset import SegmentationDataset
from qtseg_core.interactive.simulation import ClickSimulation
from qtseg_core.models import add_click_inputs, build_model
from qtseg_core.provenance import describe_training_images
from qtseg_core.training.budget import TimeBudget
from qtseg_core.training.config import TrainConfig
from qtseg_core.training.distributed import (
    DistributedContext,
    barrier,
    check_shared_folder,
    per_process_batch,
    wrap_model,
)
from qtseg_core.training.loaders import SkipLog, make_loader
from qtseg_core.training.loop import StepSettings, make_grad_scaler, step_settings
from qtseg_core.training.losses import SegmentationLoss
from qtseg_core.training.optim import build_optimizer, build_scheduler, parameter_groups
from qtseg_core.training.reporting import RunReporter
from qtseg_core.training.run_folder import create_run_folder
from qtseg_core.training.run_record import write_run_record
from qtseg_core.training.samples import TrainingData, resolve_training_data
from qtseg_core.training.state import (
    RESUME_FILE,
    TrainingProgress,
    load_training_state,
    restore_training_state,
    seed_everything,
)
from qtseg_core.training.threads import ThreadChooser, thread_chooser
from qtseg_core.training.weight_average import WeightAverage


@dataclass
class TrainingSession:
    """The live objects of one run on one process."""

    config: TrainConfig
    context: DistributedContext
    data: TrainingData
    model: nn.Module  # the plain network (what checkpoints store)
    trained: nn.Module  # the model or its DDP wrapper (what the loop calls)
    optimizer: object
    scheduler: object
    scaler: object
    loss_fn: SegmentationLoss
    settings: StepSettings
    train_loader: DataLoader
    val_loader: DataLoader
    run_dir: Path
    reporter: RunReporter
    progress: TrainingProgress
    skips: SkipLog
    trained_on: list[dict] = field(default_factory=list)  # provenance: id, name, sha256
    budget: TimeBudget | None = None
    threads: ThreadChooser | None = None  # CPU threads by measured speed (None: kept as set)
    average: WeightAverage | None = None  # EMA of the weights (None: ema_decay 0)

    @property
    def resume_path(self) -> Path:
        return self.run_dir / RESUME_FILE

    @property
    def saved_model(self) -> nn.Module:
        """The network that is validated and saved: the weight average, or the trained one."""
        return self.average.model if self.average is not None else self.model


def open_session(
    config: TrainConfig, context: DistributedContext, *, resume: bool
) -> TrainingSession:
    """Build the run's objects; with ``resume`` load model, optimiser, RNG... from resume.pt."""
    seed_everything(config.seed + context.rank)
    if config.num_threads:
        torch.set_num_threads(config.num_threads)
    data = resolve_training_data(config.data, config.seed)  # bad data fails before any file
    model = _initial_model(config, data).to(context.device)
    run_dir = Path(config.output_dir)
    if context.is_main:
        create_run_folder(config, resume=resume)
        write_run_record(run_dir, config.data, data, context.world_size, resume=resume)
    barrier(context)
    check_shared_folder(run_dir, context, "checkpoints and resuming need it")
    settings = step_settings(
        context.device, config.precision, config.channels_last, config.grad_accum_steps
    )
    if model.config.click_inputs:
        settings = replace(settings, click_simulation=ClickSimulation())
    if settings.channels_last:
        model = model.to(memory_format=torch.channels_last)
    budget = TimeBudget.from_minutes(config.budget_minutes) if config.budget_minutes else None
    optimizer = build_optimizer(parameter_groups(model, config), config)
    scheduler = build_scheduler(optimizer, config, budget.fraction_done if budget else None)
    scaler = make_grad_scaler(settings)
    progress, payload = TrainingProgress(), {}
    if resume:
        payload = load_training_state(run_dir / RESUME_FILE)
        progress = restore_training_state(
            payload, model=model, optimizer=optimizer, scheduler=scheduler, scaler=scaler
        )
        if budget is not None:
            budget.already_spent = progress.training_seconds
    average = _weight_average(model, config.ema_decay, payload.get("average"))
    stream = sys.stderr if context.is_main else None
    reporter = RunReporter(
        run_dir if context.is_main else None, tensorboard=config.tensorboard, stream=stream
    )
    fixed_threads = config.num_threads or (1 if context.enabled else None)
    return TrainingSession(
        config,
        context,
        data,
        model,
        wrap_model(model, context, sync_batchnorm=config.sync_bn),
        optimizer,
        scheduler,
        scaler,
        SegmentationLoss(ce_weight=config.ce_weight, dice_weight=config.dice_weight),
        settings,
        *_loaders(config, data, model.config.in_channels, context),
        run_dir,
        reporter,
        progress,
        SkipLog(),
        describe_training_images((sample.id, sample.image_path) for sample in data.train),
        budget,
        thread_chooser(context.device, fixed_threads, reporter.message),
        average,
    )


def _weight_average(model: nn.Module, decay: float, saved: dict | None) -> WeightAverage | None:
    """The run's weight average (None when ``decay`` is 0), continued from resume.pt's."""
    if not decay:
        return None
    average = WeightAverage(model, decay)
    if saved:
        average.load_state_dict(saved)
    return average


def _initial_model(config: TrainConfig, data: TrainingData) -> nn.Module:
    """A fresh network for the data's classes, or the weights of ``init_from``.

    ``config.model["click_inputs"]`` (``qtseg train --interactive``) makes an
    ``init_from`` model without click inputs click-conditioned (zero click weights).
    """
    if config.init_from:
        model = load_model(config.init_from).train()
        if model.config.num_classes != data.num_classes:
            raise ValueError(
                f"init_from={config.init_from} predicts {model.config.num_classes} classes but "
                f"the data has {data.num_classes} ({', '.join(data.class_names)}); start from a "
                "checkpoint trained on the same classes."
            )
        return add_click_inputs(model) if config.model.get("click_inputs") else model
    overrides = {"num_classes": data.num_classes, **config.model}
    return build_model("qtseg", **overrides).train()


def _loaders(
    config: TrainConfig, data: TrainingData, in_channels: int, context: DistributedContext
) -> tuple[DataLoader, DataLoader]:
    common = {
        "size": config.input_size,
        "in_channels": in_channels,
        "num_classes": data.num_classes,
        "seed": config.seed,
    }
    train_set = SegmentationDataset(
        data.train,
        augment=config.data.augment,
        augmentation=config.data.augmentation,
        **common,
    )
    val_set = SegmentationDataset(data.val, augment=False, **common)
    return tuple(
        make_loader(
            dataset,
            batch_size=per_process_batch(config.batch_size, context),
            shuffle=shuffle,
            seed=config.seed,
            num_workers=config.data.num_workers,
            context=context,
        )
        for dataset, shuffle in ((train_set, True), (val_set, False))
    )
