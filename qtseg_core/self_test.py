"""The installation check behind ``qtseg-app --self-test``: open, load, predict, report.

Opens a workspace (the demo one unless a folder is given), loads its current
model (the bundled starter when it has none), predicts its first readable
image and reports one line a user can paste into a problem report. Qt-free:
the app adds the check that its window system starts.
"""

from __future__ import annotations

import platform
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qtseg_core import __version__
from qtseg_core.io import ImageReadError
from qtseg_core.resources import STARTER_MODEL, resource_path
from qtseg_core.workspace import ImageRecord, Workspace, WorkspaceError
from qtseg_core.workspace.scan import READABLE_FILES
from qtseg_core.workspace.schema import DB_NAME

EXIT_OK, EXIT_MISSING, EXIT_NOTHING_TO_SHOW = 0, 2, 3


class SelfTestError(Exception):
    """The check failed; ``exit_code`` is EXIT_MISSING or EXIT_NOTHING_TO_SHOW."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@dataclass(frozen=True)
class SelfTestReport:
    """What the check found, each figure as measured."""

    folder: Path
    images: int  # readable images (slices of a volume count one each)
    unreadable: int  # files the scan or the check could not decode
    model: str
    device: str
    image: str
    predict_s: float

    def summary(self) -> str:
        import torch

        return (f"qtseg-studio {__version__} OK: python {platform.python_version()}, "
                f"torch {torch.__version__}, device {self.device}, {self._counts()} in "
                f"{self.folder}, model {self.model}, predicted {self.image} in "
                f"{self.predict_s:.2f} s")

    def _counts(self) -> str:
        """e.g. '1 image', '24 images and 1 unreadable file'."""
        text = f"{self.images} image{'s' * (self.images != 1)}"
        if self.unreadable:
            text += f" and {self.unreadable} unreadable file{'s' * (self.unreadable != 1)}"
        return text


def run_self_test(folder: str | Path | None = None) -> SelfTestReport:
    """Open ``folder`` (default: the demo workspace), load its model, predict one image."""
    ws = _open(folder)
    try:
        images = ws.images()
        image, pixels, damaged = _first_readable(ws, images)
        path, label = _model_path(ws)
        unreadable = sum(not record.readable for record in images) + damaged
        return _predict(ws, image, pixels, path, label,
                        (len(images) - unreadable, unreadable))
    finally:
        ws.close()


def _open(folder: str | Path | None) -> Workspace:
    if folder is None:
        from qtseg_core.workspace.demo import ensure_demo_workspace

        try:
            folder = ensure_demo_workspace()
        except (OSError, WorkspaceError) as error:
            raise SelfTestError(f"the demo workspace cannot be built: {error}",
                                EXIT_MISSING) from error
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise SelfTestError(f"'{folder}' is not a folder; give a folder of images.", EXIT_MISSING)
    existing = (folder / DB_NAME).exists()  # read-only: no lock, nothing written
    try:
        return Workspace.open(folder, read_only=existing)
    except (OSError, WorkspaceError) as error:
        raise SelfTestError(f"cannot open '{folder}': {error}", EXIT_MISSING) from error


def _first_readable(ws: Workspace,
                    images: list[ImageRecord]) -> tuple[ImageRecord, np.ndarray, int]:
    """The first image whose pixels decode, its pixels and how many readable-looking images
    before it did not: the scan read only the headers, so a file with a sound header and
    damaged pixels is skipped here (and named if no image is left)."""
    problems, damaged = [], 0
    for image in images:
        if not image.readable:
            problems.append(f"{image.name}: {image.read_error}")
            continue
        try:
            return image, ws.read_image(image.id), damaged
        except ImageReadError as error:
            damaged += 1
            problems.append(f"{image.name}: {error.reason}")
    found = f"{len(images)} images, none readable" if images else "no images"
    first = f" (first: {problems[0]})" if problems else ""
    raise SelfTestError(f"'{ws.folder}' holds {found}{first}; QTSeg Studio shows "
                        f"{READABLE_FILES}.", EXIT_NOTHING_TO_SHOW)


def _model_path(ws: Workspace) -> tuple[Path, str]:
    current = ws.current_model()
    if current is not None:
        return Path(current.path), f"{current.version} ({Path(current.path).name})"
    try:
        return resource_path(STARTER_MODEL), "bundled starter (no model in the workspace)"
    except FileNotFoundError as error:
        raise SelfTestError(str(error), EXIT_MISSING) from error


def _predict(ws: Workspace, image: ImageRecord, pixels: np.ndarray, model_path: Path,
             label: str, counts: tuple[int, int]) -> SelfTestReport:
    from qtseg_core.inference import predictor_for

    try:
        predictor = predictor_for(model_path)
    except (OSError, ValueError, RuntimeError) as error:
        raise SelfTestError(f"the model {model_path} cannot be loaded: {error}",
                            EXIT_MISSING) from error
    start = time.perf_counter()
    predictor.predict(pixels)
    seconds = time.perf_counter() - start
    return SelfTestReport(ws.folder, *counts, label, str(predictor.device),
                          f"{image.name} ({pixels.shape[1]}x{pixels.shape[0]})", seconds)
