"""How long `qtseg --help` takes against `python -c "import torch"` (the goal: at most half),
and how soon `qtseg-app` has its splash on screen.

    python benchmarks/startup.py [--runs 7]

Each command runs in a fresh interpreter; the figures are medians of wall time
in seconds, measured in this one run (so machine load affects both alike).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
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
COMMANDS = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "python -c 'import torch'": [sys.executable, "-c", "import torch"],
    "qtseg --help": [sys.executable, "-m", "qtseg_core", "--help"],
    "qtseg --version": [sys.executable, "-m", "qtseg_core", "--version"],
    "qtseg-app to its splash": [sys.executable, "-c", TO_SPLASH, str(REPO)],
}


def wall_time(command: list[str]) -> float:
    start = time.perf_counter()
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    subprocess.run(command, cwd=REPO, check=True, stdout=subprocess.DEVNULL, env=env)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    runs = parser.parse_args().runs
    for command in COMMANDS.values():  # warm the file cache once
        wall_time(command)
    # Interleave the commands so a change of machine load hits all of them.
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _ in range(runs):
        for name, command in COMMANDS.items():
            times[name].append(wall_time(command))
    medians = {name: statistics.median(values) for name, values in times.items()}
    torch_s = medians["python -c 'import torch'"]
    for name, seconds in medians.items():
        print(f"{name:28s} {seconds:6.3f} s  ({seconds / torch_s:4.2f} x import torch)")


if __name__ == "__main__":
    main()
