"""The one image reader: formats, dtypes, channel order, DICOM units, masks, errors."""

from __future__ import annotations

import cv2
import numpy as np
import pydicom
import pytest
from pydicom.data import get_testdata_file

from qtseg_core.io import ImageReadError, read_image, read_mask, write_png_atomic


def _gradient(height: int = 24, width: int = 32, top: int = 255) -> np.ndarray:
    return np.arange(height * width).reshape(height, width) * top // (height * width - 1)


@pytest.mark.parametrize("suffix", [".png", ".bmp", ".tif"])
def test_lossless_grey_reads_back_exactly(tmp_path, suffix):
    image = _gradient().astype(np.uint8)
    path = tmp_path / f"grey{suffix}"
    cv2.imwrite(str(path), image)
    read = read_image(path)
    assert read.dtype == np.uint8 and read.shape == (24, 32)
    np.testing.assert_array_equal(read, image)


@pytest.mark.parametrize("suffix", [".png", ".tif"])
def test_16_bit_keeps_values_above_255(tmp_path, suffix):
    image = _gradient(top=60000).astype(np.uint16)
    path = tmp_path / f"deep{suffix}"
    cv2.imwrite(str(path), image)
    read = read_image(path)
    assert read.dtype == np.uint16
    np.testing.assert_array_equal(read, image)


def test_float_tiff_keeps_float32(tmp_path):
    image = np.linspace(-3.5, 7.25, 24 * 32, dtype=np.float32).reshape(24, 32)
    cv2.imwrite(str(tmp_path / "float.tif"), image)
    read = read_image(tmp_path / "float.tif")
    assert read.dtype == np.float32
    np.testing.assert_array_equal(read, image)


def test_colour_comes_back_rgb_and_rgba(tmp_path):
    rgb = np.zeros((24, 32, 3), np.uint8)
    rgb[..., 0] = 200  # red
    cv2.imwrite(str(tmp_path / "red.png"), rgb[..., ::-1])  # OpenCV writes BGR
    assert read_image(tmp_path / "red.png")[0, 0].tolist() == [200, 0, 0]
    rgba = np.dstack([rgb, np.full((24, 32), 77, np.uint8)])
    cv2.imwrite(str(tmp_path / "red_alpha.png"), rgba[..., [2, 1, 0, 3]])
    assert read_image(tmp_path / "red_alpha.png")[0, 0].tolist() == [200, 0, 0, 77]


def test_jpeg_and_non_ascii_path(tmp_path):
    folder = tmp_path / "données_ü"
    folder.mkdir()
    rgb = np.full((24, 32, 3), (10, 120, 240), np.uint8)
    cv2.imencode(".jpg", rgb[..., ::-1])[1].tofile(folder / "façade.jpg")
    read = read_image(folder / "façade.jpg")
    assert read.shape == (24, 32, 3)
    assert np.abs(read[12, 16].astype(int) - (10, 120, 240)).max() <= 3


def test_dicom_ct_is_in_hounsfield_units():
    ct = read_image(get_testdata_file("CT_small.dcm"))
    assert ct.shape == (128, 128) and ct.dtype == np.int16
    assert ct.min() < -500  # air outside the body, only after the -1024 intercept
    raw = pydicom.dcmread(get_testdata_file("CT_small.dcm")).pixel_array
    np.testing.assert_array_equal(ct, raw.astype(np.int32) - 1024)


def test_dicom_monochrome1_is_inverted_so_bright_means_high(tmp_path):
    dataset = pydicom.dcmread(get_testdata_file("MR_small.dcm"))
    raw = dataset.pixel_array
    dataset.PhotometricInterpretation = "MONOCHROME1"
    dataset.save_as(tmp_path / "inverted.dcm")
    read = read_image(tmp_path / "inverted.dcm")
    np.testing.assert_array_equal(read, raw.max() + raw.min() - raw.astype(np.int32))


def test_dicom_detected_by_magic_without_extension(tmp_path):
    source = get_testdata_file("MR_small.dcm")
    copy = tmp_path / "slice_without_suffix"
    copy.write_bytes(open(source, "rb").read())
    mr = read_image(copy)
    assert mr.shape == (64, 64) and mr.dtype == np.int16


@pytest.mark.filterwarnings("ignore::UserWarning")  # pydicom warns about the broken file
def test_missing_corrupt_and_unsupported_files_name_the_path(tmp_path):
    with pytest.raises(ImageReadError, match="missing.png.*does not exist"):
        read_image(tmp_path / "missing.png")
    corrupt = tmp_path / "corrupt.png"
    corrupt.write_bytes(b"\x89PNG\r\n\x1a\n this is not a picture")
    with pytest.raises(ImageReadError, match="corrupt.png.*corrupt"):
        read_image(corrupt)
    (tmp_path / "notes.gif").write_bytes(b"GIF89a")
    with pytest.raises(ImageReadError, match="notes.gif.*not a supported format"):
        read_image(tmp_path / "notes.gif")
    broken_dicom = tmp_path / "broken.dcm"
    broken_dicom.write_bytes(b"\0" * 128 + b"DICM" + b"\xff" * 20)
    with pytest.raises(ImageReadError, match="broken.dcm"):
        read_image(broken_dicom)


def test_read_mask_binary_and_class_indices(tmp_path):
    binary = np.zeros((24, 32), np.uint8)
    binary[5:10, 5:10] = 255
    cv2.imwrite(str(tmp_path / "binary.png"), binary)
    np.testing.assert_array_equal(read_mask(tmp_path / "binary.png"), binary // 255)
    classes = (np.arange(24 * 32).reshape(24, 32) % 3).astype(np.uint8)
    cv2.imwrite(str(tmp_path / "classes.png"), classes)
    np.testing.assert_array_equal(read_mask(tmp_path / "classes.png", num_classes=3), classes)
    with pytest.raises(ImageReadError, match="classes.png.*class indices below 2"):
        read_mask(tmp_path / "classes.png", num_classes=2)


def test_read_mask_grey_stored_as_rgb_is_accepted_colour_is_not(tmp_path):
    grey_rgb = np.zeros((24, 32, 3), np.uint8)
    grey_rgb[:12] = 255
    cv2.imwrite(str(tmp_path / "grey_rgb.png"), grey_rgb)
    assert read_mask(tmp_path / "grey_rgb.png").sum() == 12 * 32
    grey_rgb[0, 0] = (255, 0, 0)
    cv2.imwrite(str(tmp_path / "colour.png"), grey_rgb)
    with pytest.raises(ImageReadError, match="colour.png.*colour mask"):
        read_mask(tmp_path / "colour.png")


def test_read_mask_jpeg_is_thresholded(tmp_path):
    mask = np.zeros((24, 32), np.uint8)
    mask[4:20, 8:24] = 255
    cv2.imwrite(str(tmp_path / "mask.jpg"), mask, [cv2.IMWRITE_JPEG_QUALITY, 60])
    read = read_mask(tmp_path / "mask.jpg")
    assert read.dtype == np.uint8 and set(np.unique(read)) <= {0, 1}
    assert (read != mask // 255).sum() < 0.05 * mask.size


def test_write_png_atomic_round_trip_leaves_no_temp_file(tmp_path):
    mask = (np.arange(24 * 32).reshape(24, 32) % 4).astype(np.uint8)
    target = tmp_path / "sub" / "mask.png"
    write_png_atomic(target, mask)
    write_png_atomic(target, mask)  # overwriting works too
    np.testing.assert_array_equal(read_image(target), mask)
    rgb = np.zeros((24, 32, 3), np.uint8)
    rgb[..., 0] = 255
    write_png_atomic(tmp_path / "rgb.png", rgb)
    assert read_image(tmp_path / "rgb.png")[0, 0].tolist() == [255, 0, 0]
    assert sorted(p.name for p in (tmp_path / "sub").iterdir()) == ["mask.png"]
    with pytest.raises(ValueError, match="uint8"):
        write_png_atomic(tmp_path / "bad.png", np.zeros((4, 4), np.float32))


def test_one_rule_says_which_files_are_images(tmp_path):
    import shutil

    from qtseg_core.io import is_image_file
    from qtseg_core.workspace.scan import find_images

    cv2.imwrite(str(tmp_path / "slice.png"), np.zeros((4, 4), np.uint8))
    cv2.imwrite(str(tmp_path / ".thumbnail.png"), np.zeros((4, 4), np.uint8))
    shutil.copy(get_testdata_file("CT_small.dcm"), tmp_path / "IM0001")  # scanner-style name
    (tmp_path / "notes.txt").write_text("not an image")
    (tmp_path / "README").write_text("no extension, not DICOM either")
    assert [p.name for p in find_images(tmp_path)] == ["IM0001", "slice.png"]
    assert not is_image_file(tmp_path / "README")
    assert read_image(tmp_path / "IM0001").min() < 0  # Hounsfield units, read as DICOM
