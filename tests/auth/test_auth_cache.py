"""CachedAuthenticator: fewer database lookups, revocation within the TTL, bounded memory."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from bastion.auth import CachedAuthenticator, Principal, Role, TokenStore
from bastion.store import Database

T0 = datetime(2030, 1, 1, tzinfo=UTC)


class CountingStore:
    """The real TokenStore, counting the lookups that reach it."""

    def __init__(self, store: TokenStore) -> None:
        self.store = store
        self.calls = 0
        self._lock = threading.Lock()

    def authenticate(self, plaintext: str) -> Principal | None:
        with self._lock:
            self.calls += 1
        return self.store.authenticate(plaintext)


class Clocks:
    """A monotonic clock and the matching wall clock, moved together."""

    def __init__(self) -> None:
        self.mono = 1000.0
        self.wall = T0

    def advance(self, seconds: float) -> None:
        self.mono += seconds
        self.wall += timedelta(seconds=seconds)


@pytest.fixture
def db() -> Database:
    database = Database("sqlite://")
    database.upgrade()
    return database


@pytest.fixture
def clocks() -> Clocks:
    return Clocks()


@pytest.fixture
def store(db: Database, clocks: Clocks) -> TokenStore:
    return TokenStore(db, clock=lambda: clocks.wall)


def cached(
    store: TokenStore, clocks: Clocks, ttl: float = 5.0, **kw: object
) -> tuple[CachedAuthenticator, CountingStore]:
    counting = CountingStore(store)
    auth = CachedAuthenticator(
        counting, ttl, clock=lambda: clocks.mono, wall_clock=lambda: clocks.wall, **kw
    )
    return auth, counting


def test_hits_do_not_query_the_store(store: TokenStore, clocks: Clocks) -> None:
    token = store.create("n", ["admin"]).token
    auth, counting = cached(store, clocks)
    first = auth.authenticate(token)
    assert first is not None
    for _ in range(100):
        assert auth.authenticate(token) == first
    assert counting.calls == 1


def test_revocation_takes_effect_within_the_ttl(store: TokenStore, clocks: Clocks) -> None:
    issued = store.create("n", ["admin"])
    auth, _ = cached(store, clocks, ttl=5.0)
    assert auth.authenticate(issued.token) is not None
    store.revoke(issued.info.id)
    clocks.advance(4.9)
    assert auth.authenticate(issued.token) is not None  # still cached
    clocks.advance(0.2)
    assert auth.authenticate(issued.token) is None


def test_negative_results_are_cached_briefly(store: TokenStore, clocks: Clocks) -> None:
    unknown = "bst_0123456789abcdef_" + "A" * 43
    auth, counting = cached(store, clocks, ttl=5.0, negative_ttl_s=0.5)
    for _ in range(10):
        assert auth.authenticate(unknown) is None
    assert counting.calls == 1
    clocks.advance(0.6)
    assert auth.authenticate(unknown) is None
    assert counting.calls == 2


def test_default_negative_ttl_is_at_most_one_second(store: TokenStore, clocks: Clocks) -> None:
    unknown = "bst_0123456789abcdef_" + "A" * 43
    auth, counting = cached(store, clocks, ttl=30.0)
    auth.authenticate(unknown)
    clocks.advance(1.01)
    auth.authenticate(unknown)
    assert counting.calls == 2


def test_malformed_tokens_never_reach_the_store_nor_the_cache(
    store: TokenStore, clocks: Clocks
) -> None:
    auth, counting = cached(store, clocks)
    for text in ["", "Bearer x", "bst_x", "bst_" + "0" * 200]:
        assert auth.authenticate(text) is None
    assert counting.calls == 0 and len(auth) == 0


def test_cached_principal_does_not_outlive_its_token(store: TokenStore, clocks: Clocks) -> None:
    token = store.create("n", ["admin"], expires_at=T0 + timedelta(seconds=2)).token
    auth, _ = cached(store, clocks, ttl=60.0)
    assert auth.authenticate(token) is not None
    clocks.advance(2.0)
    assert auth.authenticate(token) is None


def test_bounded_and_least_recently_used_first(store: TokenStore, clocks: Clocks) -> None:
    tokens = [store.create(f"t{i}", ["admin"]).token for i in range(4)]
    auth, counting = cached(store, clocks, max_entries=3)
    for t in tokens[:3]:
        auth.authenticate(t)
    auth.authenticate(tokens[0])  # most recently used now
    auth.authenticate(tokens[3])  # evicts tokens[1]
    assert len(auth) == 3 and counting.calls == 4
    auth.authenticate(tokens[0])
    assert counting.calls == 4
    auth.authenticate(tokens[1])
    assert counting.calls == 5


def test_ttl_zero_disables_caching(store: TokenStore, clocks: Clocks) -> None:
    token = store.create("n", ["admin"]).token
    auth, counting = cached(store, clocks, ttl=0)
    auth.authenticate(token)
    auth.authenticate(token)
    assert counting.calls == 2 and len(auth) == 0


def test_clear(store: TokenStore, clocks: Clocks) -> None:
    token = store.create("n", ["admin"]).token
    auth, counting = cached(store, clocks)
    auth.authenticate(token)
    auth.clear()
    auth.authenticate(token)
    assert counting.calls == 2


def test_no_plaintext_is_kept(store: TokenStore, clocks: Clocks) -> None:
    token = store.create("n", ["admin"]).token
    auth, _ = cached(store, clocks)
    auth.authenticate(token)
    assert token not in repr(vars(auth)) and token.encode() not in repr(vars(auth)).encode()


def test_thread_safe_under_concurrent_use(tmp_path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'c.db'}")
    db.upgrade()
    store = TokenStore(db)
    tokens = [store.create(f"t{i}", [Role.INGEST]).token for i in range(20)]
    auth = CachedAuthenticator(store, 60.0, max_entries=8)
    errors: list[BaseException] = []

    def work(offset: int) -> None:
        try:
            for i in range(300):
                p = auth.authenticate(tokens[(i + offset) % len(tokens)])
                assert p is not None and Role.INGEST in p.roles
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k * 3,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and len(auth) <= 8
    db.dispose()


def test_invalid_settings() -> None:
    db = Database("sqlite://")
    with pytest.raises(ValueError):
        CachedAuthenticator(TokenStore(db), -1)
    with pytest.raises(ValueError):
        CachedAuthenticator(TokenStore(db), 1, max_entries=0)
