"""The demo workspace: real images and licences shipped in ``resources/demo``.

``qtseg-app`` with no argument opens :func:`default_demo_location`, built on
first start by :func:`ensure_demo_workspace`.
"""

from __future__ import annotations

from pathlib import Path

DEMO_RESOURCES = Path(__file__).resolve().parents[2] / "resources" / "demo"


def default_demo_location() -> Path:
    """Per-user folder for the demo workspace (e.g. ~/.local/share/qtseg-studio/demo)."""
    raise NotImplementedError


def build_demo_workspace(dest: str | Path, *, starter_model: Path | None = None) -> Path:
    """Copy the demo images into ``dest/images`` and create a workspace there.

    Groups are the volume ids (the name before ``_z``). The starter model is
    registered as current when one is given or shipped. Returns ``dest``.
    """
    raise NotImplementedError


def ensure_demo_workspace(dest: str | Path | None = None) -> Path:
    """The demo workspace folder, built on first use (kept as the user left it after)."""
    raise NotImplementedError
