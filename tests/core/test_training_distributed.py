"""The torchrun path on the CPU: two gloo processes train one model, rank 0 writes the run."""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from qtseg_core.checkpoint import load_model
from qtseg_core.models import build_model
from qtseg_core.training import read_metrics, train
from qtseg_core.training.distributed import (
    DistributedContext,
    is_main_process,
    per_process_batch,
    wrap_model,
)
from tests.core.test_training_fixtures import (  # noqa: F401
    TINY_MODEL,
    make_generic_dataset,
    one_torch_thread,
    tiny_config,
)


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


def _node_local_worker(rank: int, world: int, port: int, data: str, root: str) -> None:
    """Each rank given its own run folder, as with node-local disks on two machines."""
    os.environ.update({"RANK": str(rank), "WORLD_SIZE": str(world), "LOCAL_RANK": "0",
                       "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port)})
    torch.set_num_threads(1)
    start = time.monotonic()
    try:
        train(tiny_config(Path(data), Path(root) / f"node{rank}", epochs=1, batch_size=2))
        outcome = "trained"
    except RuntimeError as error:
        outcome = str(error)
    torch.save({"outcome": outcome, "seconds": time.monotonic() - start},
               Path(root) / f"rank{rank}.pt")
    dist.destroy_process_group()


@pytest.mark.slow
def test_run_folders_not_shared_between_nodes_fail_fast_on_every_rank(tmp_path):
    data = make_generic_dataset(tmp_path / "data")
    mp.spawn(_node_local_worker, args=(2, _free_port(), str(data), str(tmp_path)), nprocs=2,
             join=True)
    reports = [torch.load(tmp_path / f"rank{r}.pt", weights_only=True) for r in (0, 1)]
    for report in reports:
        assert "is not shared between the processes: rank(s) 1 do not see" in report["outcome"]
        assert report["seconds"] < 60  # failed at start, nobody hung waiting for the other
    assert not (tmp_path / "node0" / "last.safetensors").exists()


def test_batch_size_is_the_global_batch_split_over_the_processes():
    four = DistributedContext(rank=1, world_size=4)
    assert per_process_batch(32, four) == 8
    assert per_process_batch(8, DistributedContext()) == 8
    with pytest.raises(ValueError, match="--batch-size 10 is the global batch.*multiple of 4"):
        per_process_batch(10, four)


def test_sync_bn_on_the_cpu_is_refused_at_start_with_the_fix():
    model = build_model("qtseg", **TINY_MODEL)
    with pytest.raises(ValueError, match="--sync-bn needs CUDA.*Leave --sync-bn out"):
        wrap_model(model, DistributedContext(rank=0, world_size=2), sync_batchnorm=True)
    assert wrap_model(model, DistributedContext(), sync_batchnorm=True) is model  # one process


def test_only_rank_0_prints_the_summary(monkeypatch):
    monkeypatch.delenv("RANK", raising=False)
    assert is_main_process()
    monkeypatch.setenv("RANK", "1")
    assert not is_main_process()


def test_each_rank_takes_the_gpu_of_its_local_rank(monkeypatch):
    from qtseg_core.device import pick_device

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 4)
    monkeypatch.setenv("LOCAL_RANK", "2")
    assert pick_device("cuda") == torch.device("cuda", 2)
    assert pick_device(None) == torch.device("cuda", 2)
    assert pick_device("cuda:1") == torch.device("cuda", 1)
    monkeypatch.setenv("LOCAL_RANK", "5")
    with pytest.raises(RuntimeError, match="LOCAL_RANK=5 but this node has 4 GPU"):
        pick_device("cuda")
