"""The authenticated caller of a request, and zone names."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from bastion.auth.roles import Permission, Role, permissions_of


class InvalidZoneError(ValueError):
    """A zone name that is not a hostname."""


_LABEL = r"(?!-)[a-z0-9-]{1,63}(?<!-)"
_ZONE_RE = re.compile(rf"{_LABEL}(?:\.{_LABEL})*", re.ASCII)


def normalize_zone(name: str) -> str:
    """``name`` as a zone: lower case, no trailing dot, IDNA (punycode) for non-ASCII names.

    Raises :class:`InvalidZoneError` for anything that is not a hostname (ports, paths,
    wildcards, empty labels, more than 253 characters).
    """
    zone = name.strip().lower().rstrip(".")
    if not zone.isascii():
        try:
            zone = zone.encode("idna").decode("ascii")
        except UnicodeError:
            raise InvalidZoneError(f"zone {name!r} is not a valid hostname") from None
    if len(zone) > 253 or not _ZONE_RE.fullmatch(zone):
        raise InvalidZoneError(
            f"zone {name!r} is not a hostname (letters, digits, '-' and dots, e.g. shop.example)"
        )
    return zone


def _zone_key(zone: str) -> str:
    # Cheap normalisation for lookups; a name that is not a zone simply matches nothing.
    return zone.strip().lower().rstrip(".")


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: a token's id, name, roles, zones and rate limit.

    ``expires_at`` lets caches drop the principal when its token expires.
    """

    token_id: str
    name: str
    roles: frozenset[Role]
    zones: frozenset[str]
    rate_limit: float | None
    expires_at: datetime | None = None
    _anywhere: frozenset[Permission] = field(init=False, repr=False, compare=False)
    _own_zone: frozenset[Permission] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_anywhere", permissions_of(self.roles, in_own_zone=False))
        object.__setattr__(self, "_own_zone", permissions_of(self.roles, in_own_zone=True))

    def permissions(self, zone: str | None = None) -> frozenset[Permission]:
        """Everything this principal may do, about ``zone`` (or about no zone in particular)."""
        if zone is not None and _zone_key(zone) in self.zones:
            return self._own_zone
        return self._anywhere

    def has(self, permission: Permission | str, zone: str | None = None) -> bool:
        """Whether this principal may do ``permission`` about ``zone``.

        A permission that only ``site_owner`` grants holds only when ``zone`` is one of the
        token's zones; ``zone=None`` is then refused. Raises ``ValueError`` for a permission
        name that does not exist (a programming error, not a denial).
        """
        return Permission(permission) in self.permissions(zone)
