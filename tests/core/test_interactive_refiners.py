"""Training-free refinement: clicks end on their side, the walker follows the image's edges."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

from qtseg_core.config import ModelConfig
from qtseg_core.interactive import Click, ClickSession, RandomWalkerRefiner, object_crop


def disk_image(shape=(96, 96), centre=(48, 48), radius=15):
    rows, cols = np.ogrid[: shape[0], : shape[1]]
    inside = (rows - centre[0]) ** 2 + (cols - centre[1]) ** 2 <= radius**2
    rng = np.random.default_rng(0)
    image = np.where(inside, 200, 60) + rng.normal(0, 5, shape)
    return np.clip(image, 0, 255).astype(np.uint8), inside


def test_one_positive_click_on_a_missed_small_bright_disk_finds_the_disk():
    # the walker's band starts at 12 px around a click on an empty mask
    image, truth = disk_image(radius=8)
    session = ClickSession(image, np.zeros_like(truth), RandomWalkerRefiner())
    mask = session.add(Click(48, 48, positive=True))
    overlap = (mask & truth).sum() / (mask | truth).sum()
    assert overlap > 0.9


@pytest.mark.parametrize("radius", [20, 40])
def test_one_click_inside_a_missed_object_covers_most_of_it(radius):
    # seen in the window: on an empty mask one click found only ~12 px around it
    image, truth = disk_image(shape=(4 * radius + 40,) * 2, centre=(2 * radius + 20,) * 2,
                              radius=radius)
    session = ClickSession(image, np.zeros_like(truth), RandomWalkerRefiner())
    mask = session.add(Click(2 * radius + 20, 2 * radius + 20, positive=True))
    assert (mask & truth).sum() / (mask | truth).sum() > 0.8


def test_a_click_off_centre_in_a_missed_object_finds_the_object_not_a_strip():
    image, truth = disk_image(shape=(128, 128), centre=(64, 64), radius=20)
    mask = ClickSession(image, np.zeros_like(truth), RandomWalkerRefiner()).add(Click(64, 50))
    assert (mask & truth).sum() > 0.8 * truth.sum() and (mask & ~truth).sum() < 0.1 * truth.sum()


def test_a_larger_missed_disk_takes_a_few_robot_clicks():
    from qtseg_core.interactive import run_robot

    image, truth = disk_image(radius=20)
    session = ClickSession(image, np.zeros_like(truth), RandomWalkerRefiner())
    trajectory = run_robot(session.mask, truth, lambda clicks: session.add(clicks[-1]), 10)
    assert max(trajectory.ious) > 0.9 and trajectory.ious.index(max(trajectory.ious)) <= 5


def test_clicks_leave_the_mask_far_from_them_as_it_was():
    image, truth = disk_image()
    mask = truth.copy()
    mask[80:90, 5:15] = True  # another part, far from the click
    refined = ClickSession(image, mask, RandomWalkerRefiner()).add(Click(48, 64, positive=True))
    assert refined[80:90, 5:15].all()


def test_a_negative_click_on_a_false_alarm_removes_it():
    image, truth = disk_image()
    false_alarm = np.zeros_like(truth)
    false_alarm[5:15, 70:80] = True
    session = ClickSession(image, truth | false_alarm, RandomWalkerRefiner())
    mask = session.add(Click(10, 75, positive=False))
    assert not (mask & false_alarm).any()
    assert (mask & truth).sum() == truth.sum()  # the object elsewhere is untouched


@pytest.mark.parametrize("positive", [True, False])
def test_the_click_pixel_always_ends_on_the_side_asked(positive):
    image, truth = disk_image()
    # a click against the image's evidence: background on the object, object on background
    click = Click(48, 48, positive=False) if not positive else Click(5, 5, positive=True)
    mask = ClickSession(image, truth, RandomWalkerRefiner()).add(click)
    assert mask[click.row, click.col] == positive


def test_the_crop_surrounds_the_object_and_the_clicks():
    mask = np.zeros((200, 200), dtype=bool)
    mask[90:110, 90:110] = True
    crop = object_crop(mask, [Click(120, 100)], expand=0.5, min_side=10)
    assert crop.top <= 90 and crop.bottom >= 121 and crop.left <= 90 and crop.right >= 110
    assert crop.shape[0] < 200 and crop.shape[1] < 200


@pytest.fixture(scope="module")
def click_model():
    import torch

    from qtseg_core import build_model
    from qtseg_core.models import add_click_inputs

    torch.manual_seed(0)
    model = add_click_inputs(build_model("qtseg-tiny"))
    with torch.no_grad():
        model.click_encoder.conv.weight.normal_(0, 0.5)  # an untrained but click-sensitive model
    return model.eval()


@pytest.mark.parametrize("positive", [True, False])
def test_the_click_model_puts_the_click_pixel_on_the_side_asked(click_model, positive):
    from qtseg_core.interactive import ClickModelRefiner

    image, truth = disk_image()
    mask = truth if not positive else np.zeros_like(truth)
    click = Click(48, 48, positive)
    refined = ClickSession(image, mask, ClickModelRefiner(click_model, size=64)).add(click)
    assert refined[48, 48] == positive
    assert refined.shape == truth.shape


def test_the_click_model_changes_only_the_window_around_the_object(click_model):
    from qtseg_core.interactive import ClickModelRefiner

    image = np.random.default_rng(0).integers(0, 255, (256, 256), dtype=np.uint8)
    mask = np.zeros((256, 256), dtype=bool)
    mask[200:210, 200:210] = True
    clicks = [Click(204, 205), Click(204, 230)]  # a run's later click: zoomed in
    refined = ClickModelRefiner(click_model, size=64).refine(image, mask, clicks)
    assert refined[204, 230]
    changed_rows, changed_cols = np.nonzero(refined != mask)
    # the window: the object and click grown by 40 %, at least a quarter of the image (64 px)
    assert changed_rows.min() >= 256 - 90 and changed_cols.min() >= 256 - 90


def test_square_crops_stay_inside_the_image():
    from qtseg_core.interactive.click_model import square
    from qtseg_core.pixel_rect import Rect

    crop = square(Rect(0, 10, 20, 60), (40, 100))
    assert crop.shape == (40, 40)  # the longer side, capped by the image
    assert crop.top >= 0 and crop.bottom <= 40 and crop.left >= 0 and crop.right <= 100


def test_a_negative_click_on_a_leak_of_a_large_object_cuts_the_leak_and_keeps_the_object():
    # an object wider than the walker's band: dropping the whole part and growing it back
    # from one click lost most of it (seen on MRI brain masks)
    image, truth = disk_image(shape=(260, 260), centre=(130, 130), radius=60)
    leak = np.zeros_like(truth)
    leak[122:138, 185:240] = True  # the mask ran out of the object along a strip
    session = ClickSession(image, truth | leak, RandomWalkerRefiner())
    session.add(Click(130, 130, positive=True))
    mask = session.add(Click(130, 232, positive=False))
    assert (mask & truth).sum() > 0.9 * truth.sum()
    assert (mask & leak & ~truth).sum() < 0.5 * (leak & ~truth).sum()



class BrightIsObject(torch.nn.Module):
    """A stand-in click model: the object is its canvas' bright half (clicks ignored)."""

    def __init__(self) -> None:
        super().__init__()
        self.config = ModelConfig(click_inputs=True, in_channels=1)

    def forward(self, images: torch.Tensor, clicks: torch.Tensor) -> torch.Tensor:
        return torch.cat([-images, images], dim=1) * 10


def test_a_run_s_first_click_on_a_missed_object_lets_the_click_model_see_all_of_it():
    # a window around the empty mask and the click alone lay inside a large object, and the
    # network filled the window (IoU 0.15 on missed brains); training zooms only onto windows
    # that hold the whole object, and its other canvases are whole images
    from qtseg_core.interactive import ClickModelRefiner

    image, truth = disk_image(shape=(128, 128), centre=(64, 64), radius=40)
    refiner = ClickModelRefiner(BrightIsObject(), size=64)
    mask = ClickSession(image, np.zeros_like(truth), refiner).add(Click(64, 64))
    assert (mask & truth).sum() / (mask | truth).sum() > 0.9


def test_a_negative_click_on_the_blob_a_positive_click_grew_removes_all_of_it():
    # seen in the app: a positive click on plain white matter grew a blob, and a right click
    # on it left a fragment around the first click (which still seeded the walk)
    image, truth = disk_image(radius=10)
    session = ClickSession(image, np.zeros_like(truth), RandomWalkerRefiner())
    grown = session.add(Click(48, 48, positive=True))
    assert (grown & truth).sum() > 0.8 * truth.sum()
    mask = session.add(Click(50, 51, positive=False))
    assert not mask.any()
    assert not session.add(Click(10, 10, positive=False)).any()  # and it does not come back


def test_a_click_warns_of_nothing():
    # scikit-image's default solver warned "probability range outside [0, 1]" on about half
    # of the walks, which the app logged on every click
    image, truth = disk_image(shape=(128, 128), centre=(64, 64), radius=30)
    session = ClickSession(image, np.zeros_like(truth), RandomWalkerRefiner())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for click in (Click(64, 64), Click(64, 100, positive=False), Click(20, 20)):
            session.add(click)


class RecordsInputs(BrightIsObject):
    """The stand-in click model, keeping the click inputs it was given (in the class: the
    refiner runs a frozen copy of it)."""

    given: list[torch.Tensor] = []

    def forward(self, images: torch.Tensor, clicks: torch.Tensor) -> torch.Tensor:
        RecordsInputs.given.append(clicks.clone())
        return super().forward(images, clicks)


def test_the_click_model_sees_a_first_click_as_training_s_validation_shows_it():
    # the canvas the network gets: the previous mask and click disks where training's
    # validation loop (whole letterboxed canvases) puts them
    from qtseg_core.data.preprocess import prepare_mask
    from qtseg_core.interactive import ClickModelRefiner
    from qtseg_core.interactive.simulation import click_inputs

    rng = np.random.default_rng(0)
    image = rng.integers(0, 255, (64, 40), dtype=np.uint8)  # letterboxed with padding, no resize
    mask = rng.random((64, 40)) > 0.7
    ClickModelRefiner(RecordsInputs(), size=64).refine(image, mask, [Click(20, 30, positive=False)])
    previous = torch.from_numpy(prepare_mask(mask.astype(np.uint8), 64) > 0)[None]
    expected = click_inputs(previous, [[Click(20, 30, positive=False)]])
    assert torch.equal(RecordsInputs.given[-1], expected)
