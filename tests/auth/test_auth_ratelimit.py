"""Token-bucket rate limiting: exact in-process arithmetic, and shared through real Redis."""

from __future__ import annotations

import math
import multiprocessing
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import redis

from bastion.auth import LocalRateLimiter, RateDecision, RateLimiter, RedisRateLimiter
from bastion.auth.ratelimit import bucket_capacity


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def local(clock: FakeClock) -> LocalRateLimiter:
    return LocalRateLimiter(clock=clock)


@pytest.fixture
def shared(redis_url: str, unique_prefix: str) -> Iterator[RedisRateLimiter]:
    limiter = RedisRateLimiter(redis_url, prefix=unique_prefix, fail_open=False)
    yield limiter
    limiter.close()
    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(match=unique_prefix + "*"))
    if keys:
        client.delete(*keys)
    client.close()


# --- in-process: exact with a fake clock ----------------------------------------------------


def test_burst_then_refill_exactly(local: LocalRateLimiter, clock: FakeClock) -> None:
    got = [local.allow("k", 2.0, burst=3) for _ in range(4)]
    assert got == [
        RateDecision(True, 0.0, 2.0),
        RateDecision(True, 0.0, 1.0),
        RateDecision(True, 0.0, 0.0),
        RateDecision(False, 0.5, 0.0),
    ]
    clock.now += 0.25
    assert local.allow("k", 2.0, burst=3) == RateDecision(False, 0.25, 0.5)
    clock.now += 0.25
    assert local.allow("k", 2.0, burst=3) == RateDecision(True, 0.0, 0.0)
    clock.now += 100
    assert [local.allow("k", 2.0, burst=3).allowed for _ in range(4)] == [True] * 3 + [False]


def test_default_burst_is_one_second_of_rate_and_at_least_one(
    local: LocalRateLimiter, clock: FakeClock
) -> None:
    assert sum(local.allow("a", 10).allowed for _ in range(20)) == 10
    slow = [local.allow("b", 0.5) for _ in range(2)]
    assert slow == [RateDecision(True, 0.0, 0.0), RateDecision(False, 2.0, 0.0)]


def test_keys_are_independent(local: LocalRateLimiter) -> None:
    assert local.allow("a", 1).allowed and not local.allow("a", 1).allowed
    assert local.allow("b", 1).allowed


def test_a_clock_going_backwards_refills_nothing(local: LocalRateLimiter, clock: FakeClock) -> None:
    local.allow("k", 1)
    clock.now -= 50
    assert not local.allow("k", 1).allowed


def test_memory_is_bounded(clock: FakeClock) -> None:
    limiter = LocalRateLimiter(max_keys=3, clock=clock)
    for i in range(10):
        limiter.allow(f"k{i}", 1)
    assert len(limiter) == 3


def test_exact_under_threads(local: LocalRateLimiter) -> None:
    allowed = []
    lock = threading.Lock()

    def work() -> None:
        n = sum(local.allow("k", 1.0, burst=50).allowed for _ in range(100))
        with lock:
            allowed.append(n)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(allowed) == 50  # the clock is frozen: exactly the burst


@pytest.mark.parametrize(
    ("rate", "burst"),
    [(0, None), (-1, None), (math.nan, None), (math.inf, None), (1, 0.5), (1, math.nan)],
)
def test_invalid_limits(local: LocalRateLimiter, rate: float, burst: float | None) -> None:
    with pytest.raises(ValueError):
        local.allow("k", rate, burst)
    with pytest.raises(ValueError):
        bucket_capacity(rate, burst)


# --- Redis: the same interface, shared -----------------------------------------------------


def test_both_limiters_satisfy_the_interface(
    local: LocalRateLimiter, shared: RedisRateLimiter
) -> None:
    limiters: list[RateLimiter] = [local, shared]
    for limiter in limiters:
        d = limiter.allow("iface", 1.0, burst=1)
        assert isinstance(d, RateDecision) and d.allowed


def test_redis_burst_is_exact(shared: RedisRateLimiter) -> None:
    # A very slow refill: the run's own duration adds (almost) nothing.
    got = [shared.allow("burst", 0.001, burst=5) for _ in range(8)]
    assert [d.allowed for d in got] == [True] * 5 + [False] * 3
    assert [d.remaining for d in got[:5]] == pytest.approx([4, 3, 2, 1, 0], abs=0.01)
    assert got[-1].retry_after_s == pytest.approx(1000, rel=0.01)


def test_redis_refills_in_real_time(shared: RedisRateLimiter) -> None:
    assert shared.allow("refill", 20.0, burst=1).allowed
    denied = shared.allow("refill", 20.0, burst=1)
    assert not denied.allowed and 0 < denied.retry_after_s <= 0.05
    time.sleep(denied.retry_after_s + 0.01)
    assert shared.allow("refill", 20.0, burst=1).allowed


def test_redis_keys_expire_once_full_again(
    shared: RedisRateLimiter, redis_url: str, unique_prefix: str
) -> None:
    shared.allow("ttl", 2.0, burst=4)
    client = redis.Redis.from_url(redis_url)
    ttl_ms = client.pttl(unique_prefix + "ttl")
    client.close()
    assert 0 < ttl_ms <= 3000  # 4 tokens at 2/s refill in 2 s, plus a second of slack


def test_redis_limit_holds_across_clients_and_threads(
    shared: RedisRateLimiter, redis_url: str, unique_prefix: str
) -> None:
    other = RedisRateLimiter(redis_url, prefix=unique_prefix, fail_open=False)
    counts: list[int] = []
    lock = threading.Lock()

    def work(limiter: RedisRateLimiter) -> None:
        n = sum(limiter.allow("many", 0.001, burst=30).allowed for _ in range(25))
        with lock:
            counts.append(n)

    threads = [threading.Thread(target=work, args=(lim,)) for lim in (shared, other, shared, other)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    other.close()
    assert sum(counts) == 30


def _spend(redis_url: str, prefix: str, barrier: Any, results: Any) -> None:
    limiter = RedisRateLimiter(redis_url, prefix=prefix, fail_open=False)
    barrier.wait(timeout=30)
    results.put(sum(limiter.allow("procs", 0.001, burst=20).allowed for _ in range(15)))
    limiter.close()


def test_redis_limit_holds_across_processes(
    shared: RedisRateLimiter, redis_url: str, unique_prefix: str
) -> None:
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(2)
    results = ctx.Queue()
    procs = [
        ctx.Process(target=_spend, args=(redis_url, unique_prefix, barrier, results))
        for _ in range(2)
    ]
    for p in procs:
        p.start()
    total = results.get(timeout=60) + results.get(timeout=60)
    for p in procs:
        p.join(timeout=30)
    assert total == 20


def test_unreachable_redis_fails_open_to_a_local_limit() -> None:
    limiter = RedisRateLimiter("redis://127.0.0.1:1/0", timeout_s=0.2)
    got = [limiter.allow("k", 0.001, burst=2).allowed for _ in range(3)]
    assert got == [True, True, False]
    limiter.close()


def test_unreachable_redis_raises_when_failing_closed() -> None:
    limiter = RedisRateLimiter("redis://127.0.0.1:1/0", timeout_s=0.2, fail_open=False)
    with pytest.raises(redis.ConnectionError):
        limiter.allow("k", 1)
    limiter.close()
