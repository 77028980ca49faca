"""Slices of a volume in the review session: neighbours, the index shown, the window.

A volume's slices are images of the workspace (``ImageRecord.volume_id`` and
``slice_index``); these helpers step through them in slice order whatever the
list's order, and start the display window from the DICOM window tags.
"""

from __future__ import annotations

from qtseg_app.state.levels import WindowLevel
from qtseg_core.workspace import ImageRecord, Workspace


def neighbour_slice(ws: Workspace, record: ImageRecord, step: int) -> ImageRecord | None:
    """The slice ``step`` away in the same volume; None past either end or outside volumes."""
    if record.volume_id is None:
        return None
    slices = ws.volume_slices(record.volume_id)
    index = record.slice_index + step
    return slices[index] if 0 <= index < len(slices) else None


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
