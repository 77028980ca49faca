"""Files shipped inside the package: the starter model, the demo images, the app icon.

Everything is found through :func:`resource_path` (``importlib.resources``), so
the same lookup works from a source checkout, an editable install and a wheel.
The app reads its icon through here too (this module does not import Qt).

Layout::

    models/starter.safetensors  models/MODEL_CARD.md
    demo/images/*.png  demo/ground_truth/*.png  demo/LICENSES.md
    icons/qtseg.svg  icons/qtseg.png
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

STARTER_MODEL = "models/starter.safetensors"
MODEL_CARD = "models/MODEL_CARD.md"
DEMO_IMAGES = "demo/images"
DEMO_GROUND_TRUTH = "demo/ground_truth"
DEMO_LICENSES = "demo/LICENSES.md"
APP_ICON = "icons/qtseg.png"
MODEL_HELP = ".safetensors checkpoint, or a bundled model by name (starter)"


def resource_path(relative: str) -> Path:
    """The file or folder ``relative`` (e.g. ``"models/starter.safetensors"``) on disk.

    Raises ``FileNotFoundError`` naming the path when it is not installed.
    """
    found = files(__name__).joinpath(relative)
    if not isinstance(found, Path):  # a zipped install: resources are not plain files
        raise FileNotFoundError(f"QTSeg Studio's resources are inside an archive ({found}); "
                                "install it as files, e.g. `pip install qtseg-studio`.")
    if not found.exists():
        raise FileNotFoundError(f"The bundled resource '{relative}' is missing from "
                                f"{found.parent}; the installation is incomplete: reinstall "
                                "QTSeg Studio (pip install --force-reinstall qtseg-studio).")
    return found


def bundled_models() -> list[Path]:
    """The ``.safetensors`` models shipped with QTSeg Studio (the starter model first)."""
    folder = resource_path("models")
    starter = resource_path(STARTER_MODEL)
    others = sorted(p for p in folder.glob("*.safetensors") if p != starter)
    return [starter, *others]


def find_model(name_or_path: str) -> Path:
    """A checkpoint named on a command line: a path as given, or the short name of a
    bundled model (``starter``) when no such file exists here."""
    given = Path(name_or_path).expanduser()
    if given.exists() or given.suffix:
        return given
    try:
        models = bundled_models()
    except FileNotFoundError:
        return given  # the caller's reader names the missing file
    by_name = {model.stem: model for model in models}
    return by_name.get(name_or_path, given)
