"""Zones as a list an administrator manages: list them (with how many tokens name each)
and create one, audited. Tokens create the zones they name on their own
(:meth:`bastion.auth.tokens.TokenStore.create`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from bastion.auth.principal import normalize_zone
from bastion.store.audit import record_audit
from bastion.store.db import Database
from bastion.store.models import TokenZone, Zone

#: Most zones one listing returns.
MAX_LIST = 1000


class ZoneExistsError(ValueError):
    """A zone of that name is already known."""


@dataclass(frozen=True, slots=True)
class ZoneInfo:
    """A zone, when it became known and how many tokens name it."""

    name: str
    created_at: datetime
    tokens: int

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {"name": self.name, "created_at": self.created_at.isoformat(), "tokens": self.tokens}


def list_zones(
    db: Database, *, prefix: str = "", after: str = "", limit: int = MAX_LIST
) -> list[ZoneInfo]:
    """Zones in name order after ``after`` whose name starts with ``prefix`` (lower case)."""
    limit = max(1, min(limit, MAX_LIST))
    counts = (
        select(TokenZone.zone_id, func.count().label("n")).group_by(TokenZone.zone_id).subquery()
    )
    query = (
        select(Zone.name, Zone.created_at, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.zone_id == Zone.id)
        .where(Zone.name > after)
        .order_by(Zone.name)
        .limit(limit)
    )
    if prefix:
        escaped = prefix.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(Zone.name.like(f"{escaped}%", escape="\\"))
    with db.session() as session:
        return [ZoneInfo(name, at, int(n)) for name, at, n in session.execute(query)]


def zone_names(db: Database, names: frozenset[str] | None = None) -> list[str]:
    """Known zone names in order (at most :data:`MAX_LIST`), only those in ``names`` when
    given."""
    query = select(Zone.name).order_by(Zone.name).limit(MAX_LIST)
    if names is not None:
        if not names:
            return []
        query = query.where(Zone.name.in_(sorted(names)))
    with db.session() as session:
        return list(session.scalars(query))


def create_zone(
    db: Database,
    name: str,
    *,
    actor: str,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> ZoneInfo:
    """Create zone ``name`` (normalized) with a ``zone.create`` audit row.

    Raises :class:`bastion.auth.InvalidZoneError` for a name that is not a hostname and
    :class:`ZoneExistsError` when the zone is already known.
    """
    zone = normalize_zone(name)
    now = clock()
    try:
        with db.session(write=True) as session:
            if session.scalar(select(Zone.id).where(Zone.name == zone)) is not None:
                raise ZoneExistsError(f"zone {zone} already exists")
            session.add(Zone(name=zone, created_at=now))
            record_audit(session, actor=actor, action="zone.create", target=zone, at=now)
            session.flush()
    except IntegrityError:  # created by someone else between the check and the insert
        raise ZoneExistsError(f"zone {zone} already exists") from None
    return ZoneInfo(zone, now, 0)
