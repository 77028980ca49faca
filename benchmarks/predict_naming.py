"""How long ``qtseg predict`` takes to plan its outputs before the model runs.

    python benchmarks/predict_naming.py [--files 10000] [--folders 100]

Writes ``--files`` empty ``.png`` files spread over ``--folders`` folders that
all hold the same names (so every name collides ``--folders`` times: the worst
case for naming) and prints, measured in this run:

- ``find_inputs`` (listing, unique names) over the files given one by one
  (each name's stem is its output name, so the collisions are real);
- the output-folder check of every planned file (``check_output_folder``)
  and the manifest;
- for comparison, the naming ``qtseg predict`` used before (each new name
  compared with every name written so far: O(n^2)) on the first
  ``--old-files`` of them, and that carried over to ``--files`` (quadratic).

The machine's load average is printed with the figures.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from qtseg_core.classes import default_colors  # noqa: E402
from qtseg_core.predict import PngMaskWriter, find_inputs  # noqa: E402
from qtseg_core.predict.job import write_manifest  # noqa: E402
from qtseg_core.predict.outputs import check_output_folder  # noqa: E402


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--folders", type=int, default=100)
    parser.add_argument("--old-files", type=int, default=2_000)
    return parser.parse_args()


def write_files(root: Path, files: int, folders: int) -> list[Path]:
    paths = []
    for index in range(files):
        folder = root / f"site{index % folders:03d}"
        folder.mkdir(parents=True, exist_ok=True)
        paths.append(folder / f"case{index // folders:05d}.png")
        paths[-1].write_bytes(b"")
    return paths


def old_names(paths: list[Path]) -> list[str]:
    """The naming before: each name compared with the stems of every mask written so far."""
    written: list[str] = []
    for path in paths:
        taken = {Path(name).stem for name in written}
        name, count = path.stem, 1
        while name in taken:
            count += 1
            name = f"{path.stem}_{count}"
        written.append(f"{name}.png")
    return written


def timed(function, *args):  # noqa: ANN001, ANN201
    start = time.perf_counter()
    result = function(*args)
    return time.perf_counter() - start, result


def main() -> None:
    args = parse_args()
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory(prefix="qtseg-naming-bench-") as scratch:
        root = Path(scratch)
        paths = write_files(root / "in", args.files, args.folders)
        out = root / "out"
        naming, items = timed(find_inputs, paths)
        renamed = sum(item.renamed for item in items)
        writer = PngMaskWriter(out, default_colors(2))
        planned = [p for item in items for p in writer.outputs(item.name)]
        check, _ = timed(check_output_folder, [item.path for item in items], out, planned)
        out.mkdir()
        manifest, _ = timed(write_manifest, out, items, writer)
        print(f"{args.files} files ({renamed} renamed): names {naming * 1000:.0f} ms, output "
              f"check {check * 1000:.0f} ms, manifest {manifest * 1000:.0f} ms")
        count = min(args.old_files, args.files)
        old, _ = timed(old_names, paths[:count])
        print(f"old naming on {count} files: {old:.2f} s; carried over (n^2) to {args.files}: "
              f"{old * (args.files / count) ** 2:.0f} s")
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
