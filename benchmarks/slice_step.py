"""Stepping through a volume's slices in the app's state layer (no Qt, no model).

Prints the time of ``Workspace.volume_slices`` (records) against
``Workspace.volume_slice_ids`` (ids only, what a slice step uses) and of one
``ReviewSession.open_slice(1)`` (save, read the slice from the cached volume,
the caption, the neighbours) on a synthetic NIfTI of ``--slices`` slices.

    OMP_NUM_THREADS=1 python benchmarks/slice_step.py --slices 300
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import nibabel as nib
import numpy as np

from qtseg_app.state import ReviewSession
from qtseg_core.workspace import Workspace


def _timed(action: object, repeats: int) -> float:
    """Mean milliseconds of ``action()`` over ``repeats`` calls."""
    start = time.perf_counter()
    for _ in range(repeats):
        action()
    return (time.perf_counter() - start) / repeats * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slices", type=int, default=300)
    parser.add_argument("--size", type=int, default=256, help="rows and columns per slice")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        voxels = np.random.default_rng(0).integers(0, 1000, (args.size, args.size, args.slices))
        nib.save(nib.Nifti1Image(voxels.astype(np.int16), np.eye(4)), str(folder / "ct.nii.gz"))
        with Workspace.open(folder) as ws:
            (volume,) = ws.volumes()
            records = _timed(lambda: ws.volume_slices(volume.id), 10)
            ids = _timed(lambda: ws.volume_slice_ids(volume.id), 10)
            session = ReviewSession(ws)
            session.start()  # opens slice 0 (reads and caches the volume)
            step = _timed(lambda: session.open_slice(1), min(50, args.slices - 1))
    print(f"{args.slices} slices of {args.size}x{args.size}: volume_slices {records:.1f} ms, "
          f"volume_slice_ids {ids:.2f} ms ({records / ids:.0f}x), one slice step "
          f"(open_slice) {step:.1f} ms")


if __name__ == "__main__":
    main()
