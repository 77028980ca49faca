"""``preset="auto"``: fingerprint the data, learn the device, plan, then resolve the config.

The plan is layered under the user's settings: defaults < preset < plan <
config file < flags (``resolve_config``), and the flags that fix a planned
quantity (``--size``, ``--batch-size``, ``--epochs``) are handed to the
planner so the other choices are made around them. Any other preset (e.g.
``--preset paper``) is resolved exactly as before, with no plan.

With a time budget the device's speed is measured first: a few training
steps of the run's own network on random canvases (a throwaway copy, so the
run's weights and random state are untouched).
"""

from __future__ import annotations

import os
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import torch

from qtseg_core.device import pick_device
from qtseg_core.models import build_model
from qtseg_core.training.config import TrainConfig, resolve_config
from qtseg_core.training.fingerprint import DataFingerprint, fingerprint
from qtseg_core.training.optim import build_optimizer
from qtseg_core.training.planner import DeviceFacts, TrainingPlan, native_size, plan_training
from qtseg_core.training.samples import resolve_training_data

PLANNED_KEYS = ("input_size", "batch_size", "epochs")
PROBE_MAX_SIZE = 256  # the probe's time comes out of the budget: ~3 s at 224² on 2 cores
PROBE_BATCH = 2  # one image per step measured ~3x slower per image than the run's batches


@dataclass(frozen=True)
class PlanReport:
    """What ``plan.json`` holds: the fingerprint, the device facts, the plan, the planning time."""

    fingerprint: DataFingerprint
    device: DeviceFacts
    plan: TrainingPlan
    planning_seconds: float
    measured: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "fingerprint": self.fingerprint.to_dict(),
            "device": asdict(self.device),
            "plan": self.plan.to_dict(),
            "planning_seconds": round(self.planning_seconds, 2),
            "measured": self.measured,
        }


def auto_configure(
    preset: str | None,
    file_values: dict[str, Any] | None = None,
    overrides: dict[str, Any] | None = None,
) -> tuple[TrainConfig, PlanReport | None]:
    """The run's TrainConfig, planned from the data when the preset is "auto" (the default).

    A time budget in the config is reduced by the time planning took, so the
    whole command fits the minutes the user gave.
    """
    started = time.monotonic()
    preset = preset or (file_values or {}).get("preset") or "auto"
    base = resolve_config(preset, file_values, overrides)
    if base.preset != "auto":
        return base, None
    data = resolve_training_data(base.data, base.seed)
    prints = fingerprint(data.train, data.val, data.num_classes)
    fixed = _explicit(file_values, overrides)
    facts = device_facts(base, data.num_classes, prints, measure=base.budget_minutes is not None)
    plan = plan_training(prints, facts, base.budget_minutes, fixed)
    spent = time.monotonic() - started
    plan_values = plan.overrides()  # threads: chosen as the run goes (training/threads.py)
    if base.budget_minutes is not None:
        plan_values["budget_minutes"] = max(0.05, base.budget_minutes - spent / 60)
    config = resolve_config(preset, file_values, overrides, plan_values)
    if base.budget_minutes is not None:
        config = _with_budget(config, plan_values["budget_minutes"])
    return config, PlanReport(prints, facts, plan, spent)


def _with_budget(config: TrainConfig, minutes: float) -> TrainConfig:
    return TrainConfig.from_dict({**config.to_dict(), "budget_minutes": round(minutes, 3)})


def _explicit(*layers: dict[str, Any] | None) -> dict[str, int]:
    """The planned quantities the user set in a config file or a flag."""
    found: dict[str, int] = {}
    for layer in layers:
        found.update({key: int(layer[key]) for key in PLANNED_KEYS if key in (layer or {})})
    return found


def device_facts(
    config: TrainConfig, num_classes: int, prints: DataFingerprint, *, measure: bool
) -> DeviceFacts:
    """Kind, memory and threads of the training device; with ``measure``, its speed too."""
    device = pick_device(config.device)
    facts = machine_facts(device)
    if not measure:
        return facts
    size = min(PROBE_MAX_SIZE, native_size(prints.longer_side))
    threads, seconds = fastest_threads(config, num_classes, size, device)
    return DeviceFacts(facts.kind, facts.memory_gib, threads, seconds, size)


def machine_facts(device: torch.device) -> DeviceFacts:
    """Kind, memory and threads of ``device``, its speed not measured."""
    return DeviceFacts(kind=device.type, memory_gib=_memory_gib(device), threads=_threads())


def fastest_threads(
    config: TrainConfig, num_classes: int, size: int, device: torch.device
) -> tuple[int, float]:
    """(threads, seconds per image): torch's thread count, or one thread on a busy CPU.

    Threads that wait for each other on a CPU shared with other jobs run up to
    ten times slower than one thread alone (measured on a busy 2-core
    machine), so when the load average is at least the number of cores the
    run uses one thread - and only that is measured, so the probe stays short.
    """
    threads = torch.get_num_threads()
    busy = device.type == "cpu" and threads > 1 and not config.num_threads and _cpu_busy()
    if busy:
        torch.set_num_threads(1)
    try:
        seconds = measure_seconds_per_image(config, num_classes, size, device)
        return (1 if busy else threads), seconds
    finally:
        torch.set_num_threads(threads)


def _cpu_busy() -> bool:
    try:
        return os.getloadavg()[0] >= (os.cpu_count() or 1)
    except (OSError, AttributeError):  # no load average (Windows)
        return False


def measure_seconds_per_image(
    config: TrainConfig, num_classes: int, size: int, device: torch.device,
    batch: int = PROBE_BATCH,
) -> float:
    """Time of a training step per image at ``size``: one warm-up step, the faster of two."""
    rng_state = torch.get_rng_state()
    model = build_model("qtseg", **{"num_classes": num_classes, **config.model}).to(device)
    optimizer = build_optimizer(model.parameters(), config)  # the run's own optimiser
    images = torch.randn(batch, model.config.in_channels, size, size, device=device)
    masks = torch.randint(0, num_classes, (batch, size, size), device=device)
    times = []
    for _ in range(3):
        start = time.perf_counter()
        loss = torch.nn.functional.cross_entropy(model(images), masks)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        times.append(time.perf_counter() - start)
    torch.set_rng_state(rng_state)
    return min(times[1:]) / batch


def _memory_gib(device: torch.device) -> float:
    if device.type == "cuda":
        return torch.cuda.get_device_properties(device).total_memory / 2**30
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") / 2**30
    except (ValueError, OSError, AttributeError):  # no sysconf (Windows): assume a laptop
        return 8.0


def _threads() -> int:
    return torch.get_num_threads()


def describe(report: PlanReport) -> str:
    """A few lines for the terminal: what the data looks like and what was chosen, and why."""
    prints, plan = report.fingerprint, report.plan
    lines = [
        f"data: {prints.num_images} training / {prints.num_val_images} validation images, "
        f"median {prints.median_height}x{prints.median_width}, {prints.channels} channel(s), "
        f"class fractions {list(prints.class_fractions)}, thinnest objects "
        f"{_px(prints.object_thickness_px)}",
        f"device: {report.device.kind}, {report.device.threads} thread(s)" + _speed(report.device),
    ]
    if plan.keep_paper:
        lines.append("plan: the paper's recipe (" + plan.reasons.get("keep_paper", "") + ")")
        return "\n".join(lines)
    lines.append(
        f"plan: {plan.input_size}px, batch {plan.batch_size}, {plan.epochs} epochs "
        f"({plan.optimizer_steps} steps), warm-up {plan.warmup_epochs} + {plan.scheduler}, "
        f"lr {plan.lr:g}, {plan.augmentation} augmentation"
    )
    lines += [f"  {key}: {why}" for key, why in plan.reasons.items()]
    return "\n".join(lines)


def _px(value: float | None) -> str:
    return "none" if value is None else f"{value:.1f} px thick"


def _speed(device: DeviceFacts) -> str:
    if device.seconds_per_image is None:
        return ""
    return f", {device.seconds_per_image:.3f} s per image at {device.measured_at}px (measured)"
