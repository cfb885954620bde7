"""Which model acts on a request: the active one, or the canary for a stable share.

The canary share is picked by a stable hash (BLAKE2b) of the zone (the request's host)
or of the client address, so one zone or client always meets the same model while the
percentage holds, in every worker. A :class:`RoutePlan` is immutable: a worker swaps the
whole plan at once, and a request that took the old plan finishes on it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Generic, TypeVar

M = TypeVar("M")

#: Buckets of the canary hash: percentages resolve to 0.01 %.
BUCKETS = 10_000


def bucket(key: str) -> int:
    """A stable bucket in ``[0, BUCKETS)`` for ``key`` (same in every process and release)."""
    digest = hashlib.blake2b(key.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "big") % BUCKETS


def in_canary(key: str, percent: float) -> bool:
    """Whether ``key`` falls in the first ``percent`` % of buckets."""
    return bucket(key) < round(percent * BUCKETS / 100)


def zone_of(host: str | None) -> str:
    """The zone a Host header names: lower case, without port or trailing dot."""
    if not host:
        return ""
    host = host.strip().lower()
    if host.startswith("["):  # [v6]:port
        return host.split("]", 1)[0] + "]"
    return host.rsplit(":", 1)[0].rstrip(".") if host.count(":") == 1 else host.rstrip(".")


def client_of(forwarded_for: str | None, real_ip: str | None) -> str:
    """The client address a request carries (first ``X-Forwarded-For`` hop, ``X-Real-IP``)."""
    if forwarded_for:
        return forwarded_for.split(",", 1)[0].strip()
    return (real_ip or "").strip()


@dataclass(frozen=True)
class RoutePlan(Generic[M]):
    """The models one worker serves with, and how traffic is split between them."""

    active: M
    revision: int = 0
    canary: M | None = None
    canary_percent: float = 0.0
    canary_key: str = "zone"
    shadow: M | None = None

    def pick(self, zone: str, client: str) -> M:
        """The model that acts on a request of ``zone`` from ``client``."""
        if self.canary is None or self.canary_percent <= 0:
            return self.active
        key = client if self.canary_key == "client" and client else zone
        return self.canary if in_canary(key, self.canary_percent) else self.active
