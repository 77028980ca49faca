"""The app's state without Qt: settings events, prediction states, the label table, undo
per image, and the classes a correction is exported with."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from qtseg_app.state import (
    Decisions,
    ModelInfo,
    PredictionResult,
    PredictionStatus,
    ReviewSession,
    ToolSettings,
)
from qtseg_app.state.histories import Histories
from qtseg_app.state.labels import LabelTable
from qtseg_core.workspace import MaskKind, ReviewStatus, Workspace
from qtseg_core.workspace.export import export_training_set

THREE = ModelInfo("v1", "brain", "cpu", ("background", "tumour", "oedema"),
                  ((0, 0, 0), (250, 0, 0), (0, 0, 250)))
BINARY = ModelInfo("v1", None, "cpu", ("background", "lesion"), ((0, 0, 0), (255, 0, 0)))


class Queue:
    """Records what the session asks the prediction service for."""

    def __init__(self) -> None:
        self.requests: list[tuple[int, bool]] = []

    def request(self, image_id: int, *, urgent: bool = True) -> None:
        self.requests.append((image_id, urgent))

    def prefetch(self, image_ids: list[int]) -> None:
        self.requests.extend((image_id, False) for image_id in image_ids)


@pytest.fixture
def ws(tmp_path: Path):  # noqa: ANN201
    images = tmp_path / "ws" / "images"
    images.mkdir(parents=True)
    for k in range(3):
        image = np.full((64, 80), 40 * k, np.uint8)
        image[20:40, 20:50] = 200
        cv2.imwrite(str(images / f"slice_{k}.png"), image)
    workspace = Workspace.open(tmp_path / "ws")
    yield workspace
    workspace.close()


def result(image_id: int, version: str = "v1", label: int = 1) -> PredictionResult:
    mask = np.zeros((64, 80), np.uint8)
    mask[10:20, 10:20] = label
    return PredictionResult(image_id, version, mask, None, np.zeros(mask.shape, np.float16),
                            0.2, 0.01)


def paint(session: ReviewSession, label: int, row: float) -> None:
    """One brush stroke of class ``label`` along ``row``."""
    assert session.tools.set_label(label)
    session.tools.stroke_started(10.0, row)
    session.tools.stroke_moved(60.0, row)
    session.tools.stroke_finished(60.0, row)


def test_changing_a_setting_emits_one_event() -> None:
    settings = ToolSettings()
    events: list[tuple[str, object]] = []
    settings.changed.connect(events.append)
    settings.set_radius(12)
    settings.set_radius(12)  # unchanged: no event
    settings.set_radius(1000)  # clamped
    assert events == [("radius", 12.0), ("radius", 200.0)]


def test_selecting_an_image_while_its_prediction_is_pending_marks_it_pending(ws) -> None:
    queue = Queue()
    session = ReviewSession(ws, queue=queue)
    session.use_model(BINARY)
    session.start()
    first, second = session.images.ids[:2]
    assert session.current_id == first and queue.requests[0] == (first, True)
    assert session.predictions.status(first) is PredictionStatus.PENDING
    session.open_image(second)
    assert session.predictions.status(second) is PredictionStatus.PENDING
    assert (second, True) in queue.requests

    shown: list[int] = []
    session.prediction_shown.connect(shown.append)
    session.receive_prediction(result(second, version="v0"))  # a replaced model's: dropped
    assert session.predictions.status(second) is PredictionStatus.PENDING and not shown
    session.receive_prediction(result(second))
    assert session.predictions.status(second) is PredictionStatus.SHOWN and shown == [second]
    assert session.document.mask[15, 15] == 1  # nobody corrected it: the model's mask
    session.receive_prediction(result(first))  # prefetched while another is on screen
    assert session.predictions.status(first) is PredictionStatus.READY
    changes: list[tuple[int, PredictionStatus | None]] = []
    session.predictions.status_changed.connect(changes.append)
    session.use_model(ModelInfo("v2", None, "cpu", BINARY.class_names, BINARY.class_colors))
    assert (first, PredictionStatus.STALE) in changes  # v1's result no longer counts
    assert session.predictions.status(second) is PredictionStatus.PENDING  # on screen: asked


def test_the_class_table_round_trips_through_the_workspace(ws, tmp_path: Path) -> None:
    labels = LabelTable(ws)
    assert labels.names == ("background", "foreground")  # nothing set: the default
    assert labels.adopt_model(THREE.class_names, THREE.class_colors)  # follows the model
    assert ws.classes()[0] == list(THREE.class_names)
    labels.rename(2, "necrosis")
    index = labels.add("oedema", (0, 200, 90))
    labels.recolour(1, (255, 128, 0))
    with pytest.raises(ValueError, match="already called 'oedema'"):
        labels.rename(1, "oedema")
    ws.close()

    with Workspace.open(tmp_path / "ws") as again:
        stored = LabelTable(again)
        assert index == 3
        assert stored.names == ("background", "tumour", "necrosis", "oedema")
        assert stored.colors[1] == (255, 128, 0) and stored.colors[3] == (0, 200, 90)
        assert stored.user_defined
        assert not stored.adopt_model(BINARY.class_names, BINARY.class_colors)  # the user's
        assert again.classes()[0] == list(stored.names)


def test_undo_history_survives_moving_to_another_image_and_back(ws) -> None:
    session = ReviewSession(ws)
    session.start()
    first, second = session.images.ids[:2]
    paint(session, 1, 30.0)
    painted = session.document.mask.copy()
    session.open_image(second)
    paint(session, 1, 50.0)
    session.open_image(first)
    assert np.array_equal(session.document.mask, painted)  # the saved correction
    session.tools.undo()
    assert not session.document.mask.any()  # the stroke made before leaving is undone
    session.tools.redo()
    assert np.array_equal(session.document.mask, painted)


def test_a_visit_of_many_strokes_is_one_version_and_the_next_visit_another(ws) -> None:
    session = ReviewSession(ws)
    session.start()
    first, second = session.images.ids[:2]
    for row in (25.0, 30.0, 35.0):
        paint(session, 1, row)
    session.tools.undo()
    on_screen = session.document.mask.copy()
    versions = ws.mask_versions(first)
    assert len(versions) == 1 and np.array_equal(ws.read_mask(versions[0]), on_screen)
    session.open_image(second)
    session.open_image(first)
    paint(session, 1, 50.0)
    assert len(ws.mask_versions(first)) == 2  # the first visit's mask is kept beside it
    assert np.array_equal(ws.read_mask(ws.mask_versions(first)[0]), on_screen)


def test_parked_histories_are_bounded_across_images(ws) -> None:
    session = ReviewSession(ws)
    session.histories = Histories(max_images=1)
    session.start()
    first, second, third = session.images.ids
    for image_id in (second, third, first):
        paint(session, 1, 30.0)
        session.open_image(image_id)
    # three images edited, one history kept: the image left longest ago lost its undo
    assert len(session.histories) == 1
    assert session.tools.document.editor.history.can_undo is False  # first: dropped


def test_classes_1_and_2_under_a_3_class_model_are_exported_as_0_1_2(ws, tmp_path) -> None:
    session = ReviewSession(ws)
    session.use_model(THREE)
    session.start()
    ws.reviewer_name = "Dr Test"
    paint(session, 1, 25.0)
    paint(session, 2, 45.0)
    assert Decisions(session).decide(ReviewStatus.ACCEPTED)
    out = export_training_set(ws, tmp_path / "export")
    [mask_file] = sorted((out / "masks").glob("*.png"))
    assert set(np.unique(cv2.imread(str(mask_file), cv2.IMREAD_UNCHANGED))) == {0, 1, 2}
    classes = json.loads((out / "classes.json").read_text())
    assert classes["names"] == list(THREE.class_names)


def test_a_binary_model_still_lets_the_annotator_paint_a_class_the_user_added(ws) -> None:
    session = ReviewSession(ws)
    session.use_model(BINARY)
    session.start()
    assert not session.tools.set_label(2)  # the table has classes 0 and 1 only
    session.labels.add("cyst")
    paint(session, 2, 30.0)
    saved = ws.read_mask(ws.latest_mask(session.current_id, MaskKind.CORRECTION))
    assert saved.max() == 2 and ws.classes()[0] == ["background", "lesion", "cyst"]


def test_state_and_services_import_no_widgets() -> None:
    code = ("import sys, qtseg_app.state; qt = sorted(m for m in sys.modules if "
            "m.startswith(('PySide6', 'pyqtgraph'))); import qtseg_app.services; "
            "widgets = [m for m in sys.modules if m.startswith(('PySide6.QtWidgets', "
            "'PySide6.QtGui', 'pyqtgraph'))]; print(qt, widgets)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[] []"


def test_brush_keys_are_symmetric_multiplicative_steps():
    from qtseg_app.state.settings import ToolSettings

    settings = ToolSettings(radius=40.0)
    settings.grow_brush(1.25)
    assert settings.radius == 50.0
    settings.grow_brush(0.8)
    assert settings.radius == 40.0
    settings.grow_brush(0.8)
    assert settings.radius == 32.0  # [ shrinks by 20 %, not by one pixel
    small = ToolSettings(radius=2.0)
    small.grow_brush(1.25)
    assert small.radius == 3.0  # at least one pixel either way
    small.grow_brush(0.8)
    assert small.radius == 2.0


def test_accept_before_the_prediction_arrives_stores_the_prediction(ws) -> None:
    session = ReviewSession(ws, queue=Queue())
    session.use_model(BINARY)
    session.start()
    ws.reviewer_name = "Dr Test"
    decisions = Decisions(session)
    first = session.current_id
    assert session.predictions.status(first) is PredictionStatus.PENDING
    assert not decisions.decide(ReviewStatus.ACCEPTED)  # nothing of the model's on screen yet
    assert ws.image(first).status is ReviewStatus.UNREVIEWED and ws.final_mask(first) is None
    session.receive_prediction(result(first))  # arrives, is shown, then accepted
    assert ws.image(first).status is ReviewStatus.ACCEPTED
    stored = ws.read_mask(ws.final_mask(first))
    assert stored[15, 15] == 1 and stored.sum() == 100  # the prediction, not an empty mask


def test_a_waiting_accept_is_dropped_when_another_image_is_opened(ws) -> None:
    session = ReviewSession(ws, queue=Queue())
    session.use_model(BINARY)
    session.start()
    ws.reviewer_name = "Dr Test"
    decisions = Decisions(session)
    first, second = session.images.ids[:2]
    decisions.decide(ReviewStatus.ACCEPTED)
    session.open_image(second)
    session.open_image(first)
    session.receive_prediction(result(first))
    assert ws.image(first).status is not ReviewStatus.ACCEPTED
