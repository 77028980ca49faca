"""`import qtseg_core`, `qtseg --help` and `qtseg --version` start without torch.

The heavy stack (torch, training, augmentation) loads only for the sub-command
that needs it, so the first thing a user types answers at once.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
HEAVY = ("torch", "qtseg_core.training", "qtseg_core.data.augment", "albumentations", "kornia")

_LOADED = """
import sys
{code}
print("LOADED:" + ",".join(sorted(m for m in {heavy!r} if m in sys.modules)))
"""


def loaded_after(code: str) -> str:
    script = _LOADED.format(code=code, heavy=HEAVY)
    result = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout.rpartition("LOADED:")[2].strip()


@pytest.mark.parametrize("argv", [["--help"], ["--version"]])
def test_qtseg_help_and_version_do_not_load_torch(argv):
    code = (f"from qtseg_core.cli import main\n"
            f"try:\n    main({argv!r})\nexcept SystemExit:\n    pass")
    assert loaded_after(code) == ""


def test_import_qtseg_core_does_not_load_torch():
    assert loaded_after("import qtseg_core, qtseg_core.resources") == ""


def test_a_subcommand_still_loads_what_it_needs():
    code = "import qtseg_core\nqtseg_core.build_model"
    assert "torch" in loaded_after(code).split(",")


def test_every_command_module_is_listed():
    from qtseg_core.cli import COMMANDS

    helpers = {"__init__", "arguments"}  # arguments.py: the flag types every command shares
    modules = {path.stem for path in (REPO / "qtseg_core" / "cli").glob("*.py")} - helpers
    assert modules == {module for module, _ in COMMANDS.values()}
