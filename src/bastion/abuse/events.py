"""Events: what travels on the stream. Each has an id that makes its effects idempotent.

An event is ``{"id", "kind", "data"}``. ``id`` is unique per event (a report's event has the
report's id), so a consumer that sees an event twice (at-least-once delivery) recognises it.
Kinds: ``abuse.report`` (``data`` is a :class:`~bastion.abuse.reports.Report`'s JSON).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NamedTuple

import orjson

from bastion.abuse.reports import Report

REPORT = "abuse.report"


class EventFormatError(ValueError):
    """Bytes that are not an event (or a batch of events)."""


class Event(NamedTuple):
    """One event (immutable; a named tuple: a consumer decodes thousands per second)."""

    id: str
    kind: str
    data: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "data": self.data}

    def encode(self) -> bytes:
        return orjson.dumps(self.to_json())

    @classmethod
    def from_json(cls, obj: Any) -> Event:
        """The event of a decoded JSON object; raises :class:`EventFormatError`."""
        if not isinstance(obj, dict):
            raise EventFormatError("an event is a JSON object")
        ident, kind, data = obj.get("id"), obj.get("kind"), obj.get("data")
        if not isinstance(ident, str) or not ident or len(ident) > 128:
            raise EventFormatError("an event needs an 'id' string of 1-128 characters")
        if not isinstance(kind, str) or not isinstance(data, dict):
            raise EventFormatError("an event needs a 'kind' string and a 'data' object")
        return cls(ident, kind, data)

    @classmethod
    def decode(cls, raw: bytes) -> Event:
        try:
            return cls.from_json(orjson.loads(raw))
        except orjson.JSONDecodeError as exc:
            raise EventFormatError(f"not JSON: {exc}") from None


def report_event(report: Report) -> Event:
    """The event announcing an accepted report (its id is the report's)."""
    return Event(report.id, REPORT, report.to_event_data())


def encode_batch(events: Iterable[Event]) -> bytes:
    """Several events as one JSON array (one stream message in packed mode)."""
    return orjson.dumps([e.to_json() for e in events])


def decode_batch(raw: bytes) -> list[Event]:
    """The events of one stream message: a JSON array of events, or a single event."""
    try:
        obj = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise EventFormatError(f"not JSON: {exc}") from None
    if not isinstance(obj, list):
        return [Event.from_json(obj)]
    out: list[Event] = []
    append = out.append
    for o in obj:  # Event.from_json's checks, inlined: a consumer decodes every event
        if type(o) is dict:
            ident, kind, data = o.get("id"), o.get("kind"), o.get("data")
            if (
                type(ident) is str
                and 0 < len(ident) <= 128
                and type(kind) is str
                and type(data) is dict
            ):
                append(Event(ident, kind, data))
                continue
        append(Event.from_json(o))  # raises what is wrong (or accepts a subclass)
    return out
