"""Each published layout, read from a tiny folder built here, plus the generic layout's errors."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from qtseg_core.data import DatasetError, MaskMismatchError, load_sample, open_dataset
from qtseg_core.data.samples import decode_neopolyp_colors
from qtseg_core.io import ImageReadError

H, W = 24, 32


def _write(path: Path, array: np.ndarray, quality: int = 95) -> Path:
    """Write an RGB/RGBA/grey array (RGB order) with OpenCV, creating folders."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if array.ndim == 3:
        array = array[..., [2, 1, 0, 3][: array.shape[2]]]
    cv2.imwrite(str(path), array, [cv2.IMWRITE_JPEG_QUALITY, quality])
    return path


def _photo(seed: int, channels: int = 3) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 255, (H, W, channels), dtype=np.uint8)


def _square(top: int, left: int, side: int = 8, value: int = 255) -> np.ndarray:
    mask = np.zeros((H, W), np.uint8)
    mask[top : top + side, left : left + side] = value
    return mask


def test_generic_layout_with_classes_splits_and_groups(tmp_path):
    ids = ["vol1_z001", "vol1_z002", "vol2_z001"]
    for n, i in enumerate(ids):
        _write(tmp_path / "images" / f"{i}.png", _photo(n)[..., 0])
        _write(tmp_path / "masks" / f"{i}.png", _square(2, 2) // 255 * (n % 3))
    (tmp_path / "classes.json").write_text(
        json.dumps(
            {"names": ["background", "a", "b"], "colors": [[0, 0, 0], [255, 0, 0], [0, 255, 0]]}
        )
    )
    (tmp_path / "splits.json").write_text(json.dumps({"train": ids[:2], "val": ids[2:]}))
    meta = {"items": [{"id": i, "volume": i.split("_")[0]} for i in ids]}
    (tmp_path / "meta.json").write_text(json.dumps(meta))
    index = open_dataset(tmp_path)
    assert index.layout == "generic" and index.ids == ids and index.num_classes == 3
    assert [s.id for s in index.split("val")] == ["vol2_z001"]
    assert [s.group for s in index.samples] == ["vol1", "vol1", "vol2"]
    image, mask = load_sample(index.samples[2], index.num_classes)
    assert image.shape == (H, W) and mask.max() == 2 and mask.sum() == 2 * 64


def test_shared_real_data_reads_as_generic():
    root = Path("/work/shared/data/pyradiomics_brain_mri")
    if not root.is_dir():
        pytest.skip("shared data not present")
    index = open_dataset(root)
    assert index.layout == "generic" and len(index.samples) == 10
    assert {s.group for s in index.samples} == {"brain1", "brain2"}
    image, mask = load_sample(index.samples[0])
    assert image.shape == mask.shape == (256, 256) and set(np.unique(mask)) == {0, 1}


def test_isic2016_official_split(tmp_path):
    for part, names in (("Training", ["ISIC_0000000", "ISIC_0000001"]), ("Test", ["ISIC_0000003"])):
        for n, name in enumerate(names):
            _write(tmp_path / f"ISBI2016_ISIC_Part1_{part}_Data" / f"{name}.jpg", _photo(n))
            _write(
                tmp_path / f"ISBI2016_ISIC_Part1_{part}_GroundTruth" / f"{name}_Segmentation.png",
                _square(4, 4),
            )
    index = open_dataset(tmp_path)
    assert index.layout == "isic2016"
    assert index.splits == {"train": ("ISIC_0000000", "ISIC_0000001"), "test": ("ISIC_0000003",)}
    image, mask = load_sample(index.split("test")[0])
    assert image.shape == (H, W, 3) and mask.sum() == 64


@pytest.mark.parametrize("include_normal", [False, True])
def test_busi_merges_extra_masks_and_excludes_normal(tmp_path, include_normal):
    base = tmp_path / "Dataset_BUSI_with_GT"
    for category in ("benign", "malignant", "normal"):
        _write(base / category / f"{category} (1).png", _photo(1))
        _write(
            base / category / f"{category} (1)_mask.png",
            _square(0, 0) if category != "normal" else _square(0, 0, 0),
        )
    _write(base / "benign" / "benign (1)_mask_1.png", _square(12, 20))
    index = open_dataset(tmp_path, include_normal=include_normal)
    assert index.layout == "busi"
    assert index.ids == ["benign (1)", "malignant (1)"] + (["normal (1)"] if include_normal else [])
    _, mask = load_sample(index.samples[0])
    assert mask.max() == 1 and mask.sum() == 2 * 64  # both lesions, one class


def test_neopolyp_colour_masks_binary_and_three_class(tmp_path):
    gt = np.zeros((H, W, 3), np.uint8)
    gt[2:10, 2:10] = (255, 0, 0)  # neoplastic
    gt[12:20, 20:28] = (0, 255, 0)  # non-neoplastic
    _write(tmp_path / "train" / "train" / "abc.jpeg", _photo(0))
    _write(tmp_path / "train_gt" / "train_gt" / "abc.jpeg", gt, quality=75)  # noisy colours
    three = open_dataset(tmp_path, classes="multiclass")
    assert three.layout == "neopolyp" and three.class_names[2] == "neoplastic"
    _, mask = load_sample(three.samples[0])
    assert (mask[4:8, 4:8] == 2).all() and (mask[14:18, 22:26] == 1).all()
    assert (mask[0:2, 12:20] == 0).all()
    _, binary = load_sample(open_dataset(tmp_path).samples[0])
    assert set(np.unique(binary)) == {0, 1} and abs(int(binary.sum()) - 128) < 20


def test_neopolyp_decoder_ignores_dark_and_grey_noise():
    rgb = np.array(
        [[[250, 10, 5], [10, 240, 12], [30, 30, 30], [128, 120, 125], [3, 0, 0]]], np.uint8
    )
    assert decode_neopolyp_colors(rgb).tolist() == [[2, 1, 0, 0, 0]]


def test_dsb2018_unions_nucleus_masks_and_drops_alpha(tmp_path):
    folder = tmp_path / "stage1_train" / "a1b2"
    _write(folder / "images" / "a1b2.png", _photo(3, channels=4))
    _write(folder / "masks" / "n1.png", _square(0, 0))
    _write(folder / "masks" / "n2.png", _square(4, 4))  # overlaps n1
    index = open_dataset(tmp_path)
    assert index.layout == "dsb2018" and index.ids == ["a1b2"]
    image, mask = load_sample(index.samples[0])
    assert image.shape == (H, W, 4) and mask.max() == 1 and mask.sum() == 64 + 64 - 16


def test_fives_official_split(tmp_path):
    for part in ("train", "test"):
        _write(tmp_path / part / "Original" / "1_A.png", _photo(4))
        _write(tmp_path / part / "Ground truth" / "1_A.png", _square(8, 8))
    index = open_dataset(tmp_path)
    assert index.layout == "fives"
    assert index.splits == {"train": ("train_1_A",), "test": ("test_1_A",)}
    assert load_sample(index.split("test")[0])[1].sum() == 64


def test_kvasir_jpeg_masks_are_binarised(tmp_path):
    _write(tmp_path / "images" / "cju0.jpg", _photo(5))
    _write(tmp_path / "masks" / "cju0.jpg", np.dstack([_square(8, 8, 12)] * 3), quality=70)
    index = open_dataset(tmp_path)
    assert index.layout == "kvasir"
    _, mask = load_sample(index.samples[0])
    assert set(np.unique(mask)) == {0, 1} and abs(int(mask.sum()) - 144) < 15


def test_missing_mask_names_the_image_and_the_expected_file(tmp_path):
    _write(tmp_path / "images" / "a.png", _photo(0))
    _write(tmp_path / "images" / "b.png", _photo(1))
    _write(tmp_path / "masks" / "a.png", _square(0, 0))
    with pytest.raises(DatasetError, match=r"images/b\.png.*masks/b\.png"):
        open_dataset(tmp_path, layout="generic")
    assert open_dataset(tmp_path, allow_unlabelled=True).samples[1].mask_paths == ()


def test_size_mismatch_names_the_mask(tmp_path):
    _write(tmp_path / "images" / "a.png", _photo(0))
    _write(tmp_path / "masks" / "a.png", np.zeros((H, W + 1), np.uint8))
    sample = open_dataset(tmp_path).samples[0]
    with pytest.raises(MaskMismatchError, match=r"masks/a\.png.*24x33.*24x32"):
        load_sample(sample)


def test_corrupt_image_raises_image_read_error_naming_it(tmp_path):
    _write(tmp_path / "masks" / "a.png", _square(0, 0))
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "a.png").write_bytes(b"not a png")
    with pytest.raises(ImageReadError, match=r"images/a\.png"):
        load_sample(open_dataset(tmp_path).samples[0])


def test_empty_or_unknown_folders_say_what_is_expected(tmp_path):
    (tmp_path / "images").mkdir()
    _write(tmp_path / "masks" / "a.png", _square(0, 0))
    with pytest.raises(DatasetError, match=r"No images found in '.*images'"):
        open_dataset(tmp_path)
    with pytest.raises(DatasetError, match="no layout we know.*isic2016"):
        open_dataset(tmp_path / "masks")
    with pytest.raises(DatasetError, match="does not exist"):
        open_dataset(tmp_path / "nowhere")


def test_split_file_with_unknown_id_is_rejected(tmp_path):
    _write(tmp_path / "images" / "a.png", _photo(0))
    _write(tmp_path / "masks" / "a.png", _square(0, 0))
    (tmp_path / "splits.json").write_text(json.dumps({"train": ["a"], "val": ["zz"]}))
    with pytest.raises(DatasetError, match="zz"):
        open_dataset(tmp_path)
