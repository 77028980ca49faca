"""The weight average (EMA): what it holds, and that a run validates, saves and resumes it."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn

from qtseg_core.checkpoint import load_model
from qtseg_core.training import resume_training, train
from qtseg_core.training.state import load_training_state
from qtseg_core.training.weight_average import WeightAverage
from tests.core.test_training_fixtures import (  # noqa: F401
    make_generic_dataset,
    one_torch_thread,
    tiny_config,
)


def test_the_average_forgets_the_start_quickly_then_moves_by_one_minus_decay():
    network = nn.Linear(2, 1)
    with torch.no_grad():
        network.weight.fill_(0.0)
    average = WeightAverage(network, decay=0.5)
    with torch.no_grad():
        network.weight.fill_(1.0)
    average.update(network)  # first update keeps 1/10 of the start
    assert average.model.weight.flatten().tolist() == pytest.approx([0.9, 0.9])
    for _ in range(20):
        average.update(network)
    with torch.no_grad():
        network.weight.fill_(3.0)
    before = average.model.weight.clone()
    average.update(network)  # now the full decay: half-way to the trained weights
    assert torch.allclose(average.model.weight, (before + 3.0) / 2)
    assert not average.model.weight.requires_grad


def test_a_decay_outside_0_1_is_refused_with_the_value():
    with pytest.raises(ValueError, match="ema_decay=1.5"):
        WeightAverage(nn.Linear(1, 1), decay=1.5)


def _weights(path: Path) -> dict[str, torch.Tensor]:
    return load_model(path).state_dict()


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_generic_dataset(tmp_path_factory.mktemp("data") / "set")


@pytest.fixture(scope="module")
def averaged_run(dataset, tmp_path_factory: pytest.TempPathFactory):
    """A 2-epoch run that validates and saves the weight average."""
    return train(tiny_config(dataset, tmp_path_factory.mktemp("runs") / "run", ema_decay=0.9))


def test_a_run_with_ema_saves_the_average_not_the_trained_weights(averaged_run):
    result = averaged_run
    state = load_training_state(result.run_dir / "resume.pt")
    saved = _weights(result.last_checkpoint)

    averaged = state["average"]["weights"]
    assert state["average"]["updates"] == 2 * 2  # 6 training images, batch 3, 2 epochs
    assert all(torch.equal(saved[name], averaged[name]) for name in saved)
    differs = [name for name in saved if not torch.equal(saved[name], state["model"][name])]
    assert len(differs) > len(saved) // 2  # the trained weights are elsewhere


def test_resume_continues_the_average_exactly(dataset, averaged_run, tmp_path):
    straight = averaged_run
    first = train(tiny_config(dataset, tmp_path / "split", ema_decay=0.9, epochs=1))
    resumed = resume_training(first.run_dir, epochs=2)

    expected, got = _weights(straight.last_checkpoint), _weights(resumed.last_checkpoint)
    assert all(torch.equal(expected[name], got[name]) for name in expected)
    assert resumed.history[-1]["val_dice"] == straight.history[-1]["val_dice"]
