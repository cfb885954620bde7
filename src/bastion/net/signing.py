"""Webhook signatures: HMAC-SHA256 over a timestamp and the exact body bytes.

bastion signs every webhook it sends (notifications, reports, abuse notices) when a
secret is configured. The header is::

    X-Bastion-Signature: t=1700000000,v1=5257a869e7ec...

where ``v1`` is ``hex(HMAC-SHA256(secret, f"{t}.".encode() + body))``. A receiver
recomputes it over the raw body it received, compares in constant time and rejects a
timestamp outside its tolerance (replays). During a secret rotation bastion may be
configured with the new secret while the receiver accepts both: :func:`verify` takes
several secrets. Receivers in Python can use :func:`verify` directly.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Iterable

SIGNATURE_HEADER = "X-Bastion-Signature"
SCHEME = "v1"
#: Seconds a signature stays acceptable by default (clock skew plus delivery delay).
DEFAULT_TOLERANCE_S = 300
#: A header longer than this is refused before it is parsed.
MAX_HEADER_CHARS = 4096


class SignatureError(ValueError):
    """A webhook signature is missing, malformed, stale or does not match; says which."""


def _digest(secret: bytes, timestamp: int, body: bytes) -> str:
    return hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def sign(secret: bytes, body: bytes, *, timestamp: int | None = None) -> str:
    """The value of the signature header for ``body`` sent at ``timestamp`` (default now)."""
    if not secret:
        raise ValueError("the webhook secret is empty")
    t = int(time.time()) if timestamp is None else timestamp
    return f"t={t},{SCHEME}={_digest(secret, t, body)}"


def verify(
    secrets: bytes | Iterable[bytes],
    body: bytes,
    header: str | None,
    *,
    tolerance_s: int = DEFAULT_TOLERANCE_S,
    now: float | None = None,
) -> int:
    """Check a signature header against ``body``; returns its timestamp.

    Raises :class:`SignatureError` naming the problem: no header, a malformed one, a
    timestamp further than ``tolerance_s`` from ``now``, or no matching ``v1`` value for
    any of ``secrets``.
    """
    keys = [secrets] if isinstance(secrets, bytes) else list(secrets)
    if not keys or not all(keys):
        raise ValueError("at least one non-empty secret is needed to verify")
    if not header:
        raise SignatureError(f"the {SIGNATURE_HEADER} header is missing")
    if len(header) > MAX_HEADER_CHARS:
        raise SignatureError(f"the {SIGNATURE_HEADER} header is over {MAX_HEADER_CHARS} chars")
    timestamp: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        name, sep, value = part.strip().partition("=")
        if not sep:
            raise SignatureError(f"malformed {SIGNATURE_HEADER} part {part.strip()!r}")
        if name == "t":
            if not value.isdigit() or len(value) > 12:
                raise SignatureError(f"the timestamp {value!r} is not a Unix time")
            timestamp = int(value)
        elif name == SCHEME:
            candidates.append(value)
    if timestamp is None:
        raise SignatureError(f"the {SIGNATURE_HEADER} header has no t= timestamp")
    if not candidates:
        raise SignatureError(f"the {SIGNATURE_HEADER} header has no {SCHEME}= signature")
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance_s:
        raise SignatureError(
            f"the signature's timestamp is {abs(current - timestamp):.0f} s away from now "
            f"(tolerance {tolerance_s} s): a stale or replayed delivery"
        )
    for key in keys:
        expected = _digest(key, timestamp, body)
        if any(hmac.compare_digest(expected, c) for c in candidates):
            return timestamp
    raise SignatureError("the signature does not match the body for any configured secret")
