"""The torchrun path on the CPU: two gloo processes train one model, rank 0 writes the run."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from qtseg_core.checkpoint import load_model
from qtseg_core.training import read_metrics, train
from tests.core.test_training_fixtures import make_generic_dataset, one_torch_thread, tiny_config  # noqa: F401


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _worker(rank: int, world: int, port: int, data: str, run: str, out: str) -> None:
    """What torchrun would start: its environment variables, then the same train() call."""
    os.environ.update(
        {
            "RANK": str(rank),
            "WORLD_SIZE": str(world),
            "LOCAL_RANK": str(rank),
            "MASTER_ADDR": "127.0.0.1",
            "MASTER_PORT": str(port),
        }
    )
    torch.set_num_threads(1)
    result = train(tiny_config(Path(data), Path(run), epochs=2, batch_size=2))
    state = {
        "status": result.status,
        "best": result.best_val_dice,
        "losses": [record["train_loss"] for record in result.history],
    }
    torch.save(state, Path(out) / f"rank{rank}.pt")
    dist.destroy_process_group()


@pytest.mark.slow
def test_two_gloo_processes_train_in_step_and_only_rank_0_writes(tmp_path):
    data = make_generic_dataset(tmp_path / "data")
    run, out = tmp_path / "run", tmp_path / "out"
    out.mkdir()
    mp.spawn(_worker, args=(2, _free_port(), str(data), str(run), str(out)), nprocs=2, join=True)

    reports = [torch.load(out / f"rank{r}.pt", weights_only=True) for r in (0, 1)]
    assert [r["status"] for r in reports] == ["completed", "completed"]
    assert reports[0]["best"] == reports[1]["best"]  # validation summed over both shards
    assert reports[0]["losses"] == reports[1]["losses"]  # losses averaged over both
    records = read_metrics(run)
    assert [r["epoch"] for r in records] == [0, 1]  # one log, written once (rank 0)
    assert load_model(run / "best.safetensors").config.base_width == 8
