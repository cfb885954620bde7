"""Legal orders: who ordered what to be blocked, where, and for how long.

An order names its **authority** (a court, a regulator), the **jurisdiction** (``DE``,
``EU``, ``US-CA``), the authority's **reference**, its **scope** (canonical URLs and/or
hosts; a host covers its subdomains), the **countries** where it applies (ISO 3166-1
alpha-2; at least one: an order binds where the authority has power) and its **validity**
(from, and optionally until). The edge answers a request in scope from a listed country
with 451 (RFC 7725) and ``Link: <blocked_by>; rel="blocked-by"``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from bastion.abuse.errors import AbuseError
from bastion.abuse.urls import canonical_host, parse_url

MAX_SCOPE = 1000
MAX_COUNTRIES = 250

#: States of an order: ``active`` (applied while valid) or ``withdrawn``.
ORDER_STATES = frozenset({"active", "withdrawn"})


class InvalidOrderError(AbuseError):
    """An order that lacks what it needs or names something invalid."""


def country_codes(values: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """Sorted, de-duplicated, upper-case ISO 3166-1 alpha-2 codes; raises naming bad ones."""
    bad = [c for c in values if len(c) != 2 or not c.isascii() or not c.isalpha()]
    if bad:
        raise InvalidOrderError(
            f"countries must be ISO 3166-1 alpha-2 codes (e.g. DE, FR); invalid: {', '.join(bad)}"
        )
    return tuple(sorted({c.upper() for c in values}))


def _link_target(value: str) -> str:
    parsed = parse_url(value)
    if '"' in parsed.url or ">" in parsed.url or "<" in parsed.url:
        raise InvalidOrderError("blocked_by must be a plain http(s) URL")
    return parsed.url


Text200 = Annotated[str, Field(min_length=1, max_length=200)]


class OrderSubmission(BaseModel):
    """A legal order as entered by staff (API body or CLI options)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    authority: Text200
    jurisdiction: Annotated[str, Field(min_length=2, max_length=64)]
    reference: Text200
    urls: list[Annotated[str, Field(max_length=2048)]] = Field(
        default_factory=list, max_length=MAX_SCOPE
    )
    hosts: list[Annotated[str, Field(max_length=253)]] = Field(
        default_factory=list, max_length=MAX_SCOPE
    )
    countries: list[Annotated[str, Field(min_length=2, max_length=2)]] = Field(
        min_length=1, max_length=MAX_COUNTRIES
    )
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    #: Where the 451 answer's ``Link: <...>; rel="blocked-by"`` points (RFC 7725: the
    #: entity that implements the block); the operator's default when omitted.
    blocked_by: Annotated[str, Field(max_length=2048)] | None = None
    description: Annotated[str, Field(max_length=10_000)] = ""

    @field_validator("valid_from", "valid_until")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value

    @model_validator(mode="after")
    def _scope(self) -> OrderSubmission:
        if not self.urls and not self.hosts:
            raise ValueError("an order needs a scope: at least one URL or host")
        if self.valid_from and self.valid_until and self.valid_until <= self.valid_from:
            raise ValueError("valid_until must be after valid_from")
        return self

    def accept(self, *, default_blocked_by: str | None, now: datetime) -> LegalOrder:
        """The order with canonical URLs, hosts and countries; raises
        :class:`InvalidOrderError` (or ``InvalidUrlError``) naming what is wrong."""
        urls = tuple(sorted({parse_url(u).url for u in self.urls}))
        hosts = tuple(sorted({canonical_host(h.strip()) for h in self.hosts}))
        link = self.blocked_by or default_blocked_by
        if not link:
            raise InvalidOrderError(
                "blocked_by is required (or set abuse_blocked_by_url): RFC 7725's Link header "
                "names who implements the block"
            )
        return LegalOrder(
            id=0,
            authority=self.authority,
            jurisdiction=self.jurisdiction.upper(),
            reference=self.reference,
            urls=urls,
            hosts=hosts,
            countries=country_codes(self.countries),
            valid_from=self.valid_from or now,
            valid_until=self.valid_until,
            blocked_by=_link_target(link),
            description=self.description,
            state="active",
        )


class LegalOrder(BaseModel):
    """An accepted order (``id`` 0 until stored)."""

    model_config = ConfigDict(frozen=True)

    id: int
    authority: str
    jurisdiction: str
    reference: str
    urls: tuple[str, ...]
    hosts: tuple[str, ...]
    countries: tuple[str, ...]
    valid_from: datetime
    valid_until: datetime | None
    blocked_by: str
    description: str = ""
    state: str = "active"

    def in_force(self, at: datetime) -> bool:
        """Active and valid at ``at``."""
        return (
            self.state == "active"
            and self.valid_from <= at
            and (self.valid_until is None or at < self.valid_until)
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "authority": self.authority,
            "jurisdiction": self.jurisdiction,
            "reference": self.reference,
            "urls": list(self.urls),
            "hosts": list(self.hosts),
            "countries": list(self.countries),
            "valid_from": self.valid_from.isoformat(),
            "valid_until": self.valid_until.isoformat() if self.valid_until else None,
            "blocked_by": self.blocked_by,
            "description": self.description,
            "state": self.state,
        }
