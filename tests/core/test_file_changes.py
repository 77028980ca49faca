"""An image replaced on disk after it was annotated is detected and can start over, its
old masks kept (issue 16, item 3)."""

from __future__ import annotations

import cv2
import numpy as np

from qtseg_core.workspace import MaskKind, ReviewStatus, Workspace
from tests.core.workspace_helpers import demo_folder, square_mask


def test_a_replaced_file_is_named_and_starting_over_keeps_the_old_masks(tmp_path) -> None:
    with Workspace.open(demo_folder(tmp_path, ("brain1_z011", "lung1_z032"))) as ws:
        brain = ws.images()[0]
        pixels = ws.read_image(brain.id)
        assert ws.file_changed(brain.id, pixels) is None
        ws.save_correction(brain.id, square_mask(256, 256, 20, 20, 10), "Ana")
        old_mask = ws.latest_mask(brain.id, MaskKind.CORRECTION)
        kept_bytes = (ws.folder / old_mask.path).read_bytes()

        flipped = np.ascontiguousarray(pixels[::-1])  # same size, other bytes
        cv2.imwrite(str(brain.path), flipped)
        assert "another image of the same size" in ws.file_changed(brain.id, flipped)
        smaller = np.ascontiguousarray(pixels[:100, :120])
        cv2.imwrite(str(brain.path), smaller)
        reason = ws.file_changed(brain.id, ws.read_image(brain.id))
        assert "another size (120x100; it was 256x256" in reason

        kept = ws.start_over(brain.id, ws.read_image(brain.id))
        assert [p.read_bytes() for p in kept.iterdir()] == [kept_bytes]  # kept as it was
        assert ws.mask_versions(brain.id) == []
        record = ws.image(brain.id)
        assert (record.width, record.height, record.status) == (120, 100,
                                                                ReviewStatus.UNREVIEWED)
        assert ws.file_changed(brain.id, ws.read_image(brain.id)) is None
        ws.save_correction(brain.id, np.ones((100, 120), np.uint8), "Ana")  # fits now
        assert [e.kind for e in ws.history(brain.id)][-2:] == ["replaced", "correction"]
        folder = ws.folder
    with Workspace.open(folder):  # the next open cleans leftovers, never the kept masks
        assert [p.read_bytes() for p in kept.iterdir()] == [kept_bytes]
