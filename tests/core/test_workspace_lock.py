"""Two processes on one workspace: the second is refused by name, a killed holder
blocks nobody, and whatever it committed before the kill is all there."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from qtseg_core.workspace import MaskKind, Workspace, WorkspaceLockedError
from tests.core.workspace_helpers import demo_folder

REPO = Path(__file__).resolve().parents[2]

# Opens the workspace, then saves corrections as fast as it can, printing each
# committed one, until it is killed.
_HOLDER = textwrap.dedent("""
    import sys
    import numpy as np
    from qtseg_core.workspace import Workspace
    ws = Workspace.open(sys.argv[1])
    image_id = ws.images()[0].id
    print("open", flush=True)
    for size in range(1, 10_000):
        mask = np.zeros((256, 256), np.uint8)
        mask[:size % 256 + 1, :7] = 1
        version = ws.save_correction(image_id, mask, "holder")
        print("saved", version.id, int(mask.sum()), flush=True)
""")


@pytest.fixture
def holder(tmp_path):
    folder = demo_folder(tmp_path, ("brain1_z011",))
    Workspace.open(folder).close()
    process = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(folder)], cwd=REPO, stdout=subprocess.PIPE, text=True
    )
    yield folder, process
    if process.poll() is None:
        process.kill()
    process.wait(timeout=10)
    process.stdout.close()


def test_second_opener_is_refused_and_killed_holder_loses_nothing(holder):
    folder, process = holder
    assert process.stdout.readline().strip() == "open"
    saved = [process.stdout.readline().split() for _ in range(5)]
    with pytest.raises(WorkspaceLockedError) as refused:
        Workspace.open(folder)
    assert refused.value.pid == process.pid
    assert f"process {process.pid}" in str(refused.value) and "open a copy" in str(refused.value)

    os.kill(process.pid, signal.SIGKILL)  # in the middle of its saving loop
    process.wait(timeout=10)
    saved += [line.split() for line in process.stdout.read().splitlines()]
    with Workspace.open(folder) as ws:  # the dead process's lock does not block
        versions = {v.id: v for v in ws.mask_versions(ws.images()[0].id)}
        for _, version_id, pixels in saved:
            version = versions[int(version_id)]
            assert version.kind is MaskKind.CORRECTION
            assert int(ws.read_mask(version).sum()) == int(pixels)
        assert ws._query("PRAGMA integrity_check")[0][0] == "ok"


def test_same_process_cannot_open_twice_for_writing(tmp_path):
    folder = demo_folder(tmp_path, ("brain1_z011",))
    with Workspace.open(folder):
        with pytest.raises(WorkspaceLockedError, match=str(os.getpid())):
            Workspace.open(folder)
    Workspace.open(folder).close()  # released on close


# Windows has no fcntl: the lock must still import and still refuse a second opener.
_WITHOUT_FCNTL = textwrap.dedent("""
    import sys
    sys.modules["fcntl"] = None  # import fcntl now raises ImportError, as on Windows
    from qtseg_core.workspace import Workspace, WorkspaceLockedError
    with Workspace.open(sys.argv[1]):
        try:
            Workspace.open(sys.argv[1])
        except WorkspaceLockedError as error:
            print(error.pid, error)
    Workspace.open(sys.argv[1]).close()
    print("reopened")
""")


def test_the_lock_works_without_fcntl(tmp_path):
    folder = demo_folder(tmp_path, ("brain1_z011",))
    result = subprocess.run([sys.executable, "-c", _WITHOUT_FCNTL, str(folder)], cwd=REPO,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    refused, reopened = result.stdout.splitlines()
    pid = refused.split()[0]
    assert pid.isdigit() and f"process {pid}" in refused and reopened == "reopened"
