"""Safe decoding: every bad input gets a clear error, fast; good inputs decode as expected."""

from __future__ import annotations

import io
import struct
import time
import zlib
from collections.abc import Callable

import numpy as np
import pdqhash
import pytest
from PIL import Image

from bastion.content import (
    ContentError,
    CorruptImage,
    DecodeLimits,
    DecodeTimeout,
    EmptyContent,
    TooLarge,
    TooManyPixels,
    UnsupportedFormat,
    decode_image,
    hash_content,
)
from bastion.content.decode import describe_bytes
from bastion.content.signals import pdq_bits_to_hex

ToBytes = Callable[..., bytes]


def expect(error: type[ContentError], data: bytes, limits: DecodeLimits | None = None) -> str:
    start = time.perf_counter()
    with pytest.raises(error) as info:
        decode_image(data, limits or DecodeLimits())
    assert time.perf_counter() - start < 1.0, "bad input must fail fast"
    message = str(info.value)
    assert message and "\n" not in message
    return message


def png_with_size(width: int, height: int) -> bytes:
    """A tiny valid-looking PNG whose IHDR declares ``width`` x ``height`` (a bomb header)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    body = struct.pack(">I", len(ihdr)) + chunk + struct.pack(">I", zlib.crc32(chunk))
    idat = zlib.compress(b"\x00" * 1024)
    body += struct.pack(">I", len(idat)) + b"IDAT" + idat
    body += struct.pack(">I", zlib.crc32(b"IDAT" + idat))
    return b"\x89PNG\r\n\x1a\n" + body + b"\x00\x00\x00\x00IEND\xaeB`\x82"


def jpeg_with_size(data: bytes, width: int, height: int) -> bytes:
    """``data`` (a baseline JPEG) with its SOF0 frame size rewritten."""
    at = data.index(b"\xff\xc0")
    return data[: at + 5] + struct.pack(">HH", height, width) + data[at + 9 :]


def test_zero_bytes() -> None:
    assert "empty" in expect(EmptyContent, b"")


def test_byte_limit(make_image: Callable[..., Image.Image], to_bytes: ToBytes) -> None:
    data = to_bytes(make_image(1))
    assert "byte limit" in expect(TooLarge, data, DecodeLimits(max_bytes=len(data) - 1))
    decode_image(data, DecodeLimits(max_bytes=len(data)))


@pytest.mark.parametrize(
    ("data", "what"),
    [
        (b"hello, world\nthis is text\n", "text file"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "PDF"),
        (b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"></svg>', "SVG"),
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic", "HEIC"),
        (b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\n", "PostScript"),
        (b"8BPS\x00\x01" + b"\x00" * 40, "Photoshop"),
        (bytes(range(256)) * 8, "not a recognised image"),
        (b"PK\x03\x04" + b"\x00" * 60, "ZIP"),
    ],
)
def test_non_images_and_unsupported_formats(data: bytes, what: str) -> None:
    message = expect(UnsupportedFormat, data)
    assert what in message
    assert "accepted: JPEG" in message


def test_format_allowlist(make_image: Callable[..., Image.Image], to_bytes: ToBytes) -> None:
    data = to_bytes(make_image(2), "PNG")
    assert "PNG" in expect(UnsupportedFormat, data, DecodeLimits(formats=("JPEG",)))


def test_truncated_jpeg_and_png(make_image: Callable[..., Image.Image], to_bytes: ToBytes) -> None:
    image = make_image(3)
    jpeg = to_bytes(image, quality=90)
    assert "truncated" in expect(CorruptImage, jpeg[: len(jpeg) // 2])
    assert "JPEG" in expect(CorruptImage, jpeg[:20])
    png = to_bytes(image, "PNG")
    expect(CorruptImage, png[: len(png) // 2])
    expect(CorruptImage, png[:30])


def test_corrupt_png_header_checksum(
    make_image: Callable[..., Image.Image], to_bytes: ToBytes
) -> None:
    png = bytearray(to_bytes(make_image(4), "PNG"))
    at = png.index(b"IHDR") + 17  # the chunk's CRC
    png[at : at + 4] = bytes(4)
    assert "PNG" in expect(CorruptImage, bytes(png))


def gif_with_size(image: Image.Image, width: int, height: int) -> bytes:
    """A GIF whose screen and first image descriptor declare ``width`` x ``height``."""
    buf = io.BytesIO()
    image.convert("P").save(buf, "GIF")
    data = bytearray(buf.getvalue())
    data[6:10] = struct.pack("<HH", width, height)
    at = data.index(b",", 13)
    data[at + 5 : at + 9] = struct.pack("<HH", width, height)
    return bytes(data)


def test_bomb_headers_fail_before_decoding(
    make_image: Callable[..., Image.Image], to_bytes: ToBytes
) -> None:
    assert "pixels" in expect(TooManyPixels, png_with_size(100_000, 100_000))
    assert "pixels" in expect(TooManyPixels, png_with_size(9_000, 9_000))  # 81M > 64M cap
    expect(TooManyPixels, gif_with_size(make_image(5, (40, 30)), 65535, 65535))
    jpeg = to_bytes(make_image(5), quality=80)
    assert "pixels" in expect(TooManyPixels, jpeg_with_size(jpeg, 60_000, 60_000))


def test_pixel_cap_is_per_call(make_image: Callable[..., Image.Image], to_bytes: ToBytes) -> None:
    data = to_bytes(make_image(6, (200, 100)), "PNG")
    message = expect(TooManyPixels, data, DecodeLimits(max_pixels=19_999))
    assert "200x100" in message
    assert decode_image(data, DecodeLimits(max_pixels=20_000)).rgb.shape == (100, 200, 3)


def test_time_limit(make_image: Callable[..., Image.Image], to_bytes: ToBytes) -> None:
    data = to_bytes(make_image(7))
    assert "limit" in expect(DecodeTimeout, data, DecodeLimits(timeout_s=1e-9))


def test_draft_mode_downscales_jpeg_and_png(
    make_image: Callable[..., Image.Image], to_bytes: ToBytes
) -> None:
    image = make_image(8, (1024, 768))
    jpeg = to_bytes(image, quality=85)
    full = decode_image(jpeg)
    assert full.rgb.shape == (768, 1024, 3) and full.scale == 1
    draft = decode_image(jpeg, min_side=384)
    assert draft.rgb.shape == (384, 512, 3) and draft.scale == 2
    assert (draft.width, draft.height) == (1024, 768)
    png = decode_image(to_bytes(image, "PNG"), min_side=384)
    assert png.rgb.shape == (384, 512, 3) and png.scale == 2
    small = decode_image(to_bytes(make_image(9, (500, 400))), min_side=384)
    assert small.scale == 1 and small.rgb.shape == (400, 500, 3)
    # The fast hash stays close to the exact one.
    exact = hash_content(jpeg).hashes["pdq"].value
    fast = hash_content(jpeg, fast=True).hashes["pdq"].value
    assert (int(exact, 16) ^ int(fast, 16)).bit_count() <= 24


@pytest.mark.parametrize("mode", ["L", "RGBA", "LA", "P", "CMYK", "I;16", "1"])
def test_image_modes_decode_to_rgb(
    mode: str, make_image: Callable[..., Image.Image], to_bytes: ToBytes
) -> None:
    base = make_image(10, (96, 64))
    if mode == "I;16":
        gray = np.asarray(base.convert("L"), dtype=np.uint16) * 257
        image = Image.fromarray(gray)
        assert image.mode == "I;16"
    else:
        image = base.convert(mode)
    fmt = "JPEG" if mode == "CMYK" else "PNG"
    decoded = decode_image(to_bytes(image, fmt))
    assert decoded.rgb.shape == (64, 96, 3)
    assert decoded.rgb.dtype == np.uint8 and decoded.rgb.flags.c_contiguous
    if mode == "I;16":  # 16-bit scaled to 8 bits, not clipped to white
        np.testing.assert_array_equal(decoded.rgb[:, :, 0], np.asarray(base.convert("L")))


def test_grayscale_and_alpha_hash_like_threatexchange(
    make_image: Callable[..., Image.Image], to_bytes: ToBytes
) -> None:
    """ThreatExchange hashes L images by stacking the gray plane and RGBA by its RGB planes."""
    gray = make_image(11).convert("L")
    stacked = np.ascontiguousarray(np.stack([np.asarray(gray)] * 3, axis=2))
    vec, _ = pdqhash.compute(stacked)
    assert hash_content(to_bytes(gray, "PNG")).hashes["pdq"].value == pdq_bits_to_hex(vec)
    rgba = make_image(12).convert("RGBA")
    vec, _ = pdqhash.compute(np.ascontiguousarray(np.asarray(rgba)))
    assert hash_content(to_bytes(rgba, "PNG")).hashes["pdq"].value == pdq_bits_to_hex(vec)


def test_exif_orientation_is_reported_not_applied(
    make_image: Callable[..., Image.Image], to_bytes: ToBytes
) -> None:
    image = make_image(13, (160, 96))
    exif = Image.Exif()
    exif[0x0112] = 6
    decoded = decode_image(to_bytes(image, exif=exif.tobytes()))
    assert decoded.orientation == 6
    assert decoded.rgb.shape == (96, 160, 3)
    assert decode_image(to_bytes(image)).orientation == 1


def test_animated_gif_hashes_first_frame(make_image: Callable[..., Image.Image]) -> None:
    frames = [make_image(14, (80, 60)).convert("P"), make_image(15, (80, 60)).convert("P")]
    buf = io.BytesIO()
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:])
    decoded = decode_image(buf.getvalue())
    np.testing.assert_array_equal(decoded.rgb, np.asarray(frames[0].convert("RGB")))


def test_describe_bytes() -> None:
    assert describe_bytes(b"\xff\xd8\xff\xe0") == "a JPEG image"
    assert describe_bytes(b"RIFF\x00\x00\x00\x00WEBPVP8 ") == "a WebP image"
    assert describe_bytes(b"\x00\x00\x00\x1cftypavif") == "an AVIF image"
    assert describe_bytes(b"<!DOCTYPE html><html>") == "an HTML document"
