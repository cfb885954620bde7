"""HTTP endpoints of the script monitor.

* ``POST /v1/csp/reports/{zone}``: public (browsers send no token), rate limited per client
  address and per zone; ``application/csp-report`` or ``application/reports+json`` (415
  otherwise), 413 when too large, 400 naming the problem when malformed; 202 with counts.
  ``OPTIONS`` answers the Reporting API's CORS preflight.
* ``GET /v1/csp/zones/{zone}/resources`` (and ``/{id}``), ``GET .../alerts``,
  ``GET .../policy``: ``analytics.read`` (site owners: their zones only).
* ``PUT /v1/csp/zones/{zone}/policy``: ``rules.write``; a policy also makes the zone
  known to the report endpoint.

The router's lifespan builds the worker's :class:`ScriptMonitor` and runs its fetch loop.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, FastAPI, HTTPException, Path, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from bastion.auth import InvalidZoneError, Permission, Principal, normalize_zone
from bastion.scripts.monitor.alerts import AlertKind
from bastion.scripts.monitor.header import (
    DEFAULT_GROUP,
    REPORTING_ENDPOINTS_HEADER,
    HeaderConfigError,
    ReportOnlyHeader,
    report_endpoint,
)
from bastion.scripts.monitor.inventory import ItemStatus, ResourceKind
from bastion.scripts.monitor.policy import (
    AllowPolicy,
    PolicyError,
    enforcing_header,
    suggest_policy,
)
from bastion.scripts.monitor.reports import ACCEPTED_MEDIA_TYPES, ReportError
from bastion.service.responses import json_response
from bastion.service.scripts_monitor import (
    ReportRefused,
    ScriptMonitor,
    build_monitor,
    client_address,
)
from bastion.service.security import caller

READ = Permission("analytics.read")
WRITE = Permission("rules.write")
MAX_ID = 2**63 - 1

_CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "POST, OPTIONS",
    "Access-Control-Allow-Headers": "Content-Type",
    "Access-Control-Max-Age": "86400",
}


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Build the monitor and run its fetch loop for the worker's lifetime."""
    monitor = build_monitor(app.state)
    app.state.scripts_monitor = monitor
    settings = monitor.settings
    task = None
    if settings.csp_fetch:
        task = asyncio.create_task(monitor.run_forever(settings.csp_fetch_interval_s))
    try:
        yield
    finally:
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


router = APIRouter(prefix="/v1/csp", tags=["scripts"], lifespan=lifespan)


def _monitor(request: Request) -> ScriptMonitor:
    monitor: ScriptMonitor | None = getattr(request.app.state, "scripts_monitor", None)
    if monitor is None:  # the app was run without its lifespan
        monitor = request.app.state.scripts_monitor = build_monitor(request.app.state)
    return monitor


async def _bounded_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise ReportRefused(413, f"the body has {declared} bytes; at most {limit} are accepted")
    parts: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ReportRefused(413, f"the body exceeds {limit} bytes")
        parts.append(chunk)
    return b"".join(parts)


@router.options("/reports/{zone}", include_in_schema=False)
async def report_preflight(zone: str) -> Response:
    return Response(status_code=204, headers=_CORS)


@router.post(
    "/reports/{zone}",
    status_code=202,
    summary="Receive CSP violation reports (public; rate limited per address and zone)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {t: {"schema": {}} for t in ACCEPTED_MEDIA_TYPES},
        }
    },
)
async def receive_reports(request: Request, zone: str) -> Response:
    monitor = _monitor(request)
    try:
        name = monitor.zone_of(zone)
        peer = request.client.host if request.client else None
        monitor.admit_client(
            client_address(peer, request.headers.get("x-forwarded-for"), monitor.trusted)
        )
        await run_in_threadpool(monitor.admit_zone, name)
        content_type = request.headers.get("content-type")
        body = await _bounded_body(request, monitor.limits.max_body_bytes)
        outcome = await run_in_threadpool(monitor.ingest, name, body, content_type)
    except ReportRefused as exc:
        code = {400: "bad_zone", 404: "unknown_zone", 413: "too_large", 429: "rate_limited"}
        return json_response(
            {"error": exc.message, "code": code.get(exc.status, "refused")},
            exc.status,
            {**_CORS, **exc.headers},
        )
    except ReportError as exc:
        return json_response({"error": str(exc), "code": exc.code}, exc.status, _CORS)
    return json_response(outcome.to_json(), 202, _CORS)


def _zone_for(principal: Principal | None, permission: Permission, zone: str) -> str:
    try:
        name = normalize_zone(zone)
    except InvalidZoneError as exc:
        raise HTTPException(400, str(exc)) from None
    if principal is not None and not principal.has(permission, zone=name):
        raise HTTPException(403, f"this token may not use '{permission.value}' for zone {name}")
    return name


Zone = Annotated[str, Path(min_length=1, max_length=253)]
Caller = Annotated[Principal | None, Depends(caller)]


@router.get("/zones/{zone}/resources", summary="The zone's scripts and connections")
async def list_resources(
    request: Request,
    zone: Zone,
    principal: Caller,
    kind: ResourceKind | None = None,
    status: ItemStatus | None = None,
    host: Annotated[str | None, Query(max_length=253)] = None,
    after_id: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Response:
    name = _zone_for(principal, READ, zone)
    monitor = _monitor(request)
    items = await run_in_threadpool(
        monitor.inventory.list_resources,
        name,
        monitor.clock(),
        kind=kind,
        state=status,
        host=host.lower() if host else None,
        after_id=after_id,
        limit=limit,
    )
    return json_response({"zone": name, "resources": items})


@router.get("/zones/{zone}/resources/{resource_id}", summary="One resource with its versions")
async def get_resource(
    request: Request,
    zone: Zone,
    resource_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    principal: Caller,
) -> Response:
    name = _zone_for(principal, READ, zone)
    monitor = _monitor(request)
    item = await run_in_threadpool(
        monitor.inventory.get_resource, name, resource_id, monitor.clock()
    )
    if item is None:
        raise HTTPException(404, f"no resource {resource_id} in zone {name}")
    return json_response(item)


@router.get("/zones/{zone}/alerts", summary="The zone's alerts, oldest first")
async def list_alerts(
    request: Request,
    zone: Zone,
    principal: Caller,
    kind: AlertKind | None = None,
    after_id: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Response:
    name = _zone_for(principal, READ, zone)
    alerts = await run_in_threadpool(
        _monitor(request).inventory.list_alerts, name, kind=kind, after_id=after_id, limit=limit
    )
    return json_response({"zone": name, "alerts": alerts})


def _report_uri(request: Request, monitor: ScriptMonitor, zone: str) -> str:
    """The report URL for the zone's headers: ``csp_public_url`` or this request's base
    URL; the bare path when neither can go into a header (a Host header with ``;``...)."""
    base = monitor.settings.csp_public_url or str(request.base_url)
    uri = report_endpoint(base, zone)
    try:
        ReportOnlyHeader(uri)
    except HeaderConfigError:
        return report_endpoint("", zone)
    return uri


def _enforcing_headers(policy: AllowPolicy, uri: str) -> list[dict[str, str]]:
    """The enforcing CSP header and, when it reports, the ``Reporting-Endpoints`` header
    its ``report-to`` group needs."""
    name, value = enforcing_header(policy, report_uri=uri, report_to=DEFAULT_GROUP)
    out = [{"name": name, "value": value}]
    if policy.report:
        out.append({"name": REPORTING_ENDPOINTS_HEADER, "value": f'{DEFAULT_GROUP}="{uri}"'})
    return out


@router.get(
    "/zones/{zone}/policy",
    summary="The allow policy, its enforcing CSP header, a suggestion and the report-only header",
)
async def get_policy(request: Request, zone: Zone, principal: Caller) -> Response:
    name = _zone_for(principal, READ, zone)
    monitor = _monitor(request)
    stored = await run_in_threadpool(monitor.inventory.get_policy, name)
    scripts, connections = await run_in_threadpool(
        monitor.inventory.script_urls, name, monitor.clock()
    )
    suggested = suggest_policy(name, scripts, connections)
    policy = stored[0] if stored is not None else suggested
    uri = _report_uri(request, monitor, name)
    return json_response(
        {
            "zone": name,
            "policy": policy.to_json() if stored is not None else None,
            "updated_at": stored[1].isoformat() if stored is not None and stored[1] else None,
            "updated_by": stored[2] if stored is not None else None,
            "suggested": suggested.to_json(),
            "enforcing_headers": _enforcing_headers(policy, uri),
            "report_only_headers": [
                {"name": n, "value": v} for n, v in ReportOnlyHeader(uri, 1.0).headers()
            ],
        }
    )


@router.put("/zones/{zone}/policy", summary="Set the zone's allow policy")
async def put_policy(
    request: Request,
    zone: Zone,
    principal: Caller,
    body: Annotated[dict[str, Any], Body()],
) -> Response:
    name = _zone_for(principal, WRITE, zone)
    try:
        policy = AllowPolicy.from_json(body)
    except PolicyError as exc:
        raise HTTPException(400, str(exc)) from None
    monitor = _monitor(request)
    actor = principal.token_id if principal is not None else "anonymous"
    await run_in_threadpool(monitor.inventory.put_policy, name, policy, actor, monitor.clock())
    monitor.forget_zones()
    uri = _report_uri(request, monitor, name)
    return json_response(
        {
            "zone": name,
            "policy": policy.to_json(),
            "enforcing_headers": _enforcing_headers(policy, uri),
        }
    )
