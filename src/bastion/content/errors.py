"""Errors raised while reading, decoding or hashing content.

Every error carries a short machine-readable ``code`` and the HTTP status an API should
answer with, so the service can turn any of them into a clear 4xx without guessing.
"""

from __future__ import annotations

from typing import ClassVar

__all__ = [
    "ContentError",
    "CorruptImage",
    "DecodeTimeout",
    "EmptyContent",
    "TooLarge",
    "TooManyPixels",
    "UnsupportedFormat",
]


class ContentError(ValueError):
    """Content that cannot be hashed; the message says why in one line."""

    code: ClassVar[str] = "content_error"
    http_status: ClassVar[int] = 422


class EmptyContent(ContentError):
    """Zero bytes."""

    code = "empty"
    http_status = 400


class TooLarge(ContentError):
    """More bytes than the configured limit."""

    code = "too_large"
    http_status = 413


class TooManyPixels(ContentError):
    """Declared dimensions above the pixel cap (a decompression bomb or just too big)."""

    code = "too_many_pixels"
    http_status = 413


class UnsupportedFormat(ContentError):
    """Not an image, or an image format that is not accepted."""

    code = "unsupported_format"
    http_status = 415


class CorruptImage(ContentError):
    """A recognised image format whose data is truncated or malformed."""

    code = "corrupt_image"
    http_status = 422


class DecodeTimeout(ContentError):
    """Decoding took longer than the configured time limit."""

    code = "decode_timeout"
    http_status = 422
