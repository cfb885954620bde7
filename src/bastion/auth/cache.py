"""An in-process cache in front of token verification, for the request hot path."""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol

from bastion.auth.principal import Principal
from bastion.auth.tokens import MalformedTokenError, parse_token


class Authenticator(Protocol):
    """Anything that turns a token into a principal (``TokenStore``, the cache itself)."""

    def authenticate(self, plaintext: str) -> Principal | None: ...


def _utcnow() -> datetime:
    return datetime.now(UTC)


class CachedAuthenticator:
    """Caches ``store.authenticate`` results so most requests do not query the database.

    A verified token is cached for ``ttl_s`` seconds (never past its expiry), so a revoked
    token stops working within ``ttl_s``; an unknown, revoked or expired one is cached for
    ``negative_ttl_s`` (default: ``min(ttl_s, 1)``), which keeps a flood of one bad token
    off the database. Malformed text is refused without a lookup and not cached. At most
    ``max_entries`` tokens are kept, least recently used dropped first. Keys are SHA-256
    digests: no plaintext token is held. Thread-safe; database errors propagate.
    ``ttl_s=0`` turns caching off.
    """

    def __init__(
        self,
        store: Authenticator,
        ttl_s: float,
        *,
        negative_ttl_s: float | None = None,
        max_entries: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        if ttl_s < 0 or max_entries < 1:
            raise ValueError("ttl_s must be >= 0 and max_entries >= 1")
        self._store = store
        self._ttl = float(ttl_s)
        neg = min(self._ttl, 1.0) if negative_ttl_s is None else float(negative_ttl_s)
        self._negative_ttl = min(neg, self._ttl)
        self._max = max_entries
        self._clock = clock
        self._wall_clock = wall_clock
        self._entries: OrderedDict[bytes, tuple[float, Principal | None]] = OrderedDict()
        self._lock = threading.Lock()

    def authenticate(self, plaintext: str) -> Principal | None:
        """The principal for ``plaintext``, from the cache when fresh; ``None`` if refused."""
        try:
            parse_token(plaintext)
        except MalformedTokenError:
            return None
        if self._ttl == 0:
            return self._store.authenticate(plaintext)
        key = hashlib.sha256(plaintext.encode("utf-8")).digest()
        now = self._clock()
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                if entry[0] > now:
                    self._entries.move_to_end(key)
                    return entry[1]
                del self._entries[key]
        principal = self._store.authenticate(plaintext)
        ttl = self._ttl if principal is not None else self._negative_ttl
        if principal is not None and principal.expires_at is not None:
            ttl = min(ttl, (principal.expires_at - self._wall_clock()).total_seconds())
        if ttl > 0:
            with self._lock:
                self._entries[key] = (now + ttl, principal)
                self._entries.move_to_end(key)
                while len(self._entries) > self._max:
                    self._entries.popitem(last=False)
        return principal

    def clear(self) -> None:
        """Forget everything (e.g. right after revoking a token in this process)."""
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)
