"""One ONNX export job at a time: new models in many short runs never pile up exports.

Seen on the 2-core machine: a test run with onnxruntime installed left 25
export jobs running at once (load 42). The job process, not its caller,
holds the lock, so it lasts until the export ends.
"""

from __future__ import annotations

import fcntl
import os
import sys
import threading
import time
from pathlib import Path

import pytest

from qtseg_core.models import onnx_runtime

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="flock is POSIX")


class FakeJob:
    """Stands for the export process: holds the inherited lock, writes the graph when told."""

    def __init__(self, graph: Path, inherited: int) -> None:
        self.graph, self.returncode, self.done = graph, None, threading.Event()
        self.lock = os.dup(inherited)  # as a child process inherits the descriptor

    def poll(self) -> int | None:
        if self.done.is_set() and self.returncode is None:
            self.graph.write_bytes(b"graph")
            os.close(self.lock)  # the process ended
            self.returncode = 0
        return self.returncode


@pytest.fixture
def jobs(monkeypatch) -> list[FakeJob]:
    started: list[FakeJob] = []

    def popen(command, **kwargs):
        (inherited,) = kwargs["pass_fds"]  # the job must inherit the lock
        started.append(FakeJob(Path(command[-1]), inherited))
        return started[-1]

    monkeypatch.setattr(onnx_runtime.subprocess, "Popen", popen)
    monkeypatch.setattr(onnx_runtime, "save_prepared", lambda network, path: None)
    return started


def export_in_thread(graph: Path) -> threading.Thread:
    thread = threading.Thread(target=onnx_runtime._export_elsewhere, args=(None, graph))
    thread.start()
    return thread


def wait_for(condition, seconds: float = 10.0) -> None:
    end = time.monotonic() + seconds
    while not condition() and time.monotonic() < end:
        time.sleep(0.05)


def test_a_second_export_waits_for_the_running_one(tmp_path, jobs):
    first = export_in_thread(tmp_path / "a.onnx")
    wait_for(lambda: len(jobs) == 1)
    second = export_in_thread(tmp_path / "b.onnx")
    time.sleep(1.5)
    assert len(jobs) == 1  # b waits while a's job runs
    jobs[0].done.set()
    wait_for(lambda: len(jobs) == 2)
    assert len(jobs) == 2
    jobs[1].done.set()
    first.join(10), second.join(10)
    assert (tmp_path / "a.onnx").exists() and (tmp_path / "b.onnx").exists()


def test_a_lock_held_by_another_process_blocks_until_released(tmp_path, jobs):
    with open(tmp_path / onnx_runtime.EXPORT_LOCK, "a+b") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)
        waiting = export_in_thread(tmp_path / "a.onnx")
        time.sleep(1.5)
        assert jobs == []
    wait_for(lambda: len(jobs) == 1)
    jobs[0].done.set()
    waiting.join(10)
    assert (tmp_path / "a.onnx").exists()


def test_waiting_for_the_same_model_exports_it_once(tmp_path, jobs):
    graph = tmp_path / "same.onnx"
    first = export_in_thread(graph)
    wait_for(lambda: len(jobs) == 1)
    second = export_in_thread(graph)
    time.sleep(1.0)
    jobs[0].done.set()
    first.join(10), second.join(10)
    assert len(jobs) == 1 and graph.exists()
