"""Safe image decoding: byte, pixel and time limits, optional draft-mode downscaling.

The limits are per call (a :class:`DecodeLimits`), not Pillow's process-wide
``Image.MAX_IMAGE_PIXELS``, so two callers with different needs can share a process.

* Bytes: checked before anything is parsed.
* Pixels: the declared width x height is checked after the header is read and before
  any pixel data is decoded, so a decompression bomb (a few KB declaring 100k x 100k)
  costs microseconds.
* Time: the decoder pulls its input through a reader that checks a deadline on every
  read (Pillow feeds decoders in blocks of at most 64 KiB), and the deadline is checked
  again between stages. One block of one decoder call cannot be interrupted; the pixel
  cap bounds how long that can take.
* Formats: an allowlist (Pillow would otherwise also open EPS through Ghostscript, PSD,
  FITS and a dozen more); anything else gets a clear "unsupported" error naming what the
  bytes look like.

Orientation: pixels are returned as stored, without applying the EXIF orientation tag.
That is what the PDQ reference tools and ThreatExchange/HMA hash, so hashes stay
comparable with shared hash lists; the tag is reported (:attr:`DecodedImage.orientation`)
so a matcher can also try the displayed orientation.
"""

from __future__ import annotations

import io
import time
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt
from PIL import Image, UnidentifiedImageError

from bastion.content.errors import (
    ContentError,
    CorruptImage,
    DecodeTimeout,
    EmptyContent,
    TooLarge,
    TooManyPixels,
    UnsupportedFormat,
)

__all__ = ["DEFAULT_LIMITS", "DecodeLimits", "DecodedImage", "decode_image", "describe_bytes"]

#: Formats accepted by default (Pillow format names). JPEG includes MPO (camera JPEGs).
DEFAULT_FORMATS: Final = ("JPEG", "PNG", "GIF", "WEBP", "BMP", "TIFF", "AVIF")

#: EXIF tag number of Orientation.
_ORIENTATION_TAG: Final = 0x0112


@dataclass(frozen=True, slots=True)
class DecodeLimits:
    """Per-call limits for :func:`decode_image`."""

    max_bytes: int = 64 * 1024 * 1024
    max_pixels: int = 64_000_000
    timeout_s: float = 5.0
    formats: tuple[str, ...] = DEFAULT_FORMATS


DEFAULT_LIMITS: Final = DecodeLimits()


@dataclass(frozen=True, slots=True)
class DecodedImage:
    """Decoded RGB pixels (H x W x 3, uint8, C-contiguous) and what was learnt on the way."""

    rgb: npt.NDArray[np.uint8]
    width: int
    """Declared width of the stored image (before any downscaling)."""
    height: int
    format: str
    orientation: int
    """EXIF orientation 1..8 (1 when absent or invalid); not applied to :attr:`rgb`."""
    scale: int
    """Downscaling factor applied while decoding (1 = full resolution)."""


class _DeadlineReader(io.BytesIO):
    """An in-memory file whose reads fail once the deadline has passed."""

    def __init__(self, data: bytes, deadline: float, timeout_s: float) -> None:
        super().__init__(data)
        self._deadline = deadline
        self._timeout_s = timeout_s

    def read(self, size: int | None = -1, /) -> bytes:
        _check_deadline(self._deadline, self._timeout_s)
        return super().read(size)


def _check_deadline(deadline: float, timeout_s: float) -> None:
    if time.monotonic() > deadline:
        raise DecodeTimeout(f"decoding took longer than the {timeout_s:g} s limit")


def decode_image(
    data: bytes, limits: DecodeLimits = DEFAULT_LIMITS, *, min_side: int | None = None
) -> DecodedImage:
    """Decode ``data`` to RGB within ``limits``.

    With ``min_side``, the image is decoded at a reduced size whose shorter side stays at
    least ``min_side`` pixels: JPEG through libjpeg's DCT scaling (draft mode, 1/2, 1/4 or
    1/8, which also makes decoding several times faster), other formats by an integer box
    reduction after decoding. ``None`` decodes at full resolution (exact reference hashes).

    Raises a :class:`~bastion.content.errors.ContentError` subclass with a one-line
    message for every input that cannot be decoded.
    """
    start = time.monotonic()
    deadline = start + limits.timeout_s
    if not data:
        raise EmptyContent("empty file (0 bytes)")
    if len(data) > limits.max_bytes:
        raise TooLarge(f"{len(data)} bytes is over the {limits.max_bytes} byte limit")
    fp = _DeadlineReader(data, deadline, limits.timeout_s)
    try:
        im = Image.open(fp, formats=limits.formats)
    except UnidentifiedImageError:
        raise _unidentified(data, limits.formats) from None
    except Image.DecompressionBombError as exc:
        raise TooManyPixels(f"decompression bomb: {exc}") from None
    except ContentError:
        raise
    except Exception as exc:
        what = describe_bytes(data)
        raise CorruptImage(f"truncated or corrupt image header ({what}): {_reason(exc)}") from None
    with im:
        return _decode_opened(im, limits, min_side, deadline)


def _decode_opened(
    im: Image.Image, limits: DecodeLimits, min_side: int | None, deadline: float
) -> DecodedImage:
    width, height = im.size
    fmt = im.format or "unknown"
    if width <= 0 or height <= 0:
        raise CorruptImage(f"{fmt} image declares an empty size {width}x{height}")
    if width * height > limits.max_pixels:
        raise TooManyPixels(
            f"{fmt} image is {width}x{height} = {width * height} pixels, over the cap of "
            f"{limits.max_pixels} (decompression bomb or too large)"
        )
    orientation = _orientation(im)
    scale = 1
    try:
        if min_side is not None and fmt in ("JPEG", "MPO"):
            im.draft(None, (min_side, min_side))
            scale = max(1, round(width / im.size[0]))
        im.load()
        _check_deadline(deadline, limits.timeout_s)
        if min_side is not None and scale == 1:
            factor = min(width, height) // min_side
            if factor >= 2:
                im = im.reduce(factor)
                scale = factor
        rgb = _to_rgb_array(im)
    except ContentError:
        raise
    except MemoryError:
        raise TooManyPixels(f"{fmt} image {width}x{height} is too large to decode") from None
    except Exception as exc:
        raise CorruptImage(f"truncated or corrupt {fmt} data: {_reason(exc)}") from None
    _check_deadline(deadline, limits.timeout_s)
    return DecodedImage(rgb, width, height, fmt, orientation, scale)


def _to_rgb_array(im: Image.Image) -> npt.NDArray[np.uint8]:
    """RGB uint8 pixels; alpha is dropped (as ThreatExchange's hasher does), 16-bit scaled."""
    if im.mode in ("I", "I;16", "I;16B", "I;16L", "I;16N", "F"):
        wide = np.asarray(im, dtype=np.float64)
        if im.mode != "F" and wide.max(initial=0.0) > 255.0:
            wide = wide / 257.0
        gray = np.clip(wide, 0.0, 255.0).astype(np.uint8)
        im = Image.fromarray(gray, mode="L")
    if im.mode != "RGB":
        im = im.convert("RGB")
    return np.ascontiguousarray(np.asarray(im, dtype=np.uint8))


def _orientation(im: Image.Image) -> int:
    try:
        value = im.getexif().get(_ORIENTATION_TAG, 1)
    except Exception:
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return text or type(exc).__name__


# Magic numbers: what the bytes look like, for a useful "unsupported" message.
_IMAGE_MAGIC: Final = (
    (b"\xff\xd8\xff", "JPEG"),
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"BM", "BMP"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
)
_OTHER_MAGIC: Final = (
    (b"%PDF", "a PDF document"),
    (b"%!PS", "a PostScript/EPS file"),
    (b"8BPS", "a Photoshop (PSD) file"),
    (b"\x00\x00\x01\x00", "an ICO icon"),
    (b"PK\x03\x04", "a ZIP archive"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"\x7fELF", "an ELF executable"),
    (b"MZ", "a Windows executable"),
    (b"OggS", "an Ogg media file"),
    (b"ID3", "an MP3 audio file"),
    (b"\x1a\x45\xdf\xa3", "a Matroska/WebM video"),
)
_HEIF_BRANDS: Final = (b"heic", b"heix", b"hevc", b"hevx", b"mif1", b"msf1", b"heim", b"heis")


def describe_bytes(data: bytes) -> str:
    """A short guess at what ``data`` is, from its first bytes."""
    head = data[:512]
    for magic, fmt in _IMAGE_MAGIC:
        if head.startswith(magic):
            return f"a {fmt} image"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "a WebP image"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in _HEIF_BRANDS:
            return "a HEIC/HEIF image"
        if brand in (b"avif", b"avis"):
            return "an AVIF image"
        return "an MP4/QuickTime media file"
    for magic, what in _OTHER_MAGIC:
        if head.startswith(magic):
            return what
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if stripped.startswith(b"<svg") or (stripped.startswith(b"<?xml") and b"<svg" in head.lower()):
        return "an SVG image (vector images are not supported)"
    if stripped.startswith((b"<!doctype html", b"<html")):
        return "an HTML document"
    text = head.decode("utf-8", errors="ignore")
    printable = sum(c.isprintable() or c in "\t\r\n" for c in text)
    if text and printable >= 0.95 * len(text):
        return "a text file"
    return "not a recognised image format"


def _unidentified(data: bytes, formats: tuple[str, ...]) -> ContentError:
    what = describe_bytes(data)
    accepted = ", ".join(formats)
    for magic, fmt in _IMAGE_MAGIC:
        if data.startswith(magic) and (fmt in formats or (fmt == "JPEG" and "MPO" in formats)):
            return CorruptImage(f"truncated or corrupt image header ({what})")
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP" and "WEBP" in formats:
        return CorruptImage(f"truncated or corrupt image header ({what})")
    return UnsupportedFormat(f"unsupported format: {what} (accepted: {accepted})")
