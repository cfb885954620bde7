"""Partner sharing: indicators out as STIX 2.1 bundles, partners' URL lists in as reports.

Out: :func:`stix_bundle` makes a STIX 2.1 bundle of an ``identity`` (the producer, the
``created_by_ref`` of every indicator) and one ``indicator`` per URL, domain or SHA-256,
with a STIX pattern (``[url:value = '...']``, ``[domain-name:value = '...']``,
``[file:hashes.'SHA-256' = '...']``), ``valid_from``, the report types as ``labels``, a
``confidence`` and the provenance as ``external_references``. Indicator ids are UUIDv5 of
the indicator, so a partner pulling twice sees the same object again, not a new one.

In: :func:`parse_feed` reads a partner's list: plain text (one URL per line, OpenPhish),
CSV with a ``url`` column (URLhaus; ``#`` comment lines skipped), or JSON (a list of URLs,
a list of objects with ``url``, or ``{"urls": [...]}`` as URLhaus's API returns). Bad lines
are reported one by one (line number and why) and skipped; the rest is imported.
:func:`feed_reports` turns the items into reports whose ids derive from the partner, the
type, the URL and the day, so importing the same list twice adds nothing.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import orjson

from bastion.abuse.errors import AbuseError, InvalidUrlError
from bastion.abuse.reports import Report, Reporter, ReportType
from bastion.abuse.urls import canonical_host, canonicalize_url

IndicatorKind = Literal["url", "domain", "sha256"]
#: Namespace of bastion's deterministic STIX ids.
STIX_NAMESPACE = uuid.UUID("7c1f8e2a-5b0d-4c8e-9f3a-2d6b1e4a9c70")
MAX_FEED_BYTES = 64 << 20
MAX_FEED_ITEMS = 1_000_000
MAX_ERRORS_KEPT = 100
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
#: URLhaus "threat" and common feed labels -> report types.
THREAT_TYPES = {
    "phishing": ReportType.PHISHING,
    "malware": ReportType.MALWARE,
    "malware_download": ReportType.MALWARE,
    "botnet_cc": ReportType.MALWARE,
    "spam": ReportType.SPAM,
}


class FeedFormatError(AbuseError):
    """A partner feed that cannot be read at all (not a single line can be parsed)."""


@dataclass(frozen=True, slots=True)
class Indicator:
    """One thing to share, with where it comes from."""

    kind: IndicatorKind
    value: str
    first_seen: datetime
    #: Report types (``phishing``...), the indicator's STIX ``labels``.
    labels: tuple[str, ...]
    #: Provenance: ``case:12``, ``content-block:3``...
    source: str
    confidence: int = 80
    description: str = ""


def _ts(at: datetime) -> str:
    """STIX timestamps: UTC, ``Z``, millisecond precision."""
    utc = at.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def _literal(value: str) -> str:
    """A STIX pattern string literal (quote and backslash escaped)."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def pattern_of(indicator: Indicator) -> str:
    """The indicator's STIX 2.1 pattern."""
    if indicator.kind == "url":
        return f"[url:value = {_literal(indicator.value)}]"
    if indicator.kind == "domain":
        return f"[domain-name:value = {_literal(indicator.value)}]"
    return f"[file:hashes.'SHA-256' = {_literal(indicator.value)}]"


def identity_id(name: str) -> str:
    return f"identity--{uuid.uuid5(STIX_NAMESPACE, 'identity:' + name)}"


def stix_indicator(indicator: Indicator, creator: str, now: datetime) -> dict[str, Any]:
    ident = uuid.uuid5(STIX_NAMESPACE, f"{indicator.kind}:{indicator.value}")
    what = {"url": "URL", "domain": "Domain", "sha256": "File"}[indicator.kind]
    types = (
        "malicious-activity"
        if set(indicator.labels) & {"phishing", "malware"}
        else "anomalous-activity"
    )
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{ident}",
        "created": _ts(indicator.first_seen),
        "modified": _ts(max(now, indicator.first_seen)),
        "created_by_ref": creator,
        "name": f"{what} reported for {', '.join(indicator.labels) or 'abuse'}",
        "description": indicator.description or f"{what} confirmed by the abuse desk",
        "indicator_types": [types],
        "pattern": pattern_of(indicator),
        "pattern_type": "stix",
        "pattern_version": "2.1",
        "valid_from": _ts(indicator.first_seen),
        "labels": sorted(set(indicator.labels)) or ["abuse"],
        "confidence": max(0, min(100, indicator.confidence)),
        "external_references": [{"source_name": "bastion", "external_id": indicator.source}],
    }


def stix_bundle(indicators: Iterable[Indicator], *, producer: str, now: datetime) -> dict[str, Any]:
    """A STIX 2.1 bundle: the producer's identity, then one indicator per item."""
    creator = identity_id(producer)
    identity = {
        "type": "identity",
        "spec_version": "2.1",
        "id": creator,
        "created": _ts(datetime(2026, 1, 1, tzinfo=UTC)),
        "modified": _ts(datetime(2026, 1, 1, tzinfo=UTC)),
        "name": producer,
        "identity_class": "organization",
    }
    objects = [identity, *(stix_indicator(i, creator, now) for i in indicators)]
    return {"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": objects}


# -- partner feeds in ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FeedItem:
    url: str
    type: ReportType


@dataclass
class FeedParse:
    items: list[FeedItem]
    #: ``(line or index, why)`` for the entries skipped (the first 100).
    errors: list[tuple[int, str]]
    skipped: int = 0


def _detect(data: bytes) -> str:
    head = data.lstrip()[:1]
    if head in (b"[", b"{"):
        return "json"
    first = next((ln for ln in data.splitlines() if ln.strip() and not ln.startswith(b"#")), b"")
    return "csv" if b"," in first and b"url" in first.lower() else "text"


def parse_feed(
    data: bytes, fmt: str = "auto", default_type: ReportType = ReportType.PHISHING
) -> FeedParse:
    """The URLs of a partner's feed (``fmt``: ``auto``, ``text``, ``csv``, ``json``)."""
    if len(data) > MAX_FEED_BYTES:
        raise FeedFormatError(f"the feed is larger than {MAX_FEED_BYTES >> 20} MiB")
    fmt = _detect(data) if fmt == "auto" else fmt
    if fmt not in ("text", "csv", "json"):
        raise FeedFormatError(f"unknown feed format {fmt!r}: auto, text, csv or json")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FeedFormatError(f"the feed is not UTF-8 (byte {exc.start})") from None
    raw: list[tuple[int, str, str | None]] = []  # (where, url, threat)
    if fmt == "text":
        for n, line in enumerate(text.splitlines(), 1):
            line = line.strip()
            if line and not line.startswith("#"):
                raw.append((n, line, None))
    elif fmt == "csv":
        raw = _csv_rows(text)
    else:
        raw = _json_rows(text)
    out = FeedParse([], [])
    seen: set[tuple[str, ReportType]] = set()
    for where, url, threat in raw:
        if len(out.items) >= MAX_FEED_ITEMS:
            raise FeedFormatError(f"the feed has more than {MAX_FEED_ITEMS} entries")
        kind = default_type if not threat else THREAT_TYPES.get(threat.strip().lower())
        try:
            if kind is None:
                raise AbuseError(f"unknown threat {threat!r}")
            canonical = canonicalize_url(url)
        except AbuseError as exc:
            out.skipped += 1
            if len(out.errors) < MAX_ERRORS_KEPT:
                out.errors.append((where, str(exc)))
            continue
        if (canonical, kind) not in seen:
            seen.add((canonical, kind))
            out.items.append(FeedItem(canonical, kind))
    if raw and not out.items:
        raise FeedFormatError(
            f"no entry of the feed could be read; first problem: line {out.errors[0][0]}: "
            f"{out.errors[0][1]}"
        )
    return out


def _csv_rows(text: str) -> list[tuple[int, str, str | None]]:
    lines = [(n, ln) for n, ln in enumerate(text.splitlines(), 1) if ln.strip()]
    # URLhaus comments its header: '# id,dateadded,url,...'; use the last comment with 'url'.
    header: list[str] | None = None
    body: list[tuple[int, str]] = []
    for n, ln in lines:
        if ln.startswith("#"):
            cells = next(csv.reader([ln.lstrip("# ")]))
            if "url" in [c.strip().lower() for c in cells]:
                header = [c.strip().lower() for c in cells]
        else:
            body.append((n, ln))
    if header is None and body:
        first = [c.strip().lower() for c in next(csv.reader([body[0][1]]))]
        if "url" in first:
            header, body = first, body[1:]
    if header is None:
        raise FeedFormatError("the CSV feed has no header naming a 'url' column")
    at, threat_at = header.index("url"), header.index("threat") if "threat" in header else None
    out: list[tuple[int, str, str | None]] = []
    for n, ln in body:
        cells = next(csv.reader(io.StringIO(ln)), [])
        if len(cells) <= at:
            out.append((n, "", None))
            continue
        threat = cells[threat_at] if threat_at is not None and len(cells) > threat_at else None
        out.append((n, cells[at], threat))
    return out


def _json_rows(text: str) -> list[tuple[int, str, str | None]]:
    try:
        obj = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise FeedFormatError(f"the JSON feed is not JSON: {exc}") from None
    if isinstance(obj, dict) and isinstance(obj.get("urls"), list):
        obj = obj["urls"]
    if not isinstance(obj, list):
        raise FeedFormatError("a JSON feed is a list of URLs or of objects with 'url'")
    out: list[tuple[int, str, str | None]] = []
    for i, entry in enumerate(obj):
        if isinstance(entry, str):
            out.append((i, entry, None))
        elif isinstance(entry, dict) and isinstance(entry.get("url"), str):
            threat = entry.get("threat", entry.get("type"))
            out.append((i, entry["url"], threat if isinstance(threat, str) else None))
        else:
            out.append((i, "", None))
    return out


def partner_reporter(name: str) -> Reporter:
    """The reporter identity of a partner (a stable key, so its reputation accrues)."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:60] or "partner"
    return Reporter(name=name[:200], organization=name[:200], email=f"{slug}@partners.invalid")


def feed_reports(
    items: Iterable[FeedItem], *, partner: str, trust: int, received_at: datetime
) -> list[Report]:
    """One report per item, with the partner's provenance and trust; ids are derived from
    the partner, type, URL and day (re-importing a list the same day adds nothing)."""
    reporter = partner_reporter(partner)
    day = received_at.astimezone(UTC).date().isoformat()
    out = []
    for item in items:
        digest = hashlib.sha256(f"{partner}\x1f{item.type}\x1f{item.url}\x1f{day}".encode())
        out.append(
            Report(
                id="f" + digest.hexdigest()[:31],
                type=item.type,
                urls=[item.url],
                description=f"Imported from partner {partner} (trust {trust}/100).",
                reporter=reporter,
                source=f"partner:{partner}"[:80],
                received_at=received_at,
            )
        )
    return out


def domain_indicator(url: str) -> str | None:
    """The host of ``url`` when the report is about the whole site (path ``/``)."""
    try:
        scheme_host, _, rest = url.partition("://")[2].partition("/")
        if rest:
            return None
        return canonical_host(scheme_host.split(":", 1)[0])
    except InvalidUrlError:
        return None


def is_sha256(value: str) -> bool:
    return bool(_SHA256.match(value))
