"""API tokens: format, validation, storage and verification.

A token reads ``bst_<id>_<secret>``: ``id`` is 16 lower-case hex digits (public: it names the
token in lists, logs and the audit log), ``secret`` is 43 characters drawn by :mod:`secrets`
from the 62 letters and digits (256 bits). The plaintext is shown once, at creation; the
database keeps the id and the SHA-256 of the whole token.

Why a fast hash and not bcrypt/scrypt/argon2: slow, salted hashes protect *guessable*
secrets (passwords) from offline guessing after a leak. A 256-bit random secret cannot be
guessed, fast hash or not, so the slow hash would only add milliseconds of CPU to every
uncached request. SHA-256 keeps a database leak harmless (the hash cannot be presented as a
token) and lets verification cost microseconds. Hashes are compared with
:func:`hmac.compare_digest` so timing does not reveal how much of a guess matched.
"""

from __future__ import annotations

import builtins
import hashlib
import hmac
import logging
import math
import re
import secrets
import string
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from bastion.auth.principal import InvalidZoneError, Principal, normalize_zone
from bastion.auth.roles import Role
from bastion.store import ApiToken, Database, Zone, record_audit

log = logging.getLogger(__name__)

TOKEN_PREFIX = "bst_"  # noqa: S105 (a prefix, not a secret)
_ID_HEX_DIGITS = 16
_SECRET_ALPHABET = string.ascii_letters + string.digits
_SECRET_LENGTH = 43  # 43 * log2(62) = 256.1 bits
_TOKEN_RE = re.compile(
    rf"bst_([0-9a-f]{{{_ID_HEX_DIGITS}}})_[0-9A-Za-z]{{{_SECRET_LENGTH}}}", re.ASCII
)
TOKEN_LENGTH = len(TOKEN_PREFIX) + _ID_HEX_DIGITS + 1 + _SECRET_LENGTH

MAX_NAME_LENGTH = 200
MAX_ZONES = 1000
#: ``last_used_at`` is written at most this often per token (it is a hint, not a log).
LAST_USED_RESOLUTION = timedelta(minutes=1)


class TokenError(ValueError):
    """Base class of the token errors below."""


class MalformedTokenError(TokenError):
    """The text is not a bastion token (``bst_<16 hex>_<43 letters or digits>``)."""


class InvalidTokenRequest(TokenError):
    """A token cannot be created as asked (unknown role, empty name, ...)."""


class UnknownTokenError(TokenError):
    """No token has this id."""


def generate_token() -> tuple[str, str]:
    """A new ``(token id, plaintext token)``."""
    token_id = secrets.token_hex(_ID_HEX_DIGITS // 2)
    secret = "".join(secrets.choice(_SECRET_ALPHABET) for _ in range(_SECRET_LENGTH))
    return token_id, f"{TOKEN_PREFIX}{token_id}_{secret}"


def parse_token(text: object) -> str:
    """The token id inside ``text``; raises :class:`MalformedTokenError` for anything else."""
    if not isinstance(text, str) or len(text) != TOKEN_LENGTH:
        raise MalformedTokenError("not a bastion API token")
    match = _TOKEN_RE.fullmatch(text)
    if match is None:
        raise MalformedTokenError("not a bastion API token")
    return match.group(1)


def hash_token(token: str) -> str:
    """The stored form of a token: hex SHA-256 of the whole plaintext."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class TokenSpec:
    """A validated request for a new token (see :meth:`build`)."""

    name: str
    roles: frozenset[Role]
    zones: frozenset[str]
    rate_limit: float | None
    expires_at: datetime | None

    @classmethod
    def build(
        cls,
        name: str,
        roles: Iterable[Role | str],
        zones: Iterable[str] = (),
        rate_limit: float | None = None,
        expires_at: datetime | None = None,
        *,
        now: datetime | None = None,
    ) -> TokenSpec:
        """Check and normalise a token request; raises :class:`InvalidTokenRequest`."""
        clean_name = name.strip() if isinstance(name, str) else ""
        if not clean_name:
            raise InvalidTokenRequest("a token needs a non-empty name")
        if len(clean_name) > MAX_NAME_LENGTH:
            raise InvalidTokenRequest(f"token name is longer than {MAX_NAME_LENGTH} characters")
        if any(unicodedata.category(ch) in ("Cc", "Cf") for ch in clean_name):
            raise InvalidTokenRequest("token name contains control characters")

        role_set: set[Role] = set()
        for role in roles:
            try:
                role_set.add(Role(role))
            except ValueError:
                valid = ", ".join(r.value for r in Role)
                raise InvalidTokenRequest(
                    f"unknown role {role!r}; expected one of: {valid}"
                ) from None
        if not role_set:
            raise InvalidTokenRequest("a token needs at least one role")

        try:
            zone_set = frozenset(normalize_zone(z) for z in zones)
        except InvalidZoneError as exc:
            raise InvalidTokenRequest(str(exc)) from None
        if len(zone_set) > MAX_ZONES:
            raise InvalidTokenRequest(f"a token may name at most {MAX_ZONES} zones")
        if Role.SITE_OWNER in role_set and not zone_set:
            raise InvalidTokenRequest("a site_owner token needs at least one zone")
        if zone_set and Role.SITE_OWNER not in role_set:
            raise InvalidTokenRequest(
                "zones only apply to site_owner tokens (other roles act on every zone)"
            )

        if rate_limit is not None and (
            isinstance(rate_limit, bool)
            or not isinstance(rate_limit, int | float)
            or not math.isfinite(rate_limit)
            or rate_limit <= 0
        ):
            raise InvalidTokenRequest(
                f"rate limit must be a positive number of requests per second, got {rate_limit!r}"
            )

        if expires_at is not None:
            if expires_at.tzinfo is None:
                raise InvalidTokenRequest("expiry must be a timezone-aware datetime")
            if expires_at <= (now if now is not None else _utcnow()):
                raise InvalidTokenRequest("expiry is in the past")
        return cls(
            name=clean_name,
            roles=frozenset(role_set),
            zones=zone_set,
            rate_limit=float(rate_limit) if rate_limit is not None else None,
            expires_at=expires_at.astimezone(UTC) if expires_at is not None else None,
        )


TokenStatus = Literal["active", "revoked", "expired"]


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """Everything about a token except its secret and hash."""

    id: str
    name: str
    roles: tuple[Role, ...]
    zones: tuple[str, ...]
    rate_limit: float | None
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None
    created_by: str | None

    def status(self, now: datetime | None = None) -> TokenStatus:
        """``revoked``, ``expired`` or ``active`` at ``now``."""
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= (now or _utcnow()):
            return "expired"
        return "active"

    def to_json(self, now: datetime | None = None) -> dict[str, Any]:
        """A JSON-ready dict (timestamps in ISO 8601)."""

        def iso(value: datetime | None) -> str | None:
            return value.isoformat() if value is not None else None

        return {
            "id": self.id,
            "name": self.name,
            "roles": [r.value for r in self.roles],
            "zones": list(self.zones),
            "rate_limit": self.rate_limit,
            "status": self.status(now),
            "created_at": iso(self.created_at),
            "expires_at": iso(self.expires_at),
            "revoked_at": iso(self.revoked_at),
            "last_used_at": iso(self.last_used_at),
            "created_by": self.created_by,
        }


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """A token just created: the plaintext (shown once, never stored) and its record."""

    token: str = field(repr=False)
    info: TokenInfo


def _roles_of(row: ApiToken) -> tuple[Role, ...]:
    roles = []
    for value in row.roles:
        try:
            roles.append(Role(value))
        except ValueError:
            # A role this version does not know grants nothing (least privilege).
            log.warning("token %s has unknown role %r; ignored", row.id, value)
    return tuple(sorted(set(roles)))


def _info(row: ApiToken) -> TokenInfo:
    return TokenInfo(
        id=row.id,
        name=row.name,
        roles=_roles_of(row),
        zones=tuple(sorted(z.name for z in row.zones)),
        rate_limit=row.rate_limit,
        created_at=row.created_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
        last_used_at=row.last_used_at,
        created_by=row.created_by,
    )


def _check_actor(actor: str) -> str:
    if not isinstance(actor, str) or not actor.strip() or len(actor) > 64:
        raise InvalidTokenRequest("actor must be a non-empty name of at most 64 characters")
    return actor.strip()


class TokenStore:
    """Creates, lists, revokes and verifies API tokens in a :class:`Database`.

    Every create and revoke writes an audit row (``token.create``, ``token.revoke``) in the
    same transaction. ``clock`` returns the current time (aware); tests pass their own.
    """

    def __init__(self, db: Database, *, clock: Callable[[], datetime] = _utcnow) -> None:
        self.db = db
        self._clock = clock

    def create(
        self,
        name: str,
        roles: Iterable[Role | str],
        zones: Iterable[str] = (),
        rate_limit: float | None = None,
        expires_at: datetime | None = None,
        actor: str = "cli",
    ) -> IssuedToken:
        """Create a token (and any zone not yet known); the plaintext is in the result only.

        Raises :class:`InvalidTokenRequest` when the request is invalid.
        """
        now = self._clock()
        spec = TokenSpec.build(name, roles, zones, rate_limit, expires_at, now=now)
        actor = _check_actor(actor)
        token_id, plaintext = generate_token()
        with self.db.session(write=True) as session:
            row = ApiToken(
                id=token_id,
                name=spec.name,
                token_hash=hash_token(plaintext),
                roles=sorted(r.value for r in spec.roles),
                rate_limit=spec.rate_limit,
                created_at=now,
                expires_at=spec.expires_at,
                created_by=actor,
            )
            row.zones = self._ensure_zones(session, spec.zones, now)
            session.add(row)
            record_audit(
                session,
                actor=actor,
                action="token.create",
                target=token_id,
                at=now,
                detail={
                    "name": spec.name,
                    "roles": row.roles,
                    "zones": sorted(spec.zones),
                    "rate_limit": spec.rate_limit,
                    "expires_at": spec.expires_at.isoformat() if spec.expires_at else None,
                },
            )
            session.flush()
            info = _info(row)
        return IssuedToken(token=plaintext, info=info)

    def _ensure_zones(self, session: Session, names: frozenset[str], now: datetime) -> list[Zone]:
        if not names:
            return []
        insert = pg_insert if self.db.dialect == "postgresql" else sqlite_insert
        # ON CONFLICT: another process may create the same zone at the same moment.
        session.execute(
            insert(Zone)
            .values([{"name": n, "created_at": now} for n in sorted(names)])
            .on_conflict_do_nothing(index_elements=["name"])
        )
        return list(session.scalars(select(Zone).where(Zone.name.in_(names))))

    def revoke(self, token_id: str, actor: str = "cli") -> bool:
        """Revoke a token: ``True`` if revoked now, ``False`` if it already was.

        Raises :class:`UnknownTokenError` when no token has this id.
        """
        actor = _check_actor(actor)
        now = self._clock()
        with self.db.session(write=True) as session:
            row = session.get(ApiToken, token_id)
            if row is None:
                raise UnknownTokenError(f"no token with id {token_id!r}")
            if row.revoked_at is not None:
                return False
            row.revoked_at = now
            record_audit(
                session,
                actor=actor,
                action="token.revoke",
                target=token_id,
                at=now,
                detail={"name": row.name},
            )
        return True

    def get(self, token_id: str) -> TokenInfo | None:
        """One token's record, or ``None``."""
        with self.db.session() as session:
            row = session.get(ApiToken, token_id)
            return _info(row) if row is not None else None

    def list(self, *, include_inactive: bool = True) -> builtins.list[TokenInfo]:
        """All tokens, oldest first (revoked and expired ones unless ``include_inactive=False``)."""
        with self.db.session() as session:
            rows = session.scalars(select(ApiToken).order_by(ApiToken.created_at, ApiToken.id))
            infos = [_info(row) for row in rows]
        if include_inactive:
            return infos
        now = self._clock()
        return [i for i in infos if i.status(now) == "active"]

    def authenticate(self, plaintext: str) -> Principal | None:
        """The principal a token stands for; ``None`` for a malformed, unknown, revoked or
        expired token (never raises for bad input; database errors propagate)."""
        try:
            token_id = parse_token(plaintext)
        except MalformedTokenError:
            return None
        digest = hash_token(plaintext)
        now = self._clock()
        with self.db.session() as session:
            row = session.get(ApiToken, token_id)
            if row is None or not hmac.compare_digest(row.token_hash, digest):
                return None
            if row.revoked_at is not None:
                return None
            if row.expires_at is not None and row.expires_at <= now:
                return None
            principal = Principal(
                token_id=row.id,
                name=row.name,
                roles=frozenset(_roles_of(row)),
                zones=frozenset(z.name for z in row.zones),
                rate_limit=row.rate_limit,
                expires_at=row.expires_at,
            )
            stale = row.last_used_at is None or now - row.last_used_at >= LAST_USED_RESOLUTION
        if stale:
            self._touch(token_id, now)
        return principal

    def _touch(self, token_id: str, now: datetime) -> None:
        cutoff = now - LAST_USED_RESOLUTION
        try:
            with self.db.session(write=True) as session:
                session.execute(
                    update(ApiToken)
                    .where(ApiToken.id == token_id)
                    .where(or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at <= cutoff))
                    .values(last_used_at=now)
                )
        except OperationalError as exc:
            # Best effort: a busy database must not fail the request being authenticated.
            log.warning("could not record last use of token %s: %s", token_id, exc.orig)
