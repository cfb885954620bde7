"""Evidence attachments: what a reporter may attach, checked by content, stored by hash.

Accepted: PNG, JPEG, GIF, WebP, PDF (each recognised by its magic bytes, whatever the
declared type), plain UTF-8 text and RFC 822 mail (a phishing message). The declared type
must agree with the content. Evidence is only ever served back to staff as
``application/octet-stream`` with ``Content-Disposition: attachment``, ``nosniff`` and a
sandboxing CSP (:data:`DOWNLOAD_HEADERS`): never a type a browser would render or execute.

A report's id is the capability to attach to it (the reporter got it in the 202 answer; 80
random bits); its first 12 hex digits are the submission time in milliseconds, so evidence
is accepted only within :data:`ATTACH_WINDOW_S` of the submission, before the report may
even have reached the database.
"""

from __future__ import annotations

import hashlib
import re
import time
from dataclasses import dataclass

from bastion.abuse.errors import AbuseError

ATTACH_WINDOW_S = 24 * 3600
_REPORT_ID = re.compile(r"^[0-9a-f]{32}$")
#: Headers every evidence download carries.
DOWNLOAD_HEADERS = {
    "Content-Type": "application/octet-stream",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "Cache-Control": "no-store",
    "Cross-Origin-Resource-Policy": "same-origin",
}
_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"%PDF-", "application/pdf"),
)
ACCEPTED = ("image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf",
            "text/plain", "message/rfc822")  # fmt: skip


class InvalidEvidenceError(AbuseError):
    """An attachment that is refused (the message says why)."""


@dataclass(frozen=True, slots=True)
class Evidence:
    sha256: str
    media_type: str
    size: int
    filename: str


def sniff(data: bytes) -> str | None:
    """The type the bytes are (binary formats by magic bytes), or ``None``."""
    for magic, media_type in _MAGIC:
        if data.startswith(magic):
            return media_type
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def check_report_id(report_id: str, now: float | None = None) -> None:
    """Raise unless ``report_id`` is a report id submitted within the attach window."""
    if not _REPORT_ID.match(report_id):
        raise InvalidEvidenceError("not a report id (32 hex digits, as the 202 answer gave)")
    submitted = int(report_id[:12], 16) / 1000
    now = time.time() if now is None else now
    if not now - ATTACH_WINDOW_S <= submitted <= now + 300:
        raise InvalidEvidenceError(
            f"evidence is accepted within {ATTACH_WINDOW_S // 3600} hours of the report"
        )


def accept_evidence(data: bytes, declared: str, filename: str, *, max_bytes: int) -> Evidence:
    """Check one attachment; raises :class:`InvalidEvidenceError` naming the problem."""
    if not data:
        raise InvalidEvidenceError("the attachment is empty")
    if len(data) > max_bytes:
        raise InvalidEvidenceError(f"an attachment is at most {max_bytes} bytes")
    media_type = declared.split(";", 1)[0].strip().lower()
    if media_type not in ACCEPTED:
        raise InvalidEvidenceError(
            f"type {media_type or 'none'!r} is not accepted: one of {', '.join(ACCEPTED)}"
        )
    found = sniff(data)
    if media_type in ("text/plain", "message/rfc822"):
        if found is not None:
            raise InvalidEvidenceError(f"declared {media_type} but the content is {found}")
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidEvidenceError(f"{media_type} must be UTF-8 (byte {exc.start})") from None
    elif found != media_type:
        raise InvalidEvidenceError(
            f"declared {media_type} but the content is {found or 'not a known format'}"
        )
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", filename.strip())[:100].strip("._") or "evidence"
    return Evidence(hashlib.sha256(data).hexdigest(), media_type, len(data), name)
