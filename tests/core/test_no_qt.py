"""qtseg_core must never import Qt: it runs on training servers without a display."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import qtseg_core


def test_importing_all_of_qtseg_core_loads_no_qt():
    modules = [m.name for m in pkgutil.walk_packages(qtseg_core.__path__, "qtseg_core.")
               if not m.name.endswith("__main__")]
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('PySide6', 'pyqtgraph', 'qtseg_app', 'PyQt5', 'PyQt6'))\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""
