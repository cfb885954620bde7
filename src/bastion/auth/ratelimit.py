"""Per-key token-bucket rate limiting, in one process or shared through Redis.

A bucket holds up to ``burst`` tokens (default: one second's worth, at least 1), refills at
``rate_per_s`` and starts full; each allowed request takes one token. Both limiters answer
``allow(key, rate_per_s, burst=None) -> RateDecision``:

* :class:`LocalRateLimiter`: in-process, thread-safe, bounded memory;
* :class:`RedisRateLimiter`: one atomic Lua script per decision on the Redis server's
  clock, so the limit holds across worker processes and machines.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import redis

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RateDecision:
    """Whether a request may go ahead; if not, how long until it could (``Retry-After``)."""

    allowed: bool
    retry_after_s: float
    #: Tokens left in the bucket after this decision (fractional).
    remaining: float


class RateLimiter(Protocol):
    """The interface both limiters share."""

    def allow(self, key: str, rate_per_s: float, burst: float | None = None) -> RateDecision: ...


def bucket_capacity(rate_per_s: float, burst: float | None) -> float:
    """The bucket size for ``rate_per_s`` and ``burst``; raises ``ValueError`` if unusable."""
    if not (math.isfinite(rate_per_s) and rate_per_s > 0):
        raise ValueError(f"rate_per_s must be a positive number, got {rate_per_s!r}")
    if burst is None:
        return max(float(rate_per_s), 1.0)
    if not (math.isfinite(burst) and burst >= 1):
        raise ValueError(f"burst must be a number >= 1, got {burst!r}")
    return float(burst)


def _take(tokens: float, rate: float) -> tuple[RateDecision, float]:
    if tokens >= 1:
        tokens -= 1
        return RateDecision(True, 0.0, tokens), tokens
    return RateDecision(False, (1 - tokens) / rate, tokens), tokens


class LocalRateLimiter:
    """Token buckets in this process.

    At most ``max_keys`` buckets are kept; the least recently used is dropped first, which
    only ever forgets a bucket that has had the longest to refill. ``clock`` returns seconds
    (monotonic); tests pass their own.
    """

    def __init__(
        self, *, max_keys: int = 100_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if max_keys < 1:
            raise ValueError("max_keys must be >= 1")
        self._max_keys = max_keys
        self._clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # tokens, time
        self._lock = threading.Lock()

    def allow(self, key: str, rate_per_s: float, burst: float | None = None) -> RateDecision:
        """Take one token from ``key``'s bucket if there is one."""
        capacity = bucket_capacity(rate_per_s, burst)
        with self._lock:
            now = self._clock()
            state = self._buckets.get(key)
            if state is None:
                tokens = capacity
            else:
                tokens = min(capacity, state[0] + max(0.0, now - state[1]) * rate_per_s)
            decision, tokens = _take(tokens, rate_per_s)
            self._buckets[key] = (tokens, now)
            self._buckets.move_to_end(key)
            if len(self._buckets) > self._max_keys:
                self._buckets.popitem(last=False)
        return decision

    def __len__(self) -> int:
        with self._lock:
            return len(self._buckets)


# KEYS[1] bucket; ARGV: rate per second, capacity. Time comes from the server (TIME), so
# every client agrees on it. Numbers go back as strings: Redis truncates Lua floats.
_BUCKET_LUA = """
local rate = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil or ts == nil then
  tokens = capacity
else
  local elapsed = now - ts
  if elapsed < 0 then elapsed = 0 end
  tokens = math.min(capacity, tokens + elapsed * rate)
end
local allowed = 0
local retry = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
else
  retry = (1 - tokens) / rate
end
redis.call('HSET', KEYS[1], 'tokens', string.format('%.17g', tokens),
           'ts', string.format('%.17g', now))
redis.call('PEXPIRE', KEYS[1], math.ceil(capacity / rate * 1000) + 1000)
return {allowed, string.format('%.17g', tokens), string.format('%.17g', retry)}
"""

_WARN_EVERY_S = 60.0


class RedisRateLimiter:
    """Token buckets in Redis, shared by every process that uses the same ``prefix``.

    Each key lives under ``prefix`` and expires once its bucket would be full again. When
    Redis cannot be reached, ``fail_open=True`` (the default) falls back to an in-process
    limiter (the limit then holds per process) and logs a warning at most once a minute;
    ``fail_open=False`` raises ``redis.RedisError``.
    """

    def __init__(
        self,
        redis_url: str,
        *,
        prefix: str = "bastion:ratelimit:",
        fail_open: bool = True,
        timeout_s: float = 0.5,
    ) -> None:
        self._client: redis.Redis = redis.Redis.from_url(
            redis_url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s
        )
        self._script = self._client.register_script(_BUCKET_LUA)
        self._prefix = prefix
        self._fallback = LocalRateLimiter() if fail_open else None
        self._last_warning = -math.inf
        self._warn_lock = threading.Lock()

    def allow(self, key: str, rate_per_s: float, burst: float | None = None) -> RateDecision:
        """Take one token from ``key``'s shared bucket if there is one."""
        capacity = bucket_capacity(rate_per_s, burst)
        try:
            allowed, tokens, retry = self._script(
                keys=[self._prefix + key], args=[repr(float(rate_per_s)), repr(capacity)]
            )
        except redis.RedisError as exc:
            if self._fallback is None:
                raise
            self._warn(exc)
            return self._fallback.allow(key, rate_per_s, burst)
        return RateDecision(bool(allowed), float(retry), float(tokens))

    def _warn(self, exc: Exception) -> None:
        now = time.monotonic()
        with self._warn_lock:
            if now - self._last_warning < _WARN_EVERY_S:
                return
            self._last_warning = now
        log.warning("Redis rate limiter unavailable (%s); limiting per process", exc)

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()
