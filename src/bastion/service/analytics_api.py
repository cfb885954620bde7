"""HTTP endpoints of request analytics and of the WAF rules kept in the database.

Analytics (``analytics.read``; site owners only for their zones; zone ``_`` is traffic
whose host matched no zone, for roles that see every zone):

* ``GET /v1/analytics/zones/{zone}/summary``: counts per class, action, vector class;
* ``GET .../classes``: class counts per minute or hour;
* ``GET .../histograms``: score histograms per vector (global, sqli, xss, rce);
* ``GET .../top/{paths|attacked-paths|clients|attacked-clients}``;
* ``GET .../requests`` (filters, newest first, cursor pages) and ``GET .../requests/{id}``.

Rules: ``GET /v1/rules`` (``rules.read``), ``POST /v1/rules/validate`` (``rules.read``),
``POST /v1/rules/dry-run`` (``rules.read`` and ``analytics.read`` for the zone),
``PUT /v1/rules`` (``rules.write``, audited, a new version that every worker loads
within ``rules_refresh_s``). JSON shapes: ``docs/analytics.md``.

The router's lifespan opens the analytics store, attaches the request log to the
worker's scoring service and runs the rules reloader.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, TypeVar

import orjson
from fastapi import APIRouter, Body, Depends, FastAPI, HTTPException, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from bastion.analytics import CLASSES, CaptureOptions, Sampler
from bastion.analytics import queries as q
from bastion.analytics.record import ACTIONS, COLUMN_NAMES
from bastion.analytics.replay import REPLAY_MAX, Replay, logged_request, proposed_rule, replay
from bastion.auth import InvalidZoneError, Permission, Principal, normalize_zone
from bastion.config import Settings
from bastion.rules import DEFAULT_RULE_SPECS, RuleContext, RuleError, RuleSet, RuleSpec
from bastion.rules import compile_rules as _compile
from bastion.service.analytics_log import RequestLog
from bastion.service.analytics_shipper import LogShipper
from bastion.service.responses import json_response
from bastion.service.scoring import ScoringService
from bastion.service.security import caller
from bastion.store.analytics import (
    AnalyticsError,
    AnalyticsStore,
    default_url,
    maintenance_lock,
    open_analytics,
)
from bastion.store.db import Database
from bastion.store.models import Zone as ZoneRow
from bastion.store.rules_store import RuleStore, StoredRuleSet
from bastion.waf.exclusion import param_of_location, proposal_location
from bastion.waf.result import WafResult

log = logging.getLogger("bastion.analytics")

READ = Permission("analytics.read")
RULES_READ = Permission("rules.read")
RULES_WRITE = Permission("rules.write")
#: The pseudo-zone of logged requests whose host matched no zone.
UNZONED = "_"
#: Longest time range one analytics query may cover.
MAX_RANGE_MS = 92 * q.DAY_MS
DEFAULT_RANGE_MS = q.HOUR_MS
MAX_SERIES_POINTS = 5_000


@dataclass
class AnalyticsContext:
    """One worker's analytics parts: the store (``None`` when off), log and rules."""

    store: AnalyticsStore | None
    request_log: RequestLog | LogShipper | None
    rules: RuleStore
    settings: Settings
    scoring: ScoringService
    rules_version: int = -1
    rules_source: str = "config"


def zone_names(database: Database) -> Callable[[], list[str]]:
    """A loader of the registered zone names (what the log resolves hosts against)."""

    def load() -> list[str]:
        with database.session() as session:
            return list(session.scalars(select(ZoneRow.name)))

    return load


def capture_options(settings: Settings) -> CaptureOptions:
    """How much of each request the log keeps, from the settings."""
    return CaptureOptions(
        max_body_bytes=settings.analytics_max_body_bytes,
        keep_bodies=settings.analytics_keep_bodies,
        keep_cookies=settings.analytics_keep_cookies,
    )


def store_url(settings: Settings) -> str:
    """The analytics store's URL (the configured one, or the default beside the database)."""
    return settings.analytics_url or default_url(settings.database_url)


def build_request_log(
    settings: Settings, database: Database, store: AnalyticsStore, *, sampled: bool = True
) -> RequestLog:
    """A request log writing to ``store`` (``sampled=False``: every batch it is handed
    was sampled already, as in the writer process)."""
    return RequestLog(
        store,
        zones=zone_names(database),
        sampler=Sampler(settings.analytics_sample_rate if sampled else 1.0),
        options=capture_options(settings),
        queue_size=settings.analytics_queue_size,
        batch_size=settings.analytics_batch_size,
        flush_interval_s=settings.analytics_flush_s,
        zone_refresh_s=settings.analytics_zone_refresh_s,
        retention_days=settings.analytics_retention_days,
        maintenance_lock=maintenance_lock(database),
    )


def build_context(app_state: Any) -> AnalyticsContext:
    """Open the store and build the request log for an app from ``create_app``.

    Under ``bastion serve`` (``analytics_writer_socket`` set) the workers ship sampled
    requests to the writer process and open the store only to answer queries; otherwise
    (one process: tests, an app served by other means) a thread of this process writes."""
    state = app_state.bastion
    settings: Settings = state.settings
    store: AnalyticsStore | None = None
    request_log: RequestLog | LogShipper | None = None
    if settings.analytics_enabled:
        url = store_url(settings)
        if settings.analytics_writer_socket and not url.endswith(":memory:"):
            store = open_analytics(url, exclusive=False)
            request_log = LogShipper(
                settings.analytics_writer_socket,
                sampler=Sampler(settings.analytics_sample_rate),
                options=capture_options(settings),
                queue_size=settings.analytics_queue_size,
            )
        else:
            # One worker: it holds a DuckDB file open (cheap writes); several take turns.
            store = open_analytics(url, exclusive=settings.workers == 1)
            request_log = build_request_log(settings, state.database, store)
    ctx = AnalyticsContext(store, request_log, RuleStore(state.database), settings, state.scoring)
    reload_rules(ctx)
    return ctx


def config_rules(settings: Settings) -> tuple[RuleSet, str]:
    """The config file's rules (or the defaults) and which of the two they are."""
    return _compile(_live_specs(settings)), "default" if settings.rules is None else "config"


def reload_rules(ctx: AnalyticsContext) -> bool:
    """Load the database's rule set into scoring when its version changed."""
    version = ctx.rules.version()
    if version == ctx.rules_version:
        return False
    if version == 0:
        ctx.scoring.rules, ctx.rules_source = config_rules(ctx.settings)
    else:
        stored = ctx.rules.current()
        if stored is None:  # deleted meanwhile
            return False
        version = stored.version
        ctx.scoring.rules = _compile([_spec(r) for r in stored.rules])
        ctx.rules_source = "database"
    ctx.rules_version = version
    log.info("rules: %s version %d loaded", ctx.rules_source, version)
    return True


async def _reload_forever(ctx: AnalyticsContext, interval_s: float) -> None:
    while True:
        await asyncio.sleep(interval_s)
        try:
            await run_in_threadpool(reload_rules, ctx)
        except Exception:
            log.exception("rules: reload failed; keeping the loaded rules")


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Start the request log and the rules reloader for the worker's lifetime."""
    ctx = _context_of(app.state)
    if ctx.request_log is not None:
        ctx.request_log.start()
        ctx.scoring.add_observer(ctx.request_log)
    task = asyncio.create_task(_reload_forever(ctx, ctx.settings.rules_refresh_s))
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        if ctx.request_log is not None:
            ctx.scoring.remove_observer(ctx.request_log)
            await run_in_threadpool(ctx.request_log.close)
        # The log closed its store: a later lifespan of the same app (tests, schemathesis,
        # an embedding server that restarts it) builds a fresh context.
        app.state.analytics = None


def _context_of(app_state: Any) -> AnalyticsContext:
    ctx: AnalyticsContext | None = getattr(app_state, "analytics", None)
    if ctx is None:
        ctx = app_state.analytics = build_context(app_state)
    return ctx


def _ok(example: dict[str, Any], description: str = "OK") -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` with a JSON example (the shapes of ``docs/analytics.md``)."""
    return {
        200: {"description": description, "content": {"application/json": {"example": example}}}
    }


_T0 = 1_795_000_000_000
_COUNTS = {"attack": 3, "likely_attack": 1, "likely_clean": 10, "clean": 986, "unscored": 0}
_ITEM: dict[str, Any] = {
    "id": "01a1e6d5a000c0ffee1234500000007",
    "ts_ms": _T0,
    "time": "2026-11-19T07:46:40+00:00",
    "zone": "shop.example",
    "source": "edge",
    "request_id": "",
    "method": "GET",
    "host": "www.shop.example",
    "path": "/search",
    "query": "q=1%27+or+1%3D1--",
    "client": "203.0.113.5",
    "score": 2,
    "sqli": 1,
    "xss": 97,
    "rce": 99,
    "class": "attack",
    "action": "block",
    "rule_id": "block-attacks",
    "model_version": "waf-bf4eb6136ee9",
    "explanation": {"sqli": {"location": "query:q", "snippet": "1' or 1=1--", "score": 1}},
}
_RULE = {"id": "admin", "expression": 'path startswith "/admin"', "action": "block"}
_RULE_ERROR = {
    "message": "rule 'admin' (#1), line 1, column 13: expected a number after '<'",
    "reason": "expected a number after '<'",
    "rule_id": "admin",
    "index": 1,
    "line": 1,
    "column": 13,
    "expected": "a number",
}
EXAMPLES: dict[str, dict[str, Any]] = {
    "summary": {
        "zone": "shop.example",
        "since": _T0 - 3_600_000,
        "until": _T0,
        "total": 1000,
        "classes": _COUNTS,
        "actions": {"allow": 997, "block": 3, "challenge": 0},
        "vectors": {v: _COUNTS for v in ("sqli", "xss", "rce")},
    },
    "classes": {
        "zone": "shop.example",
        "since": _T0 - 120_000,
        "until": _T0,
        "step": "minute",
        "classes": list(CLASSES),
        "series": [{"t": _T0 - 120_000, "counts": _COUNTS}, {"t": _T0 - 60_000, "counts": _COUNTS}],
    },
    "histograms": {
        "zone": "shop.example",
        "since": _T0 - 3_600_000,
        "until": _T0,
        "width": 5,
        "buckets": list(q.HIST_BUCKETS),
        "vectors": {v: [3] + [0] * 18 + [997] for v in ("global", "sqli", "xss", "rce")},
    },
    "top": {
        "zone": "shop.example",
        "since": _T0 - 3_600_000,
        "until": _T0,
        "what": "attacked-paths",
        "items": [{"key": "/login", "count": 30}, {"key": "/search", "count": 12}],
    },
    "requests": {
        "zone": "shop.example",
        "since": _T0 - 3_600_000,
        "until": _T0 + 1,
        "requests": [_ITEM],
        "next_cursor": f"{_T0}:{_ITEM['id']}",
    },
    "request": _ITEM
    | {
        "explanation_recomputed": False,
        "request": {
            "method": "GET",
            "uri": "/search?q=1%27+or+1%3D1--",
            "headers": [["Host", "www.shop.example"], ["User-Agent", "curl/8.5"]],
            "body_base64": "",
            "body_size": 0,
            "body_truncated": False,
        },
    },
    "rules": {
        "version": 3,
        "source": "database",
        "created_at": "2026-11-19T07:46:40+00:00",
        "created_by": "tok_admin",
        "comment": "block /admin",
        "rules": [_RULE | {"description": ""}],
    },
    "validate": {"ok": False, "error": _RULE_ERROR},
    "put": {"ok": True, "version": 4, "rules": 1},
    "dry_run": {
        "ok": True,
        "zone": "shop.example",
        "since": _T0 - 3_600_000,
        "until": _T0,
        "evaluated": 1000,
        "actions": {"allow": 990, "block": 10, "challenge": 0},
        "would_block": 10,
        "changed": 7,
        "by_rule": {"admin": 10},
        "examples": {
            "block": [
                {
                    "id": _ITEM["id"],
                    "ts_ms": _T0,
                    "method": "GET",
                    "host": "www.shop.example",
                    "path": "/admin/users",
                    "query": "",
                    "score": 88,
                    "class": "clean",
                    "logged_action": "allow",
                    "action": "block",
                    "rule_id": "admin",
                }
            ],
            "challenge": [],
        },
    },
}
EXAMPLES["dry_run"]["examples"]["changed"] = EXAMPLES["dry_run"]["examples"]["block"]
EXAMPLES["overview"] = {
    "zone": "shop.example",
    "summary": EXAMPLES["summary"],
    "classes": EXAMPLES["classes"],
    "histograms": EXAMPLES["histograms"],
    "top_attacked_paths": EXAMPLES["top"],
    "top_attacked_clients": EXAMPLES["top"]
    | {"what": "attacked-clients", "items": [{"key": "198.51.100.7", "count": 30}]},
    "requests": EXAMPLES["requests"],
}


router = APIRouter(tags=["analytics"], lifespan=lifespan)

Caller = Annotated[Principal | None, Depends(caller)]
ZoneParam = Annotated[str, Path(min_length=1, max_length=253)]
TimeParam = Annotated[
    str | None,
    Query(
        max_length=40,
        description="ISO 8601 time (UTC when no offset) or epoch milliseconds",
    ),
]


def _zone_for(principal: Principal | None, permission: Permission, zone: str) -> str:
    """The zone's stored name; 400 for a malformed one, 403 when the caller may not."""
    if zone == UNZONED:
        if principal is not None and not principal.has(permission):
            raise HTTPException(403, f"only roles that see every zone may read zone '{zone}'")
        return ""
    try:
        name = normalize_zone(zone)
    except InvalidZoneError as exc:
        raise HTTPException(400, str(exc)) from None
    if principal is not None and not principal.has(permission, zone=name):
        raise HTTPException(403, f"this token may not use '{permission.value}' for zone {name}")
    return name


def parse_time(value: str | None, name: str, default: int) -> int:
    """Epoch milliseconds from an ISO 8601 string or an integer; 400 naming ``name``."""
    if value is None or value == "":
        return default
    text = value.strip()
    if text.lstrip("-").isdigit():
        ms = int(text)
    else:
        try:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise HTTPException(
                400, f"'{name}' must be an ISO 8601 time or epoch milliseconds, got {text!r}"
            ) from None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        ms = int(parsed.timestamp() * 1000)
    if not 0 <= ms < 253_402_300_800_000:  # year 10000
        raise HTTPException(400, f"'{name}' is out of range")
    return ms


def _range(since: str | None, until: str | None) -> tuple[int, int]:
    end = parse_time(until, "until", int(time.time() * 1000) + 1)
    start = parse_time(since, "since", end - DEFAULT_RANGE_MS)
    if start >= end:
        raise HTTPException(400, "'since' must be before 'until'")
    if end - start > MAX_RANGE_MS:
        raise HTTPException(400, f"the time range is longer than {MAX_RANGE_MS // q.DAY_MS} days")
    return start, end


def _store(request: Request) -> AnalyticsStore:
    store = _context_of(request.app.state).store
    if store is None:
        raise HTTPException(503, "request analytics is off (analytics_enabled = false)")
    return store


T = TypeVar("T")


async def _in_session(store: AnalyticsStore, work: Callable[[], T]) -> T:
    """Run ``work`` on a worker thread with the store held open once (one open of a DuckDB
    file for all of a call's queries); 503 when the store is unavailable."""

    def run() -> T:
        with store.session():
            return work()

    try:
        return await run_in_threadpool(run)
    except AnalyticsError as exc:
        raise HTTPException(503, f"the analytics store is unavailable: {exc}") from None


async def _fetch(store: AnalyticsStore, *queries: q.Query) -> list[list[tuple[Any, ...]]]:
    return await _in_session(store, lambda: [store.fetch(query) for query in queries])


def _window(store: AnalyticsStore, zone: str, since: int, until: int) -> q.Window:
    return q.Window.split(zone, since, until, store.watermark())


async def _windowed(
    request: Request,
    principal: Principal | None,
    zone: str,
    since: str | None,
    until: str | None,
    panel: Callable[[AnalyticsStore, q.Window], Any],
    step: str | None = None,
) -> Response:
    """One panel over ``zone``'s window: the caller's access checked, the range parsed
    (its number of ``step`` points bounded), the panel's queries in one store session."""
    name = _zone_for(principal, READ, zone)
    start, end = _range(since, until)
    if step is not None:
        _checked_step(start, end, step)
    store = _store(request)
    return json_response(
        await _in_session(store, lambda: panel(store, _window(store, name, start, end)))
    )


def _zone_json(zone: str) -> str:
    return zone or UNZONED


_SUMMARY_DIMS = ["class", "action", "sqli_class", "xss_class", "rce_class"]


def panel_summary(store: AnalyticsStore, w: q.Window) -> dict[str, Any]:
    """The summary answer (see ``docs/analytics.md``)."""
    counts: dict[str, dict[str, int]] = {d: {} for d in _SUMMARY_DIMS}
    for dim, key, n in store.fetch(q.totals(_SUMMARY_DIMS, w)):
        counts[dim][key] = int(n)
    return {
        "zone": _zone_json(w.zone),
        "since": w.since,
        "until": w.until,
        "total": sum(counts["class"].values()),
        "classes": {c: counts["class"].get(c, 0) for c in CLASSES},
        "actions": {a: counts["action"].get(a, 0) for a in ACTIONS},
        "vectors": {
            v: {c: counts[f"{v}_class"].get(c, 0) for c in CLASSES} for v in ("sqli", "xss", "rce")
        },
    }


def panel_classes(store: AnalyticsStore, w: q.Window, step: str) -> dict[str, Any]:
    """Class counts per ``step`` (minute or hour)."""
    step_ms = q.MINUTE_MS if step == "minute" else q.HOUR_MS
    points: dict[int, dict[str, int]] = {}
    for bucket, key, n in store.fetch(q.series("class", w, step_ms)):
        points.setdefault(int(bucket), dict.fromkeys(CLASSES, 0))[key] = int(n)
    return {
        "zone": _zone_json(w.zone),
        "since": w.since,
        "until": w.until,
        "step": step,
        "classes": list(CLASSES),
        "series": [{"t": t, "counts": points[t]} for t in sorted(points)],
    }


def panel_histograms(store: AnalyticsStore, w: q.Window) -> dict[str, Any]:
    """Score histograms per vector."""
    dims = [f"hist_{v}" for v in q.VECTOR_COLUMNS]
    index = {b: i for i, b in enumerate(q.HIST_BUCKETS)}
    out = {v: [0] * len(q.HIST_BUCKETS) for v in q.VECTOR_COLUMNS}
    for dim, key, n in store.fetch(q.totals(dims, w)):
        out[dim.removeprefix("hist_")][index[int(key)]] = int(n)
    return {
        "zone": _zone_json(w.zone),
        "since": w.since,
        "until": w.until,
        "width": q.HIST_WIDTH,
        "buckets": list(q.HIST_BUCKETS),
        "vectors": {("global" if v == "score" else v): out[v] for v in q.VECTOR_COLUMNS},
    }


_TOP = {
    "paths": "path",
    "attacked-paths": "attacked_path",
    "clients": "client",
    "attacked-clients": "attacked_client",
}
TopWhat = Literal["paths", "attacked-paths", "clients", "attacked-clients"]


def panel_top(store: AnalyticsStore, w: q.Window, what: str, limit: int) -> dict[str, Any]:
    """The most frequent paths or client addresses."""
    rows = store.fetch(q.top(_TOP[what], w, limit))
    return {
        "zone": _zone_json(w.zone),
        "since": w.since,
        "until": w.until,
        "what": what,
        "items": [{"key": key, "count": int(n)} for key, n in rows],
    }


def _explanation(text: str) -> Any:
    return orjson.loads(text) if text else None


def _listed(row: Sequence[Any]) -> dict[str, Any]:
    item = dict(zip(q.LIST_COLUMNS, row, strict=True))
    item["zone"] = _zone_json(item["zone"])
    item["ts_ms"] = int(item["ts_ms"])
    item["time"] = datetime.fromtimestamp(item["ts_ms"] / 1000, UTC).isoformat()
    item["class"] = item.pop("cls")
    item["rule_id"] = item["rule_id"] or None
    item["explanation"] = _explanation(item["explanation"])
    for key in ("score", "sqli", "xss", "rce"):
        item[key] = int(item[key])
    return item


def panel_requests(
    store: AnalyticsStore,
    zone: str,
    since: int,
    until: int,
    flt: q.SampleFilter,
    limit: int,
    after: tuple[int, str] | None = None,
) -> dict[str, Any]:
    """A page of sampled requests, newest first, with the next page's cursor."""
    rows = store.fetch(q.sampled(zone, since, until, flt, limit + 1, after))
    items = [_listed(r) for r in rows[:limit]]
    next_cursor = None
    if len(rows) > limit:
        last = items[-1]
        next_cursor = f"{last['ts_ms']}:{last['id']}"
    return {
        "zone": _zone_json(zone),
        "since": since,
        "until": until,
        "requests": items,
        "next_cursor": next_cursor,
    }


def _checked_step(start: int, end: int, step: str) -> None:
    step_ms = q.MINUTE_MS if step == "minute" else q.HOUR_MS
    if (end - start) // step_ms > MAX_SERIES_POINTS:
        raise HTTPException(
            400, f"more than {MAX_SERIES_POINTS} points: use step=hour or a shorter range"
        )


@router.get(
    "/v1/analytics/zones/{zone}/summary",
    summary="Counts per class, action and vector",
    responses=_ok(EXAMPLES["summary"]),
)
async def summary(
    request: Request,
    zone: ZoneParam,
    principal: Caller,
    since: TimeParam = None,
    until: TimeParam = None,
) -> Response:
    return await _windowed(request, principal, zone, since, until, panel_summary)


@router.get(
    "/v1/analytics/zones/{zone}/classes",
    summary="Class counts over time",
    responses=_ok(EXAMPLES["classes"]),
)
async def classes_over_time(
    request: Request,
    zone: ZoneParam,
    principal: Caller,
    since: TimeParam = None,
    until: TimeParam = None,
    step: Literal["minute", "hour"] = "minute",
) -> Response:
    return await _windowed(
        request, principal, zone, since, until, lambda st, w: panel_classes(st, w, step), step
    )


@router.get(
    "/v1/analytics/zones/{zone}/histograms",
    summary="Score histograms per vector",
    responses=_ok(EXAMPLES["histograms"]),
)
async def histograms(
    request: Request,
    zone: ZoneParam,
    principal: Caller,
    since: TimeParam = None,
    until: TimeParam = None,
) -> Response:
    return await _windowed(request, principal, zone, since, until, panel_histograms)


@router.get(
    "/v1/analytics/zones/{zone}/top/{what}",
    summary="Top paths or client addresses",
    responses=_ok(EXAMPLES["top"]),
)
async def top(
    request: Request,
    zone: ZoneParam,
    what: TopWhat,
    principal: Caller,
    since: TimeParam = None,
    until: TimeParam = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
) -> Response:
    return await _windowed(
        request, principal, zone, since, until, lambda st, w: panel_top(st, w, what, limit)
    )


def _cursor(value: str | None) -> tuple[int, str] | None:
    if not value:
        return None
    ts, sep, rid = value.partition(":")
    if not sep or not ts.isdigit() or len(rid) != 32 or not rid.isalnum():
        raise HTTPException(400, "'cursor' is not a cursor from a previous page")
    return int(ts), rid


ClassFilter = Annotated[
    list[Literal["attack", "likely_attack", "likely_clean", "clean", "unscored"]] | None,
    Query(alias="class", max_length=5),
]
ActionFilter = Annotated[list[Literal["allow", "block", "challenge"]] | None, Query(max_length=3)]


@router.get(
    "/v1/analytics/zones/{zone}/requests",
    summary="Sampled requests, newest first",
    responses=_ok(EXAMPLES["requests"]),
)
async def sampled_requests(
    request: Request,
    zone: ZoneParam,
    principal: Caller,
    since: TimeParam = None,
    until: TimeParam = None,
    cls: ClassFilter = None,
    action: ActionFilter = None,
    path_prefix: Annotated[str | None, Query(min_length=1, max_length=2048)] = None,
    rule: Annotated[str | None, Query(min_length=1, max_length=128)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    name = _zone_for(principal, READ, zone)
    start, end = _range(since, until)
    after = _cursor(cursor)
    store = _store(request)
    flt = q.SampleFilter(tuple(cls or ()), tuple(action or ()), path_prefix, rule)
    return json_response(
        await _in_session(store, lambda: panel_requests(store, name, start, end, flt, limit, after))
    )


@router.get(
    "/v1/analytics/zones/{zone}/overview",
    summary="Every panel of the analytics page in one call (one pass over the store)",
    responses=_ok(EXAMPLES["overview"]),
)
async def overview(
    request: Request,
    zone: ZoneParam,
    principal: Caller,
    since: TimeParam = None,
    until: TimeParam = None,
    step: Literal["minute", "hour"] = "minute",
    top_limit: Annotated[int, Query(ge=1, le=100)] = 10,
    requests_limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Response:
    """``summary``, ``classes``, ``histograms``, ``top_attacked_paths``,
    ``top_attacked_clients`` and ``requests`` (the first page, no filter), each shaped as
    its own endpoint answers, read with the store opened once."""
    name = _zone_for(principal, READ, zone)
    start, end = _range(since, until)
    _checked_step(start, end, step)
    store = _store(request)

    def panels() -> dict[str, Any]:
        w = _window(store, name, start, end)
        return {
            "zone": _zone_json(name),
            "summary": panel_summary(store, w),
            "classes": panel_classes(store, w, step),
            "histograms": panel_histograms(store, w),
            "top_attacked_paths": panel_top(store, w, "attacked-paths", top_limit),
            "top_attacked_clients": panel_top(store, w, "attacked-clients", top_limit),
            "requests": panel_requests(store, name, start, end, q.SampleFilter(), requests_limit),
        }

    return json_response(await _in_session(store, panels))


@router.get(
    "/v1/analytics/zones/{zone}/requests/{request_id}",
    summary="One sampled request",
    responses=_ok(EXAMPLES["request"]),
)
async def one_request(
    request: Request,
    zone: ZoneParam,
    request_id: Annotated[str, Path(min_length=1, max_length=64)],
    principal: Caller,
) -> Response:
    name = _zone_for(principal, READ, zone)
    store = _store(request)
    try:
        query = q.one(name, request_id)
    except ValueError as exc:
        raise HTTPException(400, str(exc)) from None
    (rows,) = await _fetch(store, query)
    if not rows:
        raise HTTPException(404, f"no logged request {request_id} in zone {_zone_json(name)}")
    full = dict(zip(COLUMN_NAMES, rows[0], strict=True))
    item = _listed([full[c] for c in q.LIST_COLUMNS])
    uri = full["path"] + (f"?{full['query']}" if full["query"] else "")
    headers = orjson.loads(full["headers"]) if full["headers"] else []
    item["request"] = {
        "method": full["method"],
        "uri": uri,
        "headers": headers,
        "body_base64": full["body_b64"],
        "body_size": int(full["body_size"]),
        "body_truncated": bool(int(full["body_truncated"])),
    }
    item["explanation_recomputed"] = False
    if item["explanation"] is None:
        item["explanation"] = await run_in_threadpool(
            _explain_now, _context_of(request.app.state).scoring, full, headers
        )
        item["explanation_recomputed"] = item["explanation"] is not None
    return json_response(item)


class ExclusionIn(BaseModel):
    """Which logged traffic to replay a proposed exclusion over (default: the last 7 days)."""

    model_config = ConfigDict(extra="forbid")

    since: str | None = Field(None, max_length=40)
    until: str | None = Field(None, max_length=40)
    limit: int = Field(10_000, ge=1, le=100_000)
    examples: int = Field(10, ge=0, le=100)


@router.post(
    "/v1/analytics/zones/{zone}/requests/{request_id}/exclusion",
    summary="Propose a narrow exception for a false positive, with a replay of its effect",
)
async def propose_exclusion(
    request: Request,
    zone: ZoneParam,
    request_id: Annotated[str, Path(min_length=1, max_length=64)],
    principal: Caller,
    body: Annotated[ExclusionIn | None, Body()] = None,
) -> Response:
    """From the explanation of a logged request marked as a false positive: an ``exclude``
    rule for the parameter that drove its score, on its host and path; and what the live
    rules plus that rule would have done to the zone's logged traffic (a dry run whose
    ``exclusions`` part lists the requests it would have let through)."""
    _admit(principal, RULES_READ)
    name = _zone_for(principal, READ, zone)
    body = body or ExclusionIn.model_validate({})
    start, end = _range(body.since or str(int(time.time() * 1000) - 7 * q.DAY_MS), body.until)
    store = _store(request)
    try:
        query = q.one(name, request_id)
    except ValueError as exc:
        raise HTTPException(400, str(exc)) from None
    (found,) = await _fetch(store, query)
    if not found:
        raise HTTPException(404, f"no logged request {request_id} in zone {_zone_json(name)}")
    full = dict(zip(COLUMN_NAMES, found[0], strict=True))
    ctx = _context_of(request.app.state)
    explanation = orjson.loads(full["explanation"]) if full["explanation"] else None
    if explanation is None:
        headers = orjson.loads(full["headers"]) if full["headers"] else []
        explanation = await run_in_threadpool(_explain_now, ctx.scoring, full, headers)
    if not explanation:
        raise HTTPException(409, "this request has no explanation (its model is no longer active)")
    location = proposal_location(explanation)
    param = param_of_location(location) if location else None
    if param is None:
        raise HTTPException(
            422,
            f"the score came from {location or 'an unknown place'}, which a parameter "
            "exclusion cannot narrow (the path, a header or a raw body): write a 'skip' "
            "rule for this host and path instead",
        )
    rule = proposed_rule(request_id, full["host"], full["path"], param)
    live = await run_in_threadpool(ctx.rules.current)
    current = (
        [_spec(r) for r in live.rules] if live is not None else list(_live_specs(ctx.settings))
    )
    try:
        candidate = _compile([_spec(rule), *current])
    except RuleError as exc:
        raise HTTPException(422, _error_json(exc)["message"]) from None

    def read() -> list[tuple[Any, ...]]:
        w = _window(store, name, start, end)
        tail = int(store.fetch(q.raw_tail_count(w))[0][0])
        first = q.newest_start(w, body.limit, tail, store.fetch(q.minute_counts(w)))
        return store.fetch(q.recent(name, max(start, first), end, body.limit))

    rows = await _in_session(store, read)
    replayed = await _replay(store, name, ctx.scoring, candidate, rows, body.examples)
    overrides = replayed.rescored if replayed is not None else None
    result = await run_in_threadpool(evaluate_rows, candidate, rows, body.examples, overrides)
    if replayed is not None:
        result["exclusions"] = replayed.summary(ctx.scoring.version)
    return json_response(
        {"rule": rule, "location": location, "zone": _zone_json(name), "since": start}
        | {"until": end, "dry_run": result}
    )


def _live_specs(settings: Settings) -> Sequence[RuleSpec]:
    """The rules in force when none were published: the config file's, or the defaults."""
    if settings.rules is None:
        return DEFAULT_RULE_SPECS
    return [RuleSpec(r.id, r.expression, r.action, r.description, r.param) for r in settings.rules]


def _explain_now(
    scoring: ScoringService, full: dict[str, Any], headers: list[list[str]]
) -> dict[str, Any] | None:
    """The explanation of a logged request that was stored without one, computed now from
    the logged request when the model that scored it is still the active one (``None``
    otherwise). Credentials were not logged and bodies may be cut, so it can differ from
    what the live request would have had (the answer's ``explanation_recomputed``)."""
    scorer = scoring.scorer
    if scorer.version != full["model_version"]:
        return None
    logged = logged_request(full)
    result = scorer.score_batch([logged], explain=True)[0]
    if result.explanations is None:
        return None
    return {k: v.to_json() for k, v in result.explanations.items()}


# -- rules ------------------------------------------------------------------------------


class RuleIn(BaseModel):
    """One rule as the API takes it."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=128)
    expression: str = Field(min_length=1, max_length=10_000)
    action: str = Field(min_length=1, max_length=32)
    description: str = Field("", max_length=1000)
    #: ``exclude`` rules only: the parameter left out of scoring (``q``, ``cookie:NAME``).
    param: str = Field("", max_length=256)


class RulesIn(BaseModel):
    """A rule list (evaluation order), with an optional comment for ``PUT``."""

    model_config = ConfigDict(extra="forbid")

    rules: list[RuleIn] = Field(max_length=1000)
    comment: str = Field("", max_length=1000)


class DryRunIn(BaseModel):
    """A candidate rule list and which logged traffic to run it over."""

    model_config = ConfigDict(extra="forbid")

    zone: str = Field(min_length=1, max_length=253)
    rules: list[RuleIn] = Field(max_length=1000)
    since: str | None = Field(None, max_length=40)
    until: str | None = Field(None, max_length=40)
    limit: int = Field(10_000, ge=1, le=100_000)
    examples: int = Field(10, ge=0, le=100)


def _spec(rule: dict[str, Any]) -> RuleSpec:
    return RuleSpec(
        rule["id"],
        rule["expression"],
        rule["action"],
        rule.get("description", ""),
        rule.get("param", ""),
    )


def rule_dict(rule: BaseModel) -> dict[str, Any]:
    """A rule as stored and shown (``param`` only where an ``exclude`` rule has one)."""
    out: dict[str, Any] = rule.model_dump()
    if not out.get("param"):
        out.pop("param", None)
    return out


def _error_json(exc: RuleError) -> dict[str, Any]:
    return {
        "message": str(exc),
        "reason": exc.reason,
        "rule_id": exc.rule_id,
        "index": exc.index,
        "line": exc.line,
        "column": exc.column,
        "expected": exc.expected,
    }


def _compile_body(rules: Sequence[RuleIn]) -> RuleSet:
    return _compile([_spec(r.model_dump()) for r in rules])


def _rules_json(stored: StoredRuleSet | None, ctx: AnalyticsContext) -> dict[str, Any]:
    if stored is not None:
        return {
            "version": stored.version,
            "source": "database",
            "created_at": stored.created_at.isoformat(),
            "created_by": stored.created_by,
            "comment": stored.comment,
            "rules": stored.rules,
        }
    settings = ctx.settings
    if settings.rules is None:
        specs = [
            {"id": s.id, "expression": s.expression, "action": str(s.action)}
            | {"description": s.description}
            for s in DEFAULT_RULE_SPECS
        ]
        source = "default"
    else:
        specs = [rule_dict(r) for r in settings.rules]
        source = "config"
    return {"version": 0, "source": source, "rules": specs}


def _admit(principal: Principal | None, permission: Permission) -> None:
    if principal is not None and not principal.has(permission):
        raise HTTPException(403, f"this token's roles do not grant '{permission.value}'")


@router.get(
    "/v1/rules",
    tags=["rules"],
    summary="The live rule set and its version",
    responses=_ok(EXAMPLES["rules"]),
)
async def get_rules(request: Request, principal: Caller) -> Response:
    _admit(principal, RULES_READ)
    ctx = _context_of(request.app.state)
    stored = await run_in_threadpool(ctx.rules.current)
    return json_response(_rules_json(stored, ctx))


@router.post(
    "/v1/rules/validate",
    tags=["rules"],
    summary="Check a rule list without publishing it",
    responses=_ok(EXAMPLES["validate"]),
)
async def validate_rules(principal: Caller, body: Annotated[RulesIn, Body()]) -> Response:
    _admit(principal, RULES_READ)
    try:
        compiled = _compile_body(body.rules)
    except RuleError as exc:
        return json_response({"ok": False, "error": _error_json(exc)})
    return json_response({"ok": True, "rules": len(compiled)})


@router.put(
    "/v1/rules",
    tags=["rules"],
    summary="Publish a new rule set (every worker loads it)",
    responses=_ok(EXAMPLES["put"]),
)
async def put_rules(
    request: Request, principal: Caller, body: Annotated[RulesIn, Body()]
) -> Response:
    _admit(principal, RULES_WRITE)
    try:
        _compile_body(body.rules)
    except RuleError as exc:
        return json_response({"ok": False, "error": _error_json(exc)}, 422)
    ctx = _context_of(request.app.state)
    actor = principal.token_id if principal is not None else "anonymous"
    rules = [rule_dict(r) for r in body.rules]
    version = await run_in_threadpool(ctx.rules.publish, rules, actor=actor, comment=body.comment)
    await run_in_threadpool(reload_rules, ctx)
    return json_response({"ok": True, "version": version, "rules": len(rules)})


@router.post(
    "/v1/rules/dry-run",
    tags=["rules"],
    summary="What a candidate rule list would have done to a zone's recent logged traffic",
    responses=_ok(EXAMPLES["dry_run"]),
)
async def dry_run(
    request: Request, principal: Caller, body: Annotated[DryRunIn, Body()]
) -> Response:
    _admit(principal, RULES_READ)
    name = _zone_for(principal, READ, body.zone)
    start, end = _range(body.since, body.until)
    try:
        candidate = _compile_body(body.rules)
    except RuleError as exc:
        return json_response({"ok": False, "error": _error_json(exc)}, 422)
    store = _store(request)

    def read() -> list[tuple[Any, ...]]:
        w = _window(store, name, start, end)
        tail = int(store.fetch(q.raw_tail_count(w))[0][0])
        first = q.newest_start(w, body.limit, tail, store.fetch(q.minute_counts(w)))
        return store.fetch(q.recent(name, max(start, first), end, body.limit))

    rows = await _in_session(store, read)
    scoring = _context_of(request.app.state).scoring
    replayed = await _replay(store, name, scoring, candidate, rows, body.examples)
    overrides = replayed.rescored if replayed is not None else None
    result = await run_in_threadpool(evaluate_rows, candidate, rows, body.examples, overrides)
    if replayed is not None:
        result["exclusions"] = replayed.summary(scoring.version)
    return json_response(
        {"ok": True, "zone": _zone_json(name), "since": start, "until": end} | result
    )


async def _replay(
    store: AnalyticsStore,
    zone: str,
    scoring: ScoringService,
    candidate: RuleSet,
    rows: Sequence[Sequence[Any]],
    examples: int,
) -> Replay | None:
    """Score again, without the excluded parameters, the rows the candidate's ``exclude``
    rules apply to (None when it has none)."""
    if not candidate.has_exclusions:
        return None
    cols = q.DRY_RUN_COLUMNS
    method, host, path, rid = (cols.index(c) for c in ("method", "host", "path", "id"))
    ids = [r[rid] for r in rows if candidate.excluded_params(r[method], r[host], r[path])]
    if not ids:
        return Replay()
    full: list[dict[str, Any]] = []
    for start in range(0, min(len(ids), REPLAY_MAX), 500):
        (part,) = await _fetch(store, q.by_ids(zone, ids[start : start + 500]))
        full += [dict(zip(COLUMN_NAMES, row, strict=True)) for row in part]
    out = await run_in_threadpool(replay, candidate, scoring.scorer, full, examples)
    out.skipped += max(0, len(ids) - REPLAY_MAX)
    return out


def evaluate_rows(
    rules: RuleSet,
    rows: Sequence[Sequence[Any]],
    examples: int,
    rescored: Mapping[str, WafResult] | None = None,
) -> dict[str, Any]:
    """Run ``rules`` over logged rows (:data:`~bastion.analytics.queries.DRY_RUN_COLUMNS`):
    counts per action, per deciding rule, decisions that differ from the logged ones, and
    example requests. ``rescored`` replaces the logged scores of some rows (by id), as a
    replay under ``exclude`` rules gives them."""
    actions = dict.fromkeys(ACTIONS, 0)
    by_rule: dict[str, int] = {}
    changed = 0
    samples: dict[str, list[dict[str, Any]]] = {"block": [], "challenge": [], "changed": []}
    for row in rows:
        rec = dict(zip(q.DRY_RUN_COLUMNS, row, strict=True))
        again = rescored.get(rec["id"]) if rescored else None
        if again is not None:
            rec |= {"score": again.score, "sqli": again.sqli, "xss": again.xss}
            rec |= {"rce": again.rce, "cls": again.cls}
        ctx = RuleContext(
            int(rec["score"]),
            int(rec["sqli"]),
            int(rec["xss"]),
            int(rec["rce"]),
            rec["cls"],
            rec["method"],
            rec["host"],
            rec["path"],
        )
        decision = rules.evaluate(ctx)
        actions[decision.action] += 1
        if decision.rule_id is not None:
            by_rule[decision.rule_id] = by_rule.get(decision.rule_id, 0) + 1
        for rule_id in decision.logged:
            by_rule[rule_id] = by_rule.get(rule_id, 0) + 1
        differs = decision.action != rec["action"]
        changed += differs
        example = None
        for key, wanted in (
            (decision.action, decision.action in ("block", "challenge")),
            ("changed", differs),
        ):
            if wanted and len(samples[key]) < examples:
                if example is None:
                    example = {
                        "id": rec["id"],
                        "ts_ms": int(rec["ts_ms"]),
                        "method": rec["method"],
                        "host": rec["host"],
                        "path": rec["path"],
                        "query": rec["query"],
                        "score": ctx.score,
                        "class": rec["cls"],
                        "logged_action": rec["action"],
                        "action": decision.action,
                        "rule_id": decision.rule_id,
                    }
                samples[key].append(example)
    return {
        "evaluated": len(rows),
        "actions": actions,
        "would_block": actions["block"],
        "changed": changed,
        "by_rule": by_rule,
        "examples": samples,
    }
