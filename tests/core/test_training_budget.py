"""`--budget-minutes`: the run stops on time, keeps its best validation epoch, adapts to speed."""

from __future__ import annotations

import time

import pytest

from qtseg_core.checkpoint import read_metadata
from qtseg_core.training import train
from qtseg_core.training.budget import TimeBudget
from tests.core.test_training_fixtures import (  # noqa: F401
    make_generic_dataset,
    one_torch_thread,
    tiny_config,
)


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_budget_keeps_back_the_closing_time_and_refuses_a_last_epoch_too_short_to_matter():
    clock = FakeClock()
    budget = TimeBudget(seconds=60, clock=clock)
    assert budget.room_for_another_epoch()  # nothing measured yet: the first epoch measures
    for seconds in (10, 10, 25):
        clock.now += seconds
        assert budget.mark_epoch() == seconds
    budget.note_closing(4.0)  # validation + checkpoints of an epoch
    assert budget.typical_epoch() == 25 and budget.fraction_done() == pytest.approx(0.75)
    assert budget.training_left() == pytest.approx(11.0)  # 60 - 45 used - 4 kept back
    assert budget.room_for_another_epoch()  # 11 s train a useful part of a 21 s epoch
    clock.now += 7
    assert not budget.room_for_another_epoch()  # 4 s: under a quarter of an epoch
    assert budget.expected_epochs() == 2 and not budget.out_of_time()
    clock.now += 4
    assert budget.out_of_time() and budget.fraction_done() < 1.0  # the closing time is left


def test_budget_counts_the_time_a_resumed_run_already_spent():
    budget = TimeBudget(seconds=60, clock=FakeClock(), already_spent=50)
    assert budget.elapsed() == 50 and budget.fraction_done() == pytest.approx(50 / 60)


@pytest.mark.slow
def test_a_one_minute_budget_stops_within_seconds_of_it_and_keeps_the_best_epoch(tmp_path):
    data = make_generic_dataset(tmp_path / "data", volumes=3, slices=4)
    # A process's first training steps pay a one-off start-up (tens of seconds on a busy
    # machine); pay it here so the timing below measures the budget, not the start-up.
    train(tiny_config(data, tmp_path / "warm-up", epochs=1))
    config = tiny_config(
        data, tmp_path / "run", epochs=100_000, budget_minutes=1.0, scheduler="cosine"
    )
    start = time.monotonic()
    result = train(config)
    wall = time.monotonic() - start
    epoch_times = [record["epoch_time_s"] for record in result.history]
    assert result.status == "out_of_time" and len(epoch_times) >= 2
    assert 60 - 2 * max(epoch_times[-3:]) - 5 <= wall <= 60 + 6
    scores = [record["val_dice"] for record in result.history]
    assert result.best_epoch == scores.index(max(scores))
    saved = read_metadata(result.best_checkpoint).provenance
    assert int(saved["epoch"]) == result.best_epoch + 1
    assert result.history[-1]["lr"] < 0.5 * config.lr  # the cosine follows the elapsed time


def test_a_budget_spent_before_the_first_epoch_still_trains_and_keeps_one(tmp_path):
    data = make_generic_dataset(tmp_path / "data")
    result = train(tiny_config(data, tmp_path / "run", epochs=50, budget_minutes=1e-4))
    assert result.status == "out_of_time" and result.epochs_completed == 1
    assert result.best_checkpoint is not None and result.best_checkpoint.exists()


def test_a_budgeted_run_prints_minutes_used_not_its_epoch_ceiling(tmp_path, capsys):
    data = make_generic_dataset(tmp_path / "data")
    train(tiny_config(data, tmp_path / "run", epochs=1000, budget_minutes=1e-4, log_every=1))
    printed = capsys.readouterr().err
    assert "epoch 1 (" in printed and " of 0.0001 min)" in printed
    assert "/1000" not in printed  # the ceiling is no plan: the run stops on time
