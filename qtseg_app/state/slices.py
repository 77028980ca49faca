"""Slices of a volume in the review session: neighbours, the index shown, the window.

A volume's slices are images of the workspace (``ImageRecord.volume_id`` and
``slice_index``); these helpers step through them in slice order whatever the
list's order, and start the display window from the DICOM window tags.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from qtseg_app.editing.geometry import change_from_arrays
from qtseg_app.state.levels import WindowLevel
from qtseg_core.workspace import ImageRecord, Workspace

if TYPE_CHECKING:
    from qtseg_app.state.session import ReviewSession


def neighbour_slice(ws: Workspace, record: ImageRecord, step: int) -> ImageRecord | None:
    """The slice ``step`` away in the same volume; None past either end or outside volumes."""
    if record.volume_id is None:
        return None
    slices = ws.volume_slice_ids(record.volume_id)
    index = record.slice_index + step
    return ws.image(slices[index]) if 0 <= index < len(slices) else None


def neighbour_slice_ids(ws: Workspace, record: ImageRecord, count: int) -> list[int]:
    """Ids of the ``count`` slices nearest to ``record`` in its volume, next before
    previous (+1, -1, +2, ...): what the user opens next scrolling either way."""
    slices = ws.volume_slice_ids(record.volume_id)
    steps = [sign * distance for distance in range(1, len(slices)) for sign in (1, -1)]
    nearby = [record.slice_index + step for step in steps]
    return [slices[i] for i in nearby if 0 <= i < len(slices)][:count]


def slice_caption(ws: Workspace, record: ImageRecord) -> str:
    """e.g. "brain: slice 3 / 40 · 0.80 × 0.90 mm, 2.50 mm apart"; "" outside volumes."""
    if record.volume_id is None:
        return ""
    volume = ws.read_volume(record.volume_id)
    slice_mm, row_mm, col_mm = volume.spacing
    name = ws.volume(record.volume_id).name
    return (f"{name}: slice {record.slice_index + 1} / {volume.num_slices} · "
            f"{col_mm:.2f} × {row_mm:.2f} mm, {slice_mm:.2f} mm apart")


def stored_window(ws: Workspace, record: ImageRecord) -> WindowLevel | None:
    """The window the scanner stored (DICOM WindowCenter/WindowWidth), if any."""
    if record.volume_id is None:
        return None
    window = ws.volume(record.volume_id).window
    return WindowLevel(*window) if window else None


class SliceEdits:
    """Edits that reach beyond the slice on screen: copy its mask to a neighbour, fill the
    slices between edited ones."""

    def __init__(self, session: ReviewSession) -> None:
        self.session = session
        session.saved.connect(self._say_area)

    def _say_area(self, image_id: int) -> None:
        """After a save on a slice: the mask's area in mm² and its slab's volume in mL."""
        document, ws = self.session.document, self.session.ws
        if document is None or document.image_id != image_id or \
                document.record.volume_id is None:
            return
        geometry = ws.read_volume(document.record.volume_id).geometry
        pixels = int(np.count_nonzero(document.mask))
        self.session.say(f"mask: {pixels * geometry.pixel_area_mm2:.1f} mm², "
                         f"{pixels * geometry.voxel_volume_ml:.3f} mL in this slice")

    def copy_mask_to_slice(self, step: int = 1) -> None:
        """Open the neighbouring slice with the mask on screen painted onto it (one undoable
        edit there, saved like any other)."""
        session, document = self.session, self.session.document
        if document is None or document.record.volume_id is None:
            session.say("Copying a mask needs a slice of a volume on screen.")
            return
        neighbour = neighbour_slice(session.ws, document.record, step)
        if neighbour is None:
            session.say("No slice there to copy the mask to.")
            return
        mask, source = document.mask.copy(), document.record.slice_index + 1
        session.open_image(neighbour.id)
        if session.document is not None:
            session.tools.apply(change_from_arrays(session.document.mask, mask),
                                f"mask copied from slice {source}")

    def fill_between_slices(self) -> None:
        """Interpolate the slices between edited slices of the volume on screen."""
        session = self.session
        record = session.document.record if session.document is not None else None
        if record is None or record.volume_id is None or not session.save():
            session.say("Filling between slices needs a slice of a volume on screen.")
            return
        filled = session.ws.fill_between_slices(record.volume_id, session.ws.reviewer_name)
        for image_id in filled:
            session.refresh_record(image_id)
        if record.id in filled:  # show the new mask of the slice on screen
            session.document, session.current_id = None, None
            session.open_image(record.id)
        session.say(f"Filled {len(filled)} slice(s) between the edited ones." if filled else
                    "Edit two slices of the volume first; the slices between them are filled.")
