"""A logged request: one row of the ``requests`` table, built from a scored request.

The row keeps what an analyst needs to understand, replay and relabel the request: where
and when it was seen, its scores, class, the rules' decision, the model version, the
explanation, and the request itself bounded (URI, headers, the first bytes of the body).
Credentials are never kept (``Authorization``, ``Proxy-Authorization``, bastion's own
token header); cookies and bodies can be dropped with :class:`CaptureOptions`.
"""

from __future__ import annotations

import base64
import itertools
import operator
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import orjson

from bastion.analytics.zones import ZoneIndex, hostname
from bastion.rules import Decision
from bastion.waf.request import HttpRequest
from bastion.waf.result import WafResult

#: Score classes, in band order.
CLASSES: tuple[str, ...] = ("attack", "likely_attack", "likely_clean", "clean", "unscored")
#: Rule decisions.
ACTIONS: tuple[str, ...] = ("allow", "block", "challenge")
#: Where a scored request came from.
SOURCES: tuple[str, ...] = ("api", "edge", "middleware", "grpc")

#: Columns of the ``requests`` table, in insert order, with their portable kinds.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("id", "str"),
    ("ts_ms", "int"),
    ("zone", "str"),
    ("source", "str"),
    ("request_id", "str"),
    ("method", "str"),
    ("host", "str"),
    ("path", "str"),
    ("query", "str"),
    ("client", "str"),
    ("score", "int"),
    ("sqli", "int"),
    ("xss", "int"),
    ("rce", "int"),
    ("cls", "str"),
    ("action", "str"),
    ("rule_id", "str"),
    ("model_version", "str"),
    ("explanation", "str"),
    ("headers", "str"),
    ("body_b64", "str"),
    ("body_size", "int"),
    ("body_truncated", "int"),
)
COLUMN_NAMES: tuple[str, ...] = tuple(name for name, _ in COLUMNS)

#: Headers never logged: credentials.
SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "x-bastion-token"})
COOKIE_HEADERS = frozenset({"cookie", "set-cookie"})
_MAX_FIELD = 2048
_MAX_REQUEST_ID = 64


@dataclass(frozen=True, slots=True)
class CaptureOptions:
    """How much of each request is kept."""

    #: Body bytes kept (0 keeps none).
    max_body_bytes: int = 4096
    #: Bytes of headers (names and values) kept; later headers are dropped.
    max_header_bytes: int = 8192
    #: Keep ``Cookie`` headers (off: the header is dropped entirely).
    keep_cookies: bool = True
    #: Keep bodies (off: only the body's size is recorded).
    keep_bodies: bool = True


class VerdictLike(Protocol):
    """A scored request's result and decision (``bastion.service.scoring.Verdict``)."""

    @property
    def result(self) -> WafResult: ...

    @property
    def decision(self) -> Decision: ...


class Explainer(Protocol):
    """What can score requests again with explanations (a WAF scorer)."""

    def score_batch(
        self, requests: Sequence[HttpRequest], *, explain: bool = False
    ) -> list[WafResult]: ...


@dataclass(frozen=True, slots=True)
class JudgedBatch:
    """What scoring hands its observers: requests, their verdicts and who scored them.

    ``clients`` (one per request, or ``None``) are the client addresses when the entry
    point knows them; otherwise they are read from ``X-Real-IP``/``X-Forwarded-For``.
    ``scorer`` (the one that scored them) lets the log explain attack-class requests later.
    Batches rebuilt from the wire (:mod:`bastion.analytics.wire`) carry bodies already cut
    to the capture limit, so they also carry each body's real size (``body_sizes``) and
    each explanation as JSON text (``explanations``, ``""`` when not explained).
    """

    at: float
    source: str
    requests: Sequence[HttpRequest]
    verdicts: Sequence[VerdictLike]
    model_version: str
    clients: Sequence[str | None] | None = None
    scorer: Explainer | None = None
    body_sizes: Sequence[int] | None = None
    explanations: Sequence[str] | None = None


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """One row of the ``requests`` table (see :data:`COLUMNS`)."""

    id: str
    ts_ms: int
    zone: str
    source: str
    request_id: str
    method: str
    host: str
    path: str
    query: str
    client: str
    score: int
    sqli: int
    xss: int
    rce: int
    cls: str
    action: str
    rule_id: str
    model_version: str
    explanation: str
    headers: str
    body_b64: str
    body_size: int
    body_truncated: int

    def as_row(self) -> tuple[Any, ...]:
        """The values in :data:`COLUMNS` order."""
        return tuple(getattr(self, name) for name in COLUMN_NAMES)


_ID_RE = re.compile(r"[0-9a-f]{32}")


_ID_PREFIX = uuid.uuid4().hex[:12]
_ID_COUNTER = itertools.count()


def new_record_id(ts_ms: int) -> str:
    """A unique id for a logged request: its time (12 hex digits, milliseconds), 48 random
    bits fixed per process and a 32-bit counter, so ids sort by time and name the rows to
    look at."""
    return f"{ts_ms:012x}{_ID_PREFIX}{next(_ID_COUNTER) & 0xFFFFFFFF:08x}"


def record_id_time(record_id: str) -> int:
    """The time (epoch ms) inside an id; ``ValueError`` when it is not a record id."""
    if not _ID_RE.fullmatch(record_id):
        raise ValueError(f"{record_id[:40]!r} is not a request id (32 lower-case hex digits)")
    return int(record_id[:12], 16)


def client_of(request: HttpRequest) -> str:
    """The client address a request names (``X-Real-IP``, else the first
    ``X-Forwarded-For`` entry), or ``""``."""
    real = request.header("x-real-ip")
    if real:
        return real.strip()[:64]
    forwarded = request.header("x-forwarded-for")
    if forwarded:
        return forwarded.split(",", 1)[0].strip()[:64]
    return ""


def explanation_json(result: WafResult) -> str:
    """The result's explanation as JSON text (``""`` when it was not explained)."""
    if result.explanations is None:
        return ""
    return orjson.dumps({k: v.to_json() for k, v in result.explanations.items()}).decode()


def _headers_json(request: HttpRequest, options: CaptureOptions) -> str:
    kept: list[tuple[str, str]] = []
    budget = options.max_header_bytes
    for name, value in request.headers:
        low = name.lower()
        if low in SECRET_HEADERS or (low in COOKIE_HEADERS and not options.keep_cookies):
            continue
        cost = len(name) + len(value)
        if cost > budget:
            break
        budget -= cost
        kept.append((name, value))
    return orjson.dumps(kept).decode()


def record_of(
    request: HttpRequest,
    verdict: VerdictLike,
    *,
    ts_ms: int,
    zone: str,
    source: str,
    client: str,
    model_version: str,
    options: CaptureOptions,
    new_id: Callable[[], str] | None = None,
) -> RequestRecord:
    """The row for one scored request."""
    result, decision = verdict.result, verdict.decision
    body = request.body
    kept = body[: options.max_body_bytes] if options.keep_bodies else b""
    path = request.path
    return RequestRecord(
        id=new_id() if new_id is not None else new_record_id(ts_ms),
        ts_ms=ts_ms,
        zone=zone,
        source=source,
        request_id=(request.header("x-request-id") or "")[:_MAX_REQUEST_ID],
        method=request.method[:32],
        host=hostname(request.header("host") or "")[:253],
        path=path[:_MAX_FIELD],
        query=request.query[:_MAX_FIELD],
        client=client,
        score=result.score,
        sqli=result.sqli,
        xss=result.xss,
        rce=result.rce,
        cls=result.cls,
        action=decision.action,
        rule_id=decision.rule_id or "",
        model_version=model_version,
        explanation=explanation_json(result),
        headers=_headers_json(request, options),
        body_b64=base64.b64encode(kept).decode("ascii"),
        body_size=len(body),
        body_truncated=int(len(kept) < len(body)),
    )


_NAME = operator.itemgetter(0)
_VALUE = operator.itemgetter(1)
_SPECIAL_HEADERS = frozenset(
    {"host", "x-request-id", "x-real-ip", "x-forwarded-for"} | SECRET_HEADERS | COOKIE_HEADERS
)


def _strip_fragment(text: str) -> str:
    return text.split("#", 1)[0] if "#" in text else text


def _scan_headers(
    headers: tuple[tuple[str, str], ...], options: CaptureOptions
) -> tuple[str, str, str, str]:
    """A request's (host, request id, kept headers as JSON, client address from X-Real-IP
    or X-Forwarded-For). The common case (no credential, cookie to drop or budget to
    enforce) runs in a few C-level passes, not a Python loop over the headers."""
    names = "\0".join(map(_NAME, headers)).lower().split("\0")
    if len(names) != len(headers):  # a name holding NUL (only a hand-made API request)
        names = [name.lower() for name, _ in headers]
    special = _SPECIAL_HEADERS.intersection(names)
    found = {low: headers[names.index(low)][1] for low in special}
    drop = special & SECRET_HEADERS
    if not options.keep_cookies:
        drop |= special & COOKIE_HEADERS
    size = sum(map(len, names)) + sum(map(len, map(_VALUE, headers)))
    if not drop and size <= options.max_header_bytes:
        text = orjson.dumps(headers).decode()
    else:
        kept: list[tuple[str, str]] = []
        budget = options.max_header_bytes
        for low, (name, value) in zip(names, headers, strict=True):
            if low in drop:
                continue
            budget -= len(name) + len(value)
            if budget < 0:
                break
            kept.append((name, value))
        text = orjson.dumps(kept).decode()
    real_ip = found.get("x-real-ip", "").strip()
    client = real_ip or found.get("x-forwarded-for", "").split(",", 1)[0].strip()
    request_id = found.get("x-request-id", "")[:_MAX_REQUEST_ID]
    return found.get("host", ""), request_id, text, client[:64]


class ColumnBatch:
    """Logged-request rows built column by column (what the stores insert in bulk).

    Faster than building :class:`RequestRecord` objects: one pass over each request's
    headers, ids from a per-process random prefix and a counter.
    """

    def __init__(self) -> None:
        self.columns: dict[str, list[Any]] = {name: [] for name in COLUMN_NAMES}
        #: The request of each row (to explain it later).
        self.requests: list[HttpRequest] = []

    def __len__(self) -> int:
        return len(self.columns["id"])

    def add(
        self,
        batch: JudgedBatch,
        zones: ZoneIndex,
        options: CaptureOptions,
        keep: Sequence[bool] | None = None,
    ) -> None:
        """Append the (kept) requests of a judged batch."""
        self.add_many([(batch, keep)], zones, options)

    def add_many(
        self,
        items: Sequence[tuple[JudgedBatch, Sequence[bool] | None]],
        zones: ZoneIndex,
        options: CaptureOptions,
    ) -> list[int]:
        """Append the (kept) requests of several judged batches in one columnar pass (much
        cheaper than one pass per batch when batches hold one request each); returns the
        row offset of each batch's first row."""
        requests: list[HttpRequest] = []
        verdicts: list[VerdictLike] = []
        clients: list[str | None] = []
        times: list[int] = []
        sources: list[str] = []
        versions: list[str] = []
        offsets: list[int] = []
        base = len(self)
        sizes: list[int] = []
        explained: list[str | None] = []
        for batch, keep in items:
            offsets.append(base + len(requests))
            reqs, verds, addrs = batch.requests, batch.verdicts, batch.clients
            sized, texts = batch.body_sizes, batch.explanations
            if keep is not None:
                reqs = [r for r, k in zip(reqs, keep, strict=True) if k]
                verds = [v for v, k in zip(verds, keep, strict=True) if k]
                if addrs is not None:
                    addrs = [a for a, k in zip(addrs, keep, strict=True) if k]
                if sized is not None:
                    sized = [s for s, k in zip(sized, keep, strict=True) if k]
                if texts is not None:
                    texts = [t for t, k in zip(texts, keep, strict=True) if k]
            m = len(reqs)
            requests += reqs
            verdicts += verds
            clients += addrs if addrs is not None else [None] * m
            sizes += sized if sized is not None else [len(r.body) for r in reqs]
            explained += texts if texts is not None else [None] * m
            times += [int(batch.at * 1000)] * m
            sources += [batch.source] * m
            versions += [batch.model_version] * m
        n = len(requests)
        if not n:
            return offsets
        self.requests += requests
        scanned = [_scan_headers(r.headers, options) for r in requests]
        uris = [r.uri.partition("?") for r in requests]
        results = [v.result for v in verdicts]
        decisions = [v.decision for v in verdicts]
        bodies = [r.body for r in requests]
        c = self.columns
        c["id"] += [new_record_id(t) for t in times]
        c["ts_ms"] += times
        c["zone"] += [zones.resolve(h[0]) for h in scanned]
        c["source"] += sources
        c["request_id"] += [h[1] for h in scanned]
        c["method"] += [r.method[:32] for r in requests]
        c["host"] += [zones.hostname(h[0]) for h in scanned]
        c["path"] += [_strip_fragment(u[0])[:_MAX_FIELD] for u in uris]
        c["query"] += [_strip_fragment(u[2])[:_MAX_FIELD] for u in uris]
        c["client"] += [(a or h[3])[:64] for a, h in zip(clients, scanned, strict=True)]
        c["score"] += [r.score for r in results]
        c["sqli"] += [r.sqli for r in results]
        c["xss"] += [r.xss for r in results]
        c["rce"] += [r.rce for r in results]
        c["cls"] += [r.cls for r in results]
        c["action"] += [d.action for d in decisions]
        c["rule_id"] += [d.rule_id or "" for d in decisions]
        c["model_version"] += versions
        c["explanation"] += [
            t if t is not None else explanation_json(r)
            for t, r in zip(explained, results, strict=True)
        ]
        c["headers"] += [h[2] for h in scanned]
        if options.keep_bodies and options.max_body_bytes and any(bodies):
            cap = options.max_body_bytes
            c["body_b64"] += [
                base64.b64encode(b[:cap]).decode("ascii") if b else "" for b in bodies
            ]
            c["body_truncated"] += [int(size > cap) for size in sizes]
        else:
            c["body_b64"] += [""] * n
            c["body_truncated"] += [int(bool(size)) for size in sizes]
        c["body_size"] += sizes
        return offsets

    def records(self) -> list[RequestRecord]:
        """The rows as records."""
        c = self.columns
        return [RequestRecord(*(c[name][i] for name in COLUMN_NAMES)) for i in range(len(self))]


def records_from(
    batch: JudgedBatch,
    zones: ZoneIndex,
    options: CaptureOptions,
    *,
    keep: Sequence[bool] | None = None,
) -> list[RequestRecord]:
    """The rows of a judged batch (only the requests ``keep`` marks, when given)."""
    rows = ColumnBatch()
    rows.add(batch, zones, options, keep)
    return rows.records()
