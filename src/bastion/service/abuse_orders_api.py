"""HTTP endpoints of the abuse desk's edge side: legal orders, bulk case actions, the
transparency report, and the interstitial page with its pass.

* ``POST/GET /v1/abuse/orders``, ``GET /v1/abuse/orders/{id}``,
  ``POST /v1/abuse/orders/{id}/withdraw``: ``abuse.manage``; every change audited.
* ``POST /v1/abuse/cases/bulk-actions``: one action on up to 1000 cases (``abuse.manage``);
  each case succeeds or fails on its own; audited per case and for the whole.
* ``POST /v1/abuse/cases/{id}/recheck[?close=true]``: ``abuse.manage``; fetches the case's
  URL through the SSRF-safe fetcher, records the outcome, closes the case if it is gone.
* ``POST /v1/abuse/reports/{id}/evidence`` (public, rate-limited per address, within 24 h of
  the report; checked by content), ``GET /v1/abuse/reports/{id}/evidence`` and
  ``GET /v1/abuse/evidence/{sha256}`` (``abuse.manage``; always a download of
  ``application/octet-stream``).
* ``GET /v1/abuse/transparency?period=2026-Q4&format=json|csv|html``: ``abuse.manage``.
* ``GET /v1/abuse/feed``: a partner's pull feed (its own ``bsp_`` token, hashed at rest):
  confirmed indicators as a STIX 2.1 bundle; ``since`` and ``hashes`` narrow or widen it.
* ``GET /v1/edge/interstitial`` and ``POST /v1/edge/pass``: public, reached through nginx
  on the site's own origin (see :mod:`bastion.service.abuse_edge`).

None of these returns a reporter's details: orders and counts hold none.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import re
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from html import escape
from typing import Annotated, Any
from urllib.parse import parse_qsl

import orjson
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from bastion.abuse.enforcement import (
    check_ticket,
    pass_cookie_name,
    recheck_outcome,
    sign_pass,
    ticket_mac,
)
from bastion.abuse.errors import AbuseError, InvalidActionError
from bastion.abuse.evidence import (
    ACCEPTED,
    DOWNLOAD_HEADERS,
    InvalidEvidenceError,
    accept_evidence,
    check_report_id,
)
from bastion.abuse.orders import OrderSubmission
from bastion.abuse.sharing import Indicator, stix_bundle
from bastion.abuse.transparency import InvalidPeriodError, parse_period
from bastion.auth import Permission, Principal
from bastion.net.fetch import FetchError, FetchPolicy, ResponseTooLarge, SafeFetcher
from bastion.service.abuse_api import ActionBody, desk_of
from bastion.service.abuse_desk import RateLimited
from bastion.service.abuse_edge import EdgeEnforcement
from bastion.service.abuse_signals import SignalPublisher, WafBurstObserver
from bastion.service.blocked import edge_target
from bastion.service.responses import json_response
from bastion.service.security import Gate, require
from bastion.store import abuse as store
from bastion.store import abuse_orders as orders_store
from bastion.store.abuse_sql import now_utc

log = logging.getLogger("bastion.service.abuse_orders_api")

MANAGE = Permission.ABUSE_MANAGE
MAX_ID = 2**63 - 1
OrderId = Annotated[int, Path(ge=1, le=MAX_ID)]
PASS_PATH = "/.well-known/bastion-pass"  # noqa: S105 (a URL path)
TICKET_COOKIE = "bastion_ticket"
_RULE_ID = re.compile(r"^case:[0-9]{1,19}$")
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


async def _sla_loop(database: Any, interval_s: float) -> None:
    """Escalate cases whose SLA clock ran out, every ``interval_s`` seconds."""
    while True:
        await asyncio.sleep(interval_s)
        try:
            escalated = await run_in_threadpool(orders_store.escalate_overdue, database)
        except Exception:
            log.exception("abuse SLA check failed")
            continue
        if escalated:
            log.info("abuse SLA: escalated %d cases", len(escalated))


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """The SLA clock check, and bastion's own signals onto the abuse stream (after the
    desk opened its stream)."""
    settings = app.state.bastion.settings
    sla = None
    if settings.abuse_sla_check_s:
        sla = asyncio.create_task(_sla_loop(app.state.bastion.database, settings.abuse_sla_check_s))
    try:
        if settings.abuse_signals:
            async with _signals(app):
                yield
        else:
            yield
    finally:
        if sla is not None:
            sla.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sla


@asynccontextmanager
async def _signals(app: FastAPI) -> AsyncIterator[None]:
    settings = app.state.bastion.settings
    desk = await desk_of(app)
    publisher = SignalPublisher(desk.stream)
    app.state.abuse_signals = publisher
    scoring = app.state.bastion.scoring
    observer = None
    if settings.abuse_waf_burst_threshold:
        observer = WafBurstObserver(
            publisher, settings.abuse_waf_burst_threshold, settings.abuse_waf_burst_window_s
        )
        scoring.add_observer(observer)
    task = asyncio.create_task(publisher.run_forever())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        if observer is not None:
            scoring.remove_observer(observer)
        app.state.abuse_signals = None
        await publisher.flush()


router = APIRouter(tags=["abuse"], lifespan=lifespan)


def enforcement_of(request: Request) -> EdgeEnforcement | None:
    enforcement: EdgeEnforcement | None = getattr(request.app.state, "abuse_edge", None)
    return enforcement


def _actor(principal: Principal | None) -> str:
    return principal.token_id if principal is not None else "anonymous"


# -- legal orders -------------------------------------------------------------------------


@router.post(
    "/v1/abuse/orders",
    status_code=201,
    summary="Record a legal order (enforced at the edge as geo-restricted 451s)",
    responses={400: {"description": "The order lacks something or names something invalid"}},
)
async def create_order(
    request: Request,
    body: OrderSubmission,
    principal: Principal | None = Depends(require(MANAGE)),  # noqa: B008
) -> Response:
    settings = request.app.state.bastion.settings
    database = request.app.state.bastion.database
    try:
        order = body.accept(default_blocked_by=settings.abuse_blocked_by_url, now=now_utc())
    except AbuseError as exc:
        raise HTTPException(400, str(exc)) from None

    def store() -> dict[str, Any]:
        with database.session(write=True) as session:
            return orders_store.create_order(session, order, actor=_actor(principal)).to_json()

    stored = await run_in_threadpool(store)
    if (enforcement := enforcement_of(request)) is not None:
        enforcement.refresh_soon()
    return json_response(stored, 201)


@router.get("/v1/abuse/orders", summary="Legal orders, newest first")
async def list_orders(
    request: Request,
    state: Annotated[str | None, Query(pattern="^(active|withdrawn)$")] = None,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    principal: Principal | None = Depends(require(MANAGE)),  # noqa: B008
) -> Response:
    database = request.app.state.bastion.database

    def query() -> list[dict[str, Any]]:
        with database.session() as session:
            found = orders_store.list_orders(session, state=state, offset=offset, limit=limit)
            return [o.to_json() for o in found]

    return json_response({"orders": await run_in_threadpool(query)})


@router.get("/v1/abuse/orders/{order_id}", summary="One legal order")
async def get_order(
    request: Request,
    order_id: OrderId,
    principal: Principal | None = Depends(require(MANAGE)),  # noqa: B008
) -> Response:
    database = request.app.state.bastion.database

    def query() -> dict[str, Any]:
        with database.session() as session:
            return orders_store.get_order(session, order_id).to_json()

    try:
        return json_response(await run_in_threadpool(query))
    except orders_store.OrderNotFound:
        raise HTTPException(404, f"no legal order {order_id}") from None


class WithdrawBody(BaseModel):
    reason: str = Field(min_length=1, max_length=10_000)


@router.post("/v1/abuse/orders/{order_id}/withdraw", summary="Withdraw a legal order")
async def withdraw_order(
    request: Request,
    order_id: OrderId,
    body: WithdrawBody,
    principal: Principal | None = Depends(require(MANAGE)),  # noqa: B008
) -> Response:
    database = request.app.state.bastion.database

    def store() -> dict[str, Any]:
        with database.session(write=True) as session:
            return orders_store.withdraw_order(
                session, order_id, actor=_actor(principal), reason=body.reason
            ).to_json()

    try:
        order = await run_in_threadpool(store)
    except orders_store.OrderNotFound:
        raise HTTPException(404, f"no legal order {order_id}") from None
    if (enforcement := enforcement_of(request)) is not None:
        enforcement.refresh_soon()
    return json_response(order)


# -- bulk actions ---------------------------------------------------------------------------


class BulkBody(ActionBody):
    case_ids: list[Annotated[int, Field(ge=1, le=MAX_ID)]] = Field(
        min_length=1, max_length=orders_store.MAX_BULK
    )


@router.post(
    "/v1/abuse/cases/bulk-actions",
    summary="One action on many cases (each succeeds or fails on its own)",
)
async def bulk_act(
    request: Request,
    body: BulkBody,
    principal: Principal | None = Depends(require(MANAGE)),  # noqa: B008
) -> Response:
    database = request.app.state.bastion.database
    action = body.request(principal)
    try:
        outcome = await run_in_threadpool(
            orders_store.act_bulk, database, body.case_ids, action, actor=_actor(principal)
        )
    except InvalidActionError as exc:
        raise HTTPException(400, str(exc)) from None
    if outcome.done and (enforcement := enforcement_of(request)) is not None:
        enforcement.refresh_soon()
    return json_response(outcome.to_json())


# -- re-check --------------------------------------------------------------------------------


def recheck_url(settings: Any, url: str) -> tuple[str, int | None, str]:
    """Fetch ``url`` through the SSRF-safe fetcher: ``(outcome, status, detail)``."""
    fetcher = SafeFetcher(
        FetchPolicy(
            allow=frozenset(settings.csp_fetch_allow),
            max_bytes=1 << 20,
            timeout_s=settings.csp_fetch_timeout_s,
            max_redirects=settings.csp_fetch_max_redirects,
        )
    )
    try:
        result = fetcher.fetch(url, accept="text/html, */*;q=0.5")
    except ResponseTooLarge:
        return recheck_outcome(200), 200, "answered with a large body"
    except FetchError as exc:
        return recheck_outcome(None, exc.code), None, f"{exc.code}: {exc}"
    return recheck_outcome(result.status), result.status, f"HTTP {result.status}"


@router.post(
    "/v1/abuse/cases/{case_id}/recheck",
    summary="Re-check the case's URL (SSRF-safe fetch); with close=true, close it if gone",
)
async def recheck(
    request: Request,
    case_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    close: bool = False,
    principal: Principal | None = Depends(require(MANAGE)),  # noqa: B008
) -> Response:
    database = request.app.state.bastion.database
    settings = request.app.state.bastion.settings

    def url_of() -> str:
        with database.session() as session:
            return str(store.get_case(session, case_id)["url"])

    try:
        url = await run_in_threadpool(url_of)
    except store.CaseNotFound:
        raise HTTPException(404, f"no case {case_id}") from None
    outcome, status, detail = await run_in_threadpool(recheck_url, settings, url)
    result = await run_in_threadpool(
        orders_store.record_recheck, database, case_id, outcome=outcome, status=status,
        detail=detail, actor=_actor(principal), close=close,
    )  # fmt: skip
    if result["closed"] and (enforcement := enforcement_of(request)) is not None:
        enforcement.refresh_soon()
    return json_response({"case": case_id, "url": url, "detail": detail, **result})


# -- evidence ------------------------------------------------------------------------------


@router.post(
    "/v1/abuse/reports/{report_id}/evidence",
    status_code=201,
    summary="Attach evidence to a report (public, within 24 h of it; by content type checks)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {t: {"schema": {"type": "string", "format": "binary"}} for t in ACCEPTED},
        }
    },
    responses={
        400: {"description": "The content is not what its type says, or not a report id"},
        409: {"description": "The report has as many attachments as it may"},
        413: {"description": "Too large"},
        415: {"description": "A type that is not accepted"},
        429: {"description": "Rate limit per address exceeded"},
    },
)
async def attach_evidence(
    request: Request,
    report_id: Annotated[str, Path(min_length=1, max_length=40)],
    filename: Annotated[str, Query(max_length=200)] = "evidence",
) -> Response:
    settings = request.app.state.bastion.settings
    limit = settings.abuse_evidence_max_bytes
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > limit:
        raise HTTPException(413, f"an attachment is at most {limit} bytes")
    declared = request.headers.get("content-type", "")
    if declared.split(";", 1)[0].strip().lower() not in ACCEPTED:
        raise HTTPException(415, f"type {declared or 'none'!r} is not accepted: one of "
                                 f"{', '.join(ACCEPTED)}")  # fmt: skip
    try:
        check_report_id(report_id)
    except InvalidEvidenceError as exc:
        raise HTTPException(400, str(exc)) from None
    desk = await desk_of(request.app)
    ip = desk.client_ip(request.client.host if request.client else None, request.headers)
    try:
        desk.check_ip(ip)
    except RateLimited as exc:
        raise HTTPException(429, str(exc), {"Retry-After": exc.retry_after}) from None
    data = await request.body()
    if len(data) > limit:
        raise HTTPException(413, f"an attachment is at most {limit} bytes")
    try:
        evidence = accept_evidence(data, declared, filename, max_bytes=limit)
    except InvalidEvidenceError as exc:
        raise HTTPException(400, str(exc)) from None
    database = request.app.state.bastion.database

    def store_it() -> bool:
        with database.session(write=True) as session:
            return orders_store.add_evidence(
                session, report_id, evidence, data,
                max_per_report=settings.abuse_evidence_per_report,
            )  # fmt: skip

    try:
        added = await run_in_threadpool(store_it)
    except orders_store.EvidenceLimit as exc:
        raise HTTPException(409, str(exc)) from None
    body = {"sha256": evidence.sha256, "media_type": evidence.media_type,
            "size": evidence.size, "filename": evidence.filename, "added": added}  # fmt: skip
    return json_response(body, 201 if added else 200)


@router.get("/v1/abuse/reports/{report_id}/evidence", summary="A report's attachments (staff)")
async def list_evidence(
    request: Request,
    report_id: Annotated[str, Path(min_length=1, max_length=40)],
    principal: Principal | None = Depends(require(MANAGE)),  # noqa: B008
) -> Response:
    database = request.app.state.bastion.database

    def query() -> list[dict[str, Any]]:
        with database.session() as session:
            return orders_store.list_evidence(session, report_id)

    return json_response({"report": report_id, "evidence": await run_in_threadpool(query)})


@router.get(
    "/v1/abuse/evidence/{sha256}",
    summary="Download an attachment (staff; always application/octet-stream, as a download)",
    responses={200: {"content": {"application/octet-stream": {}}}},
)
async def download_evidence(
    request: Request,
    sha256: Annotated[str, Path(pattern="^[0-9a-f]{64}$")],
    principal: Principal | None = Depends(require(MANAGE)),  # noqa: B008
) -> Response:
    database = request.app.state.bastion.database

    def query() -> bytes | None:
        with database.session() as session:
            return orders_store.evidence_bytes(session, sha256)

    data = await run_in_threadpool(query)
    if data is None:
        raise HTTPException(404, f"no evidence {sha256}")
    disposition = f'attachment; filename="evidence-{sha256[:16]}.bin"'
    headers = {**DOWNLOAD_HEADERS, "Content-Disposition": disposition}
    return Response(data, headers=headers, media_type="application/octet-stream")


# -- transparency ----------------------------------------------------------------------------


@router.get(
    "/v1/abuse/transparency",
    summary="Transparency report: counts by type, action and month; legal orders",
    responses={200: {"content": {"text/csv": {}, "text/html": {}}}},
)
async def transparency(
    request: Request,
    period: Annotated[str, Query(max_length=16, description="2026, 2026-Q4 or 2026-11")],
    format: Annotated[str, Query(pattern="^(json|csv|html)$")] = "json",
    principal: Principal | None = Depends(require(MANAGE)),  # noqa: B008
) -> Response:
    try:
        parsed = parse_period(period)
    except InvalidPeriodError as exc:
        raise HTTPException(400, str(exc)) from None
    database = request.app.state.bastion.database

    def build() -> Any:
        with database.session() as session:
            return orders_store.transparency(session, parsed)

    report = await run_in_threadpool(build)
    if format == "csv":
        return Response(report.csv_text(), media_type="text/csv; charset=utf-8")
    if format == "html":
        return HTMLResponse(report.html(), headers=PAGE_HEADERS)
    return Response(report.json_bytes(), media_type="application/json")


# -- partner feed ------------------------------------------------------------------------

STIX_MEDIA_TYPE = "application/stix+json;version=2.1"
#: Pulls per second (and burst) one partner may make.
FEED_RATE, FEED_BURST = 0.2, 5.0
PRODUCER = "bastion abuse desk"


@router.get(
    "/v1/abuse/feed",
    summary="Partners' pull feed: confirmed indicators as a STIX 2.1 bundle (partner token)",
    responses={
        200: {"content": {STIX_MEDIA_TYPE: {}}},
        401: {"description": "No valid partner token"},
        429: {"description": "Pulled too often; see Retry-After"},
    },
)
async def partner_feed(
    request: Request,
    since: datetime | None = None,
    hashes: bool = False,
) -> Response:
    header = request.headers.get("authorization", "")
    token = header[7:].strip() if header[:7].lower() == "bearer " else ""
    database = request.app.state.bastion.database

    def who() -> orders_store.Partner | None:
        with database.session(write=True) as session:
            return orders_store.partner_by_token(session, token)

    partner = await run_in_threadpool(who) if token else None
    if partner is None:
        raise HTTPException(
            401, "a partner feed token is required: 'Authorization: Bearer bsp_...'",
            {"WWW-Authenticate": "Bearer"},
        )  # fmt: skip
    gate: Gate = request.app.state.gate
    verdict = gate.limiter.allow(f"abuse:feed:{partner.id}", FEED_RATE * gate.rate_share,
                                 FEED_BURST)  # fmt: skip
    if not verdict.allowed:
        retry = str(max(1, math.ceil(verdict.retry_after_s)))
        raise HTTPException(429, "the feed is pulled too often", {"Retry-After": retry})
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=UTC)

    def build() -> list[Indicator]:
        with database.session() as session:
            return orders_store.indicators(session, since=since, hashes=hashes)

    found = await run_in_threadpool(build)
    bundle = stix_bundle(found, producer=PRODUCER, now=now_utc())
    return Response(orjson.dumps(bundle), media_type=STIX_MEDIA_TYPE)


# -- interstitial -----------------------------------------------------------------------------


def _safe_target(uri: str) -> str:
    """A same-origin path to return to (``/`` for anything else)."""
    if not uri.startswith("/") or uri.startswith("//") or "\\" in uri or len(uri) > 4096:
        return "/"
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in uri):
        return "/"
    return uri


def _interstitial_page(host: str, uri: str, rule_id: str, mac: str) -> str:
    target = escape(f"{host}{uri}")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>Warning: suspected harmful site</title>
<style>body{{font-family:sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;
line-height:1.5}}h1{{color:#a00}}button{{font-size:1rem;padding:.4rem .8rem}}</style>
</head><body><main>
<h1>Warning: this page has been reported as harmful</h1>
<p>The page <strong>{target}</strong> was reported for phishing or malware, and the
report was confirmed. It may try to steal your passwords or infect your device.</p>
<p><a href="/">Leave this page</a> (recommended).</p>
<form method="post" action="{PASS_PATH}">
<input type="hidden" name="rule" value="{escape(rule_id)}">
<input type="hidden" name="to" value="{escape(uri)}">
<input type="hidden" name="ticket" value="{escape(mac)}">
<button type="submit">I understand the risk, continue to the page</button>
</form>
</main></body></html>
"""


@router.get(
    "/v1/edge/interstitial",
    response_class=HTMLResponse,
    summary="The warning page nginx serves for a case under an interstitial (public)",
)
async def interstitial(request: Request) -> Response:
    enforcement = enforcement_of(request)
    rule_id = request.headers.get("x-bastion-rule", "")
    uri = _safe_target(request.headers.get("x-original-uri", "/"))
    host, path = edge_target(request.headers.get("host", "").encode("latin-1"), uri)
    if enforcement is None or not _RULE_ID.match(rule_id):
        raise HTTPException(404, "no interstitial here")
    if not any(r.id == rule_id for r in enforcement.rules.candidates(host, path)):
        raise HTTPException(404, "no interstitial for this page")
    nonce = secrets.token_urlsafe(18)
    page = _interstitial_page(host, uri, rule_id, ticket_mac(enforcement.secret, host, rule_id,
                                                             nonce))  # fmt: skip
    response = HTMLResponse(page, 200, PAGE_HEADERS)
    response.set_cookie(TICKET_COOKIE, nonce, max_age=600, path=PASS_PATH,
                        httponly=True, samesite="strict", secure=_https(request))  # fmt: skip
    return response


def _https(request: Request) -> bool:
    return request.headers.get("x-forwarded-proto", request.url.scheme) == "https"


@router.post(
    "/v1/edge/pass",
    status_code=303,
    summary="Pass an interstitial: sets a signed, short-lived cookie and returns (public)",
    openapi_extra={
        "requestBody": {
            "content": {
                "application/x-www-form-urlencoded": {
                    "schema": {"type": "object", "additionalProperties": {"type": "string"}}
                }
            }
        }
    },
)
async def pass_interstitial(request: Request) -> Response:
    enforcement = enforcement_of(request)
    body = await request.body()
    if len(body) > 8192:
        raise HTTPException(413, "the form is at most 8192 bytes")
    try:
        fields = dict(parse_qsl(body.decode("latin-1"), max_num_fields=10))
    except ValueError:
        raise HTTPException(400, "the form has more than 10 fields") from None
    rule_id, mac = fields.get("rule", ""), fields.get("ticket", "")
    uri = _safe_target(fields.get("to", "/"))
    host, _ = edge_target(request.headers.get("host", "").encode("latin-1"), uri)
    nonce = request.cookies.get(TICKET_COOKIE, "")
    if (
        enforcement is None
        or not _RULE_ID.match(rule_id)
        or not check_ticket(enforcement.secret, host, rule_id, nonce, mac)
    ):
        raise HTTPException(
            403, "this pass was not requested from the warning page in this browser"
        )
    settings = request.app.state.bastion.settings
    ttl = settings.abuse_interstitial_pass_s
    value = sign_pass(enforcement.secret, host, rule_id, int(time.time()) + ttl)
    response = RedirectResponse(uri, 303, headers={"Cache-Control": "no-store"})
    response.set_cookie(pass_cookie_name(rule_id), value, max_age=ttl, path="/",
                        httponly=True, samesite="lax", secure=_https(request))  # fmt: skip
    response.delete_cookie(TICKET_COOKIE, path=PASS_PATH)
    return response


__all__ = ["router"]
