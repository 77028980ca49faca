"""How long `qtseg --help` takes against `python -c "import torch"` (the goal: at most half),
how soon `qtseg-app` has its splash on screen and its window up, and the longest
the splash waits between two progress messages while torch loads in the background.

    python benchmarks/startup.py [--runs 7]

Each command runs in a fresh interpreter; the figures are medians of wall time
in seconds, measured in this one run (so machine load affects both alike).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# qtseg-app up to its splash (offscreen), then exit: start-to-splash wall time.
TO_SPLASH = """
import os, sys
from PySide6 import QtWidgets
QtWidgets.QSplashScreen.show = lambda self: os._exit(0)
from qtseg_app.__main__ import main
main([sys.argv[1]])
"""
# qtseg-app up to its main window (offscreen), then exit; prints the longest time the
# splash went without a new progress message (the splash is frozen while none comes).
TO_WINDOW = """
import os, sys, time
from PySide6 import QtWidgets
stamps = []
message = QtWidgets.QSplashScreen.showMessage
def record(self, *args):
    stamps.append(time.perf_counter())
    message(self, *args)
def shown(self):
    stamps.append(time.perf_counter())
    print(max(b - a for a, b in zip(stamps, stamps[1:])), flush=True)
    os._exit(0)
QtWidgets.QSplashScreen.showMessage = record
QtWidgets.QMainWindow.show = shown
from qtseg_app.__main__ import main
main([sys.argv[1]])
"""
# The app opens a workspace of one demo image in a temporary folder (never the checkout).
WORKSPACE = Path(tempfile.mkdtemp(prefix="qtseg-startup-"))
shutil.copy(next((REPO / "qtseg_core" / "resources" / "demo" / "images").glob("*.png")), WORKSPACE)
COMMANDS = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "python -c 'import torch'": [sys.executable, "-c", "import torch"],
    "qtseg --help": [sys.executable, "-m", "qtseg_core", "--help"],
    "qtseg --version": [sys.executable, "-m", "qtseg_core", "--version"],
    "qtseg-app to its splash": [sys.executable, "-c", TO_SPLASH, str(WORKSPACE)],
    "qtseg-app to its window": [sys.executable, "-c", TO_WINDOW, str(WORKSPACE)],
}


def wall_time(command: list[str], printed: list[str] | None = None) -> float:
    start = time.perf_counter()
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run(command, cwd=REPO, check=True, capture_output=True, text=True, env=env)
    if printed is not None and done.stdout.strip():
        printed.append(done.stdout.strip().splitlines()[-1])
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    runs = parser.parse_args().runs
    for command in COMMANDS.values():  # warm the file cache once
        wall_time(command)
    # Interleave the commands so a change of machine load hits all of them.
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    gaps: list[str] = []
    for _ in range(runs):
        for name, command in COMMANDS.items():
            times[name].append(wall_time(command, gaps if command[2] is TO_WINDOW else None))
    medians = {name: statistics.median(values) for name, values in times.items()}
    torch_s = medians["python -c 'import torch'"]
    for name, seconds in medians.items():
        print(f"{name:28s} {seconds:6.3f} s  ({seconds / torch_s:4.2f} x import torch)")
    longest = statistics.median(float(g) for g in gaps)
    print(f"longest wait between two splash progress messages (median of runs): {longest:.3f} s")


if __name__ == "__main__":
    main()
