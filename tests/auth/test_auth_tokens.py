"""API tokens: format, validation, storage, audit and verification on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import string
import threading
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from bastion.auth import (
    InvalidTokenRequest,
    MalformedTokenError,
    Permission,
    Role,
    TokenSpec,
    TokenStore,
    UnknownTokenError,
    parse_token,
)
from bastion.auth.tokens import TOKEN_LENGTH, generate_token, hash_token
from bastion.store import ApiToken, AuditEntry, Database, Zone

T0 = datetime(2030, 1, 1, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def database(clean_database: Database) -> Database:
    return clean_database


@pytest.fixture
def store(database: Database, clock: Clock) -> TokenStore:
    return TokenStore(database, clock=clock)


# --- format -----------------------------------------------------------------------------


def test_generated_tokens_parse_back_to_their_id() -> None:
    seen = set()
    for _ in range(200):
        token_id, token = generate_token()
        assert len(token) == TOKEN_LENGTH
        assert token.startswith(f"bst_{token_id}_")
        assert parse_token(token) == token_id
        secret = token.rsplit("_", 1)[1]
        assert len(secret) == 43 and set(secret) <= set(string.ascii_letters + string.digits)
        seen.add(secret)
    assert len(seen) == 200


def test_hash_is_sha256_of_the_whole_token() -> None:
    _, token = generate_token()
    assert hash_token(token) == hashlib.sha256(token.encode()).hexdigest()


@pytest.mark.parametrize(
    "text",
    [
        "",
        "bst_",
        "bst_0123456789abcdef_" + "A" * 42,
        "bst_0123456789abcdef_" + "A" * 44,
        "bst_0123456789ABCDEF_" + "A" * 43,  # id is lower-case hex
        "bsx_0123456789abcdef_" + "A" * 43,
        "bst_0123456789abcdef_" + "A" * 42 + "-",
        "bst_0123456789abcdef_" + "A" * 42 + "\n",
        " bst_0123456789abcdef_" + "A" * 42,
        "bst_0123456789abcdef_" + "A" * 42 + "é",
        "bst_0123456789abcde٣_" + "A" * 43,  # a non-ASCII digit
        None,
        b"bst_0123456789abcdef_" + b"A" * 43,
    ],
)
def test_malformed_tokens(text: object) -> None:
    with pytest.raises(MalformedTokenError):
        parse_token(text)


def test_a_well_formed_token_parses() -> None:
    assert parse_token("bst_0123456789abcdef_" + "A" * 43) == "0123456789abcdef"


@given(st.text(max_size=200) | st.binary(max_size=80) | st.none() | st.integers())
def test_random_input_parses_or_raises_only_the_documented_error(text: object) -> None:
    try:
        token_id = parse_token(text)
    except MalformedTokenError:
        return
    assert isinstance(text, str) and text.startswith(f"bst_{token_id}_")


_near_tokens = st.builds(
    lambda i, s: f"bst_{i}_{s}",
    st.text(alphabet="0123456789abcdefABCDEF_-", min_size=15, max_size=17),
    st.text(alphabet=string.ascii_letters + string.digits + "_-", min_size=42, max_size=44),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.text(max_size=120) | _near_tokens)
def test_random_strings_never_authenticate(text: str) -> None:
    assert _shared_store().authenticate(text) is None


_STORE: list[TokenStore] = []


def _shared_store() -> TokenStore:
    # Hypothesis runs many examples in one test: one in-memory database with a real token.
    if not _STORE:
        db = Database("sqlite://")
        db.upgrade()
        store = TokenStore(db)
        store.create("fuzz target", [Role.ADMIN])
        _STORE.append(store)
    return _STORE[0]


# --- validation ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "", "roles": ["admin"]}, "non-empty name"),
        ({"name": "   ", "roles": ["admin"]}, "non-empty name"),
        ({"name": "x" * 201, "roles": ["admin"]}, "longer than"),
        ({"name": "a\x00b", "roles": ["admin"]}, "control characters"),
        ({"name": "n", "roles": []}, "at least one role"),
        ({"name": "n", "roles": ["root"]}, "unknown role 'root'; expected one of: admin"),
        ({"name": "n", "roles": ["site_owner"]}, "site_owner token needs at least one zone"),
        ({"name": "n", "roles": ["admin"], "zones": ["a.example"]}, "only apply to site_owner"),
        ({"name": "n", "roles": ["site_owner"], "zones": ["a b"]}, "not a hostname"),
        ({"name": "n", "roles": ["admin"], "rate_limit": 0}, "rate limit"),
        ({"name": "n", "roles": ["admin"], "rate_limit": -1.0}, "rate limit"),
        ({"name": "n", "roles": ["admin"], "rate_limit": float("nan")}, "rate limit"),
        ({"name": "n", "roles": ["admin"], "rate_limit": float("inf")}, "rate limit"),
        ({"name": "n", "roles": ["admin"], "expires_at": T0 - timedelta(seconds=1)}, "past"),
        ({"name": "n", "roles": ["admin"], "expires_at": datetime(2031, 1, 1)}, "aware"),
    ],
)
def test_invalid_requests(kwargs: dict, message: str) -> None:
    with pytest.raises(InvalidTokenRequest, match=message) as info:
        TokenSpec.build(**kwargs, now=T0)
    assert isinstance(info.value, ValueError)


def test_spec_normalises() -> None:
    spec = TokenSpec.build(
        "  ci  ",
        ["site_owner", Role.SITE_OWNER, "analyst"],
        ["Shop.Example.", "shop.example"],
        rate_limit=5,
        expires_at=T0 + timedelta(days=1),
        now=T0,
    )
    assert spec.name == "ci"
    assert spec.roles == {Role.SITE_OWNER, Role.ANALYST}
    assert spec.zones == {"shop.example"}
    assert spec.rate_limit == 5.0 and isinstance(spec.rate_limit, float)


# --- store --------------------------------------------------------------------------------


def test_create_then_authenticate(store: TokenStore) -> None:
    issued = store.create(
        "shop owner", ["site_owner"], ["shop.example"], rate_limit=50, actor="admin-token"
    )
    assert issued.token not in repr(issued)
    info = issued.info
    assert info.roles == (Role.SITE_OWNER,) and info.zones == ("shop.example",)
    assert info.rate_limit == 50.0 and info.created_by == "admin-token"
    assert info.created_at == T0 and info.status(T0) == "active"

    p = store.authenticate(issued.token)
    assert p is not None
    assert (p.token_id, p.name, p.roles, p.zones, p.rate_limit) == (
        info.id,
        "shop owner",
        frozenset({Role.SITE_OWNER}),
        frozenset({"shop.example"}),
        50.0,
    )
    assert p.has(Permission.WAF_SCORE, "shop.example")
    assert not p.has(Permission.WAF_SCORE, "other.example")


def test_only_the_hash_is_stored(store: TokenStore, database: Database) -> None:
    issued = store.create("n", ["admin"])
    secret = issued.token.rsplit("_", 1)[1]
    with database.session() as s:
        row = s.get_one(ApiToken, issued.info.id)
        assert row.token_hash == hash_token(issued.token)
        stored = repr([getattr(row, c.key) for c in ApiToken.__table__.columns])
        audit = repr(s.scalars(select(AuditEntry.detail)).all())
    assert secret not in stored and secret not in audit


def test_wrong_secret_with_a_real_id_is_refused(store: TokenStore) -> None:
    issued = store.create("n", ["admin"])
    forged = issued.token[:-1] + ("A" if issued.token[-1] != "A" else "B")
    assert store.authenticate(forged) is None
    assert store.authenticate("bst_0123456789abcdef_" + "A" * 43) is None  # unknown id


def test_revoke(store: TokenStore, clock: Clock) -> None:
    issued = store.create("n", ["ingest"])
    assert store.authenticate(issued.token) is not None
    clock.now = T0 + timedelta(minutes=5)
    assert store.revoke(issued.info.id, actor="ops") is True
    assert store.authenticate(issued.token) is None
    assert store.revoke(issued.info.id, actor="ops") is False  # already revoked
    info = store.get(issued.info.id)
    assert info is not None and info.revoked_at == clock.now and info.status() == "revoked"
    with pytest.raises(UnknownTokenError):
        store.revoke("0000000000000000")


def test_expiry(store: TokenStore, clock: Clock) -> None:
    issued = store.create("n", ["analyst"], expires_at=T0 + timedelta(hours=1))
    clock.now = T0 + timedelta(minutes=59, seconds=59)
    assert store.authenticate(issued.token) is not None
    clock.now = T0 + timedelta(hours=1)
    assert store.authenticate(issued.token) is None
    assert store.list()[0].status(clock.now) == "expired"


def test_audit_rows_for_create_and_revoke(store: TokenStore, database: Database) -> None:
    a = store.create("a", ["site_owner"], ["x.example"], actor="cli")
    store.revoke(a.info.id, actor="tok123")
    with database.session() as s:
        rows = s.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        got = [(r.actor, r.action, r.target, r.detail) for r in rows]
    assert got == [
        (
            "cli",
            "token.create",
            a.info.id,
            {
                "name": "a",
                "roles": ["site_owner"],
                "zones": ["x.example"],
                "rate_limit": None,
                "expires_at": None,
            },
        ),
        ("tok123", "token.revoke", a.info.id, {"name": "a"}),
    ]


def test_failed_create_leaves_no_audit_row(store: TokenStore, database: Database) -> None:
    with pytest.raises(InvalidTokenRequest):
        store.create("a", ["nope"])
    with pytest.raises(InvalidTokenRequest):
        store.create("a", ["admin"], actor="")
    with database.session() as s:
        assert s.scalars(select(AuditEntry)).all() == []


def test_list_and_zones(store: TokenStore, clock: Clock, database: Database) -> None:
    a = store.create("a", ["site_owner"], ["one.example", "two.example"])
    clock.now = T0 + timedelta(seconds=1)
    b = store.create("b", ["site_owner", "analyst"], ["two.example"])
    clock.now = T0 + timedelta(seconds=2)
    c = store.create("c", ["admin"])
    store.revoke(c.info.id)
    infos = store.list()
    assert [i.id for i in infos] == [a.info.id, b.info.id, c.info.id]
    assert [i.zones for i in infos] == [("one.example", "two.example"), ("two.example",), ()]
    assert [i.id for i in store.list(include_inactive=False)] == [a.info.id, b.info.id]
    assert not any(hasattr(i, "token_hash") for i in infos)
    assert set(infos[0].to_json()) == {
        "id", "name", "roles", "zones", "rate_limit", "status", "created_at", "expires_at",
        "revoked_at", "last_used_at", "created_by",
    }  # fmt: skip
    with database.session() as s:
        assert sorted(s.scalars(select(Zone.name))) == ["one.example", "two.example"]


def test_last_used_is_recorded_at_most_once_a_minute(store: TokenStore, clock: Clock) -> None:
    issued = store.create("n", ["admin"])
    assert store.get(issued.info.id).last_used_at is None  # type: ignore[union-attr]
    clock.now = T0 + timedelta(seconds=10)
    store.authenticate(issued.token)
    assert store.get(issued.info.id).last_used_at == clock.now  # type: ignore[union-attr]
    clock.now = T0 + timedelta(seconds=40)
    store.authenticate(issued.token)
    assert store.get(issued.info.id).last_used_at == T0 + timedelta(seconds=10)  # type: ignore[union-attr]
    clock.now = T0 + timedelta(seconds=71)
    store.authenticate(issued.token)
    assert store.get(issued.info.id).last_used_at == clock.now  # type: ignore[union-attr]


def test_concurrent_creates_share_new_zones(database: Database) -> None:
    """Tokens created at once for the same new zone all succeed and share one zone row."""
    store = TokenStore(database)
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def work(i: int) -> None:
        try:
            barrier.wait()
            store.create(f"t{i}", ["site_owner"], ["new.example", f"own{i}.example"])
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(store.list()) == 4
    with database.session() as s:
        assert len(s.scalars(select(Zone)).all()) == 5
