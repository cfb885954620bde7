"""SHA-256 -> hashes cache, so identical content is decoded and hashed once.

Hashes are cached, not verdicts: matching is cheap and must see the current banks.
Only content that hashed without errors is cached.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import OrderedDict
from typing import Any, Protocol

import orjson

from bastion.content import ContentHashes, ImageInfo, SignalHash


class HashCache(Protocol):
    """Where hashes of content seen before are kept."""

    def get(self, key: str) -> ContentHashes | None: ...

    def put(self, key: str, hashes: ContentHashes) -> None: ...


def dump_hashes(hashes: ContentHashes) -> bytes:
    """``hashes`` (without errors) as JSON."""
    image = hashes.image
    return orjson.dumps(
        {
            "h": {
                n: [h.value, h.quality, [list(v) for v in h.variants]]
                for n, h in hashes.hashes.items()
            },
            "i": None
            if image is None
            else [image.width, image.height, image.format, image.orientation, image.scale],
        }
    )


def load_hashes(raw: bytes) -> ContentHashes:
    """The inverse of :func:`dump_hashes`."""
    obj: dict[str, Any] = orjson.loads(raw)
    found = {
        n: SignalHash(n, v, q, tuple((a, b) for a, b in variants))
        for n, (v, q, variants) in obj["h"].items()
    }
    image = None if obj["i"] is None else ImageInfo(*obj["i"])
    return ContentHashes(found, {}, image)


class LocalHashCache:
    """An in-process LRU with a TTL; thread-safe."""

    def __init__(self, size: int, ttl_s: float) -> None:
        self.size = size
        self.ttl_s = ttl_s
        self._data: OrderedDict[str, tuple[float, ContentHashes]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> ContentHashes | None:
        with self._lock:
            item = self._data.get(key)
            if item is None:
                return None
            if item[0] < time.monotonic():
                del self._data[key]
                return None
            self._data.move_to_end(key)
            return item[1]

    def put(self, key: str, hashes: ContentHashes) -> None:
        if self.size <= 0:
            return
        with self._lock:
            self._data[key] = (time.monotonic() + self.ttl_s, hashes)
            self._data.move_to_end(key)
            while len(self._data) > self.size:
                self._data.popitem(last=False)


class RedisHashCache:
    """The cache in Redis, shared by every worker; a Redis failure is a cache miss."""

    def __init__(self, url: str, ttl_s: int, prefix: str = "bastion:content:hash:") -> None:
        import redis

        self._redis = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self._error = redis.RedisError
        self.ttl_s = ttl_s
        self.prefix = prefix

    def get(self, key: str) -> ContentHashes | None:
        try:
            raw = self._redis.get(self.prefix + key)
        except self._error:
            return None
        return None if raw is None else load_hashes(bytes(raw))  # type: ignore[arg-type]

    def put(self, key: str, hashes: ContentHashes) -> None:
        with contextlib.suppress(self._error):
            self._redis.set(self.prefix + key, dump_hashes(hashes), ex=self.ttl_s)
