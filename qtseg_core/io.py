"""The one image reader (and mask writer) of QTSeg Studio.

Training, evaluation, the Predictor, the CLI and the app all read pixels through
:func:`read_image` and :func:`read_mask`, so a file that opens in one place opens
(or fails, with the same message) everywhere.

Images come back in their native dtype and value range: uint8 or uint16 for
PNG/JPEG/BMP/TIFF, int16 or float32 for DICOM after the rescale slope and
intercept (Hounsfield units for CT). Colour images are RGB (or RGBA), never BGR.
Normalisation is left to :mod:`qtseg_core.data.preprocess`.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import cv2
import numpy as np

from qtseg_core.temporaries import temporary_prefix

if TYPE_CHECKING:
    from qtseg_core.atomic_batch import AtomicWriteBatch
    from qtseg_core.volumes import Volume

#: File name endings read through OpenCV.
RASTER_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff")
#: File name endings read through pydicom (files with the DICM magic are too).
DICOM_SUFFIXES = (".dcm", ".dicom")
#: Lossy formats: a mask stored this way is noisy and is thresholded at 128.
LOSSY_SUFFIXES = (".jpg", ".jpeg")
SUPPORTED_SUFFIXES = RASTER_SUFFIXES + DICOM_SUFFIXES

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_CV_SWAP_DTYPES = (np.uint8, np.uint16, np.float32)  # the dtypes cv2.cvtColor swaps
_FORMATS_HELP = "PNG, JPEG, BMP, TIFF (8/16-bit) or DICOM"
#: Images above this many pixels are refused before their pixels are decoded (a 400 KB
#: PNG can claim 20000 x 20000); the QTSEG_MAX_PIXELS environment variable changes it.
DEFAULT_MAX_PIXELS = 100_000_000
MAX_PIXELS_VARIABLE = "QTSEG_MAX_PIXELS"


class ImageReadError(ValueError):
    """An image or mask file that cannot be used; the message names the file and the fix."""

    def __init__(self, path: str | os.PathLike, reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"Cannot read image '{self.path}': {reason}")


def is_image_file(path: str | os.PathLike) -> bool:
    """The one rule for "this file is an image to read": a visible regular file with a
    supported extension, or a DICOM file without one (scanners often write bare names)."""
    path = Path(path)
    if not path.is_file() or path.name.startswith("."):
        return False
    return path.suffix.lower() in SUPPORTED_SUFFIXES or (not path.suffix and is_dicom(path))


def is_dicom(path: str | os.PathLike) -> bool:
    """True for a .dcm/.dicom name or a file with the 'DICM' magic at byte 128."""
    path = Path(path)
    if path.suffix.lower() in DICOM_SUFFIXES:
        return True
    try:
        with open(path, "rb") as stream:
            stream.seek(128)
            return stream.read(4) == b"DICM"
    except OSError:
        return False


def read_image(path: str | os.PathLike) -> np.ndarray:
    """Read an image file as (H, W) or (H, W, C) in its native dtype.

    C is 3 (RGB) or 4 (RGBA). Raises :class:`ImageReadError` naming the file
    when it is missing, corrupt, in a format we do not read, or larger than
    :func:`max_pixels` (checked on the header, before any pixel is decoded).
    """
    path = Path(path)
    if not path.is_file():
        raise ImageReadError(path, "the file does not exist; check the path and the file name.")
    if path.suffix.lower() in DICOM_SUFFIXES:
        return _read_dicom_checked(path)
    data = np.fromfile(path, dtype=np.uint8)  # one read: the header and the pixels come from it
    if bytes(data[128:132]) == b"DICM":
        return _read_dicom_checked(path)
    if path.suffix.lower() not in RASTER_SUFFIXES:
        raise ImageReadError(
            path, f"'{path.suffix}' is not a supported format; convert it to {_FORMATS_HELP}."
        )
    if path.suffix.lower() in (".tif", ".tiff"):
        _refuse_stack(path)
    _check_size(path, _raster_size(data))
    return _finite(_to_supported_dtype(_bgr_to_rgb(_decode_raster(path, data))), path)


def _read_dicom_checked(path: Path) -> np.ndarray:
    _check_size(path, image_size(path))
    return _read_dicom(path)


def _check_size(path: Path, size: tuple[int, int] | None) -> None:
    if size is not None and size[0] * size[1] > max_pixels():
        raise ImageReadError(path, too_large_reason(*size))


def max_pixels() -> int:
    """The pixel limit of every reader path: QTSEG_MAX_PIXELS, else DEFAULT_MAX_PIXELS."""
    text = os.environ.get(MAX_PIXELS_VARIABLE, "").strip()
    if not text:
        return DEFAULT_MAX_PIXELS
    if not text.isdigit() or int(text) < 1:
        raise ValueError(f"{MAX_PIXELS_VARIABLE}={text!r}: give a whole number of pixels, "
                         f"e.g. {DEFAULT_MAX_PIXELS}, or unset it.")
    return int(text)


def too_large_reason(width: int, height: int) -> str:
    def amount(pixels: int) -> str:
        return f"{pixels / 1e6:.0f} megapixels" if pixels >= 10**6 else f"{pixels} pixels"

    return (f"too large to open: {width}x{height} = {amount(width * height)} (limit "
            f"{amount(max_pixels())}, set {MAX_PIXELS_VARIABLE} to change it); crop or "
            "downscale it.")


def image_size(path: str | os.PathLike) -> tuple[int, int] | None:
    """(width, height) from the file header without decoding pixels (DICOM: all frames
    stacked); None when the header cannot be read (the reader then says what is wrong)."""
    try:
        return _header_size(Path(path))
    except Exception:  # noqa: BLE001 - any damage here is reported by the decoder
        return None


def _header_size(path: Path) -> tuple[int, int] | None:
    if is_dicom(path):
        import pydicom

        header = pydicom.dcmread(path, stop_before_pixels=True, force=True)
        frames = int(getattr(header, "NumberOfFrames", 1) or 1)
        return int(header.Columns), int(header.Rows) * frames
    return _pil_size(path)


def _raster_size(data: np.ndarray) -> tuple[int, int] | None:
    """(width, height) from a raster file's bytes: a PNG's IHDR directly, else PIL's header
    parser (no pixels decoded); None when unreadable."""
    if bytes(data[:8]) == _PNG_SIGNATURE and bytes(data[12:16]) == b"IHDR":
        return int.from_bytes(bytes(data[16:20]), "big"), int.from_bytes(bytes(data[20:24]), "big")
    try:
        return _pil_size(io.BytesIO(data.tobytes()))
    except Exception:  # noqa: BLE001 - any damage here is reported by the decoder
        return None


def _pil_size(source: Path | io.BytesIO) -> tuple[int, int] | None:
    from PIL import Image, UnidentifiedImageError

    limit, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, None  # we apply our own limit
    try:
        with Image.open(source) as image:
            return image.size
    except UnidentifiedImageError:
        return None
    finally:
        Image.MAX_IMAGE_PIXELS = limit


def _refuse_stack(path: Path) -> None:
    """A multi-page TIFF is a volume: reading its first page alone would lose the rest."""
    from qtseg_core.volumes.tiff_stack import tiff_pages

    pages = tiff_pages(path)
    if pages > 1:
        raise ImageReadError(path, f"it is a stack of {pages} pages, a volume: read it with "
                             "qtseg_core.io.read_volume (qtseg predict and the workspace do).")


def read_volume(path: str | os.PathLike, series_uid: str | None = None) -> Volume:
    """Read a volume (NIfTI, NRRD, MetaImage, DICOM series folder, multi-frame DICOM,
    multi-page TIFF) as voxels (slice, row, col) with their geometry; see
    :mod:`qtseg_core.volumes`. Raises ``VolumeReadError`` (an ``ImageReadError``)."""
    from qtseg_core.volumes.reader import read_volume as read

    return read(path, series_uid)


def _decode_raster(path: Path, data: np.ndarray) -> np.ndarray:
    """OpenCV decode of the file's bytes with IMREAD_UNCHANGED (keeps 16-bit, alpha and
    float TIFF; from memory, so non-ASCII paths work on Windows too)."""
    image = cv2.imdecode(data, cv2.IMREAD_UNCHANGED) if data.size else None
    if image is None or image.size == 0:
        raise ImageReadError(
            path,
            "the file is corrupt or truncated, or not really a "
            f"{path.suffix.lstrip('.').upper()} file; re-export it as {_FORMATS_HELP} "
            "or remove it from the data set.",
        )
    return image


def _bgr_to_rgb(image: np.ndarray) -> np.ndarray:
    """Swap the first and third channels of a colour image (a new array); grey as it is.
    OpenCV swaps its own dtypes ~20x faster than numpy's strided copy (0.01 against
    0.15 ms for a 160x120 photo, a tenth of its decode)."""
    if image.ndim != 3 or image.shape[2] not in (3, 4):
        return image
    if image.dtype in _CV_SWAP_DTYPES:
        swap = cv2.COLOR_BGR2RGB if image.shape[2] == 3 else cv2.COLOR_BGRA2RGBA
        return cv2.cvtColor(image, swap)
    order = [2, 1, 0] if image.shape[2] == 3 else [2, 1, 0, 3]
    return np.ascontiguousarray(image[:, :, order])


def _to_supported_dtype(image: np.ndarray) -> np.ndarray:
    """Map rare TIFF dtypes onto uint8/uint16/int16/float32 without losing values."""
    if image.dtype in (np.uint8, np.uint16, np.int16, np.float32):
        return image
    if image.dtype == np.int8:
        return image.astype(np.int16)
    if image.dtype == np.bool_:
        return image.astype(np.uint8)
    return image.astype(np.float32)


def _read_dicom(path: Path) -> np.ndarray:
    """Pixels of a single-frame DICOM in real-world units (slope/intercept applied)."""
    import pydicom  # imported here: DICOM is the rare case and pydicom is slow to import

    try:
        dataset = pydicom.dcmread(path)
        pixels = dataset.pixel_array
    except Exception as error:  # pydicom raises many types for bad or compressed files
        raise ImageReadError(
            path,
            f"not a readable DICOM image ({type(error).__name__}: {error}); if it is "
            "compressed, install pylibjpeg or gdcm, otherwise export the slice as PNG.",
        ) from error
    frames = int(dataset.get("NumberOfFrames", 1) or 1)
    if frames > 1:
        raise ImageReadError(
            path, f"it holds {frames} frames, a volume: read it with qtseg_core.io.read_volume "
            "(qtseg predict and the workspace do)."
        )
    return dicom_to_units(pixels, dataset, path=path)


def dicom_to_units(pixels: np.ndarray, dataset: object, *, slope: float | None = None,
                   intercept: float | None = None, path: Path | None = None) -> np.ndarray:
    """Stored DICOM pixels in real-world units (slope/intercept applied, MONOCHROME1
    inverted), uint8/uint16/int16/float32. ``slope``/``intercept`` override the
    dataset's (multi-frame files keep them per frame). A slope or intercept that is not
    a finite number raises ImageReadError naming ``path`` (or the dataset's file)."""
    path = Path(path or getattr(dataset, "filename", None) or "DICOM")
    pixels = _finite(_rescale_dicom(pixels, dataset, slope, intercept, path), path)
    if dataset.get("PhotometricInterpretation") == "MONOCHROME1":  # bright = low values
        flipped = float(pixels.max()) + float(pixels.min()) - pixels.astype(np.float64)
        pixels = flipped.astype(pixels.dtype)  # stays within [min, max]: no overflow
    return _to_supported_dtype(pixels)


def _rescale_dicom(pixels: np.ndarray, dataset: object, slope: float | None,
                   intercept: float | None, path: Path) -> np.ndarray:
    """Apply RescaleSlope/Intercept: int16 when the result is whole and fits, else float32."""
    slope = float(slope) if slope is not None else _dicom_number(
        dataset, "RescaleSlope", 1.0, path)
    intercept = float(intercept) if intercept is not None else _dicom_number(
        dataset, "RescaleIntercept", 0.0, path)
    if slope == 1 and intercept == 0:
        return pixels
    values = pixels.astype(np.float64) * slope + intercept
    whole = slope.is_integer() and intercept.is_integer()
    if whole and values.min() >= -32768 and values.max() <= 32767:
        return values.astype(np.int16)
    return values.astype(np.float32)


def _dicom_number(dataset: object, name: str, default: float, path: Path) -> float:
    """A numeric DICOM attribute as a finite float; ImageReadError naming it otherwise."""
    try:
        value = getattr(dataset, name, default)
        number = float(value if value not in (None, "") else default)
    except (TypeError, ValueError):
        number = float("nan")
    if not np.isfinite(number):
        raise ImageReadError(path, f"its {name} is {getattr(dataset, name, None)!r}, not a "
                             "finite number; fix the DICOM header or export the slice as PNG.")
    return number


def _finite(pixels: np.ndarray, path: Path) -> np.ndarray:
    """Float pixels must be finite: one NaN makes the whole prediction NaN."""
    if pixels.dtype.kind == "f":
        bad = int(pixels.size - np.count_nonzero(np.isfinite(pixels)))
        if bad:
            raise ImageReadError(path, f"{bad} of {pixels.size} pixel values are NaN or "
                                 "infinite; replace them (e.g. with 0) and save the image again.")
    return pixels


def read_mask(path: str | os.PathLike, num_classes: int | None = None) -> np.ndarray:
    """Read a mask file as (H, W) uint8 class indices.

    0/255 (or 0/65535) binary masks become 0/1; class-index masks are kept;
    JPEG masks are lossy, so they are binarised at 128. A colour mask is read
    only when its channels are equal. With ``num_classes`` given, an index
    outside 0..num_classes-1 is an error.
    """
    path = Path(path)
    mask = _single_channel(read_image(path), path)
    if path.suffix.lower() in LOSSY_SUFFIXES:
        return (mask >= 128).astype(np.uint8)
    return _to_class_indices(mask, path, num_classes)


def _single_channel(mask: np.ndarray, path: Path) -> np.ndarray:
    if mask.ndim == 2:
        return mask
    colour = mask[:, :, :3]
    if path.suffix.lower() in LOSSY_SUFFIXES:
        return colour.mean(axis=2)
    if np.all(colour == colour[:, :, :1]):
        return colour[:, :, 0]
    raise ImageReadError(
        path,
        "it is a colour mask; save masks as single-channel PNGs of class indices "
        "(0 background, 1..N-1 classes) or 0/255 for a binary mask.",
    )


def _to_class_indices(mask: np.ndarray, path: Path, num_classes: int | None) -> np.ndarray:
    if not np.issubdtype(mask.dtype, np.integer):
        raise ImageReadError(path, f"the mask holds {mask.dtype} values; save class indices.")
    values = np.unique(mask)
    top = np.iinfo(mask.dtype).max
    for foreground in (255, top):  # 0/255 binary, also when stored as 16-bit
        if values.max(initial=0) == foreground and set(values.tolist()) <= {0, foreground}:
            return (mask == foreground).astype(np.uint8)
    limit = num_classes if num_classes is not None else top
    if values.min(initial=0) < 0 or values.max(initial=0) >= min(limit, 255):
        shown = values[:8].tolist()
        raise ImageReadError(
            path,
            f"mask values {shown}{'...' if len(values) > 8 else ''} are neither 0/255 "
            f"binary nor class indices below {min(limit, 255)}; save 0..N-1 class indices "
            "(or 0/255 for binary), or list the classes in classes.json.",
        )
    return mask.astype(np.uint8)


def write_png_atomic(
    path: str | os.PathLike, array: np.ndarray, batch: AtomicWriteBatch | None = None
) -> Path:
    """Write a (H, W), (H, W, 3 RGB) or (H, W, 4 RGBA) uint8/uint16 array as PNG atomically.

    The PNG goes to a temporary file in the same folder, is flushed to disk and
    then renamed over ``path``, so a crash never leaves a half-written mask.
    With ``batch`` the flush and the rename wait for ``batch.commit()``, one
    sync for many files (``qtseg predict``).
    """
    path = Path(path)
    if array.dtype not in (np.uint8, np.uint16) or array.ndim not in (2, 3):
        raise ValueError(
            f"write_png_atomic({path}): got a {array.dtype} array of shape {array.shape}; "
            "give (H, W) or (H, W, 3|4) uint8 or uint16 (masks: uint8 class indices)."
        )
    ok, encoded = cv2.imencode(".png", _bgr_to_rgb(array))  # RGB->BGR is the same swap
    if not ok:
        raise ValueError(f"write_png_atomic({path}): OpenCV could not encode shape {array.shape}.")
    write = atomic_write if batch is None else batch.write
    return write(path, lambda stream: stream.write(encoded.tobytes()))


def write_json_atomic(path: str | os.PathLike, data: object, indent: int = 2) -> Path:
    """Write ``data`` as UTF-8 JSON (configs, job files, summaries) with ``atomic_write``."""
    text = json.dumps(data, indent=indent) + "\n"
    return atomic_write(path, lambda stream: stream.write(text.encode("utf-8")))


def atomic_write(path: str | os.PathLike, write: Callable[[BinaryIO], object]) -> Path:
    """Write a file so that readers (and a crash) see the old or the new file, never half.

    ``write`` fills a temporary file in the same folder; it is synced to disk,
    then renamed over ``path``. The one way the product writes masks, model
    files and checkpoints (:class:`~qtseg_core.atomic_batch.AtomicWriteBatch`
    does the same for many files with one sync).
    """
    path = Path(path)
    temporary = write_temporary(path, write, sync=True)
    try:
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return path


def write_temporary(path: Path, write: Callable[[BinaryIO], object], *, sync: bool) -> Path:
    """Fill ``.<name>.<pid>@<host>.<random>.tmp`` beside ``path`` with ``write`` (mode
    0644), synced to disk when ``sync``; deleted again when ``write`` fails. The writer in
    the name lets a later run remove a crashed writer's leftovers
    (:mod:`qtseg_core.temporaries`)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=temporary_prefix(path), suffix=".tmp",
                                         dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            write(stream)
            stream.flush()
            if sync:
                os.fsync(stream.fileno())
        os.chmod(temporary, 0o644)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return Path(temporary)
