"""HTTP endpoints of the abuse desk: public intake (API and HTML form), cases and actions.

* ``POST /v1/abuse/reports`` (public; JSON) and ``GET``/``POST /abuse`` (the form): rate
  limited per client address and per reporter email; a token granting ``abuse.ingest``
  (partners, internal producers) skips the per-address limit. 202 with the report id.
* ``GET /v1/abuse/cases``, ``GET /v1/abuse/cases/{id}``: ``abuse.manage`` (trust & safety)
  sees everything; a site owner's token sees the cases of its zones, with the reporter's
  contact details withheld unless the reporter consented (:mod:`bastion.abuse.privacy`).
* ``POST /v1/abuse/cases/{id}/actions``: ``abuse.manage``; 409 when the state forbids it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, Field, ValidationError
from starlette.concurrency import run_in_threadpool

from bastion.abuse.cases import ActionRequest, CaseAction, CaseState
from bastion.abuse.errors import (
    ActionStateError,
    InvalidActionError,
    InvalidReportError,
    InvalidUrlError,
)
from bastion.abuse.privacy import report_view
from bastion.abuse.reports import ReportSubmission, ReportType
from bastion.abuse.routing import Audience
from bastion.auth import Permission, Principal, Role
from bastion.service.abuse_desk import AbuseDesk, RateLimited
from bastion.service.abuse_form import (
    FORM_HEADERS,
    MAX_FORM_BYTES,
    parse_form,
    render_form,
    render_thanks,
    submission_fields,
)
from bastion.service.responses import json_response
from bastion.service.security import Gate, caller, require, token_from
from bastion.store import abuse as store
from bastion.stream import StreamError

INGEST = Permission.ABUSE_INGEST
MANAGE = Permission.ABUSE_MANAGE
MAX_ID = 2**63 - 1
CaseId = Annotated[int, Path(ge=1, le=MAX_ID)]
_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "Malformed report or invalid URL (the message names it)"},
    413: {"description": "Request body too large"},
    429: {"description": "Rate limit (per address or per email) exceeded; see Retry-After"},
    503: {"description": "The event stream is unavailable; retry later"},
}


async def desk_of(app: FastAPI) -> AbuseDesk:
    """This worker's desk, opened on first use (or by the lifespan)."""
    desk: AbuseDesk | None = getattr(app.state, "abuse_desk", None)
    if desk is not None:
        return desk
    lock = getattr(app.state, "abuse_desk_opening", None)
    if lock is None:
        lock = app.state.abuse_desk_opening = asyncio.Lock()
    async with lock:
        desk = getattr(app.state, "abuse_desk", None)
        if desk is None:
            state = app.state.bastion
            gate: Gate = app.state.gate
            desk = await AbuseDesk.open(
                state.settings, state.database, gate.limiter, gate.rate_share
            )
            app.state.abuse_desk = desk
    return desk


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    desk = await desk_of(app)
    desk.start_consumer()
    try:
        yield
    finally:
        await desk.close()
        app.state.abuse_desk = None


router = APIRouter(tags=["abuse"], lifespan=lifespan)


# -- intake -------------------------------------------------------------------------


async def _intake(request: Request) -> tuple[AbuseDesk, str]:
    """Per-address limit (unless an ``abuse.ingest`` token is presented) and body bound;
    returns the desk and the report's ``source``."""
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > MAX_FORM_BYTES:
        raise HTTPException(413, f"a report is at most {MAX_FORM_BYTES} bytes")
    desk = await desk_of(request.app)
    gate: Gate = request.app.state.gate
    source = "web" if request.url.path == "/abuse" else "api"
    if gate.authenticator is not None and token_from(request.scope["headers"]) is not None:
        principal = await require(INGEST)(request)
        if principal is not None:
            return desk, f"token:{principal.token_id}"
    ip = desk.client_ip(request.client.host if request.client else None, request.headers)
    try:
        desk.check_ip(ip)
    except RateLimited as exc:
        raise HTTPException(429, str(exc), {"Retry-After": exc.retry_after}) from None
    return desk, source


async def _submit(desk: AbuseDesk, submission: ReportSubmission, source: str) -> Any:
    try:
        return await desk.submit(submission, source=source)
    except RateLimited as exc:
        raise HTTPException(429, str(exc), {"Retry-After": exc.retry_after}) from None
    except (InvalidReportError, InvalidUrlError) as exc:
        raise HTTPException(400, str(exc)) from None
    except StreamError as exc:
        raise HTTPException(
            503, f"reports cannot be accepted right now: {exc}", {"Retry-After": "10"}
        ) from None


@router.post(
    "/v1/abuse/reports",
    status_code=202,
    summary="Submit an abuse report (public; rate-limited per address and email)",
    responses=_ERRORS,
)
async def submit_report(
    submission: ReportSubmission,
    intake: tuple[AbuseDesk, str] = Depends(_intake),
) -> Response:
    desk, source = intake
    report = await _submit(desk, submission, source)
    return json_response(
        {"id": report.id, "status": "accepted", "type": report.type, "urls": report.urls}, 202
    )


@router.get("/abuse", response_class=HTMLResponse, summary="The public abuse report form")
async def form_page() -> Response:
    return HTMLResponse(render_form(), headers=FORM_HEADERS)


@router.post(
    "/abuse",
    response_class=HTMLResponse,
    summary="Submit the form (application/x-www-form-urlencoded)",
    responses=_ERRORS,
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
async def form_submit(
    request: Request,
    intake: tuple[AbuseDesk, str] = Depends(_intake),
) -> Response:
    desk, source = intake
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        return HTMLResponse(render_form(errors=["The report is too large."]), 413, FORM_HEADERS)
    values = parse_form(body)
    try:
        submission = ReportSubmission.model_validate(submission_fields(values))
    except ValidationError as exc:
        errors = [
            f"{'.'.join(str(p) for p in e['loc']) or 'form'}: {e['msg']}" for e in exc.errors()
        ]
        return HTMLResponse(render_form(values, errors), 400, FORM_HEADERS)
    try:
        report = await _submit(desk, submission, source)
    except HTTPException as exc:
        return HTMLResponse(
            render_form(values, [str(exc.detail)]),
            exc.status_code,
            {**FORM_HEADERS, **(exc.headers or {})},
        )
    return HTMLResponse(render_thanks(report), 202, FORM_HEADERS)


# -- cases ----------------------------------------------------------------------------


def audience_of(principal: Principal | None) -> tuple[Audience, frozenset[str] | None]:
    """Staff (``abuse.manage``, or auth off) see all; a site owner sees its zones."""
    if principal is None or principal.has(MANAGE):
        return Audience.STAFF, None
    if Role.SITE_OWNER in principal.roles and principal.zones:
        return Audience.OWNER, principal.zones
    raise HTTPException(
        403, "this token's roles grant neither 'abuse.manage' nor a site owner's zones"
    )


_OWNER_CASE_FIELDS = (
    "id",
    "type",
    "url",
    "host",
    "zone",
    "state",
    "priority",
    "sla_due_at",
    "report_count",
    "reporter_count",
    "opened_at",
    "last_report_at",
    "updated_at",
    "enforcement",
)


def case_view(case: dict[str, Any], audience: Audience) -> dict[str, Any]:
    """A case (with its reports and actions, when present) as ``audience`` may see it."""
    if audience is Audience.STAFF:
        return case
    out = {k: case[k] for k in _OWNER_CASE_FIELDS if k in case}
    if out.get("enforcement"):
        out["enforcement"] = {k: v for k, v in case["enforcement"].items() if k != "by"}
    if "reports" in case:
        out["reports"] = [report_view(r, audience) for r in case["reports"]]
    if "actions" in case:
        out["actions"] = [
            {"at": a["at"], "action": a["action"], "to_state": a["to_state"], "reason": a["reason"]}
            for a in case["actions"]
            if a["action"] != "open"
        ]
    return out


@router.get("/v1/abuse/cases", summary="Cases, most urgent first (site owners: their zones)")
async def list_cases(
    request: Request,
    state: CaseState | None = None,
    type: ReportType | None = None,
    zone: Annotated[str | None, Query(max_length=253)] = None,
    queue: Annotated[str | None, Query(max_length=16)] = None,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    principal: Principal | None = Depends(caller),  # noqa: B008
) -> Response:
    audience, zones = audience_of(principal)
    database = request.app.state.bastion.database

    def query() -> list[dict[str, Any]]:
        with database.session() as session:
            return store.list_cases(
                session,
                state=state.value if state else None,
                type=type.value if type else None,
                zone=zone.strip().lower().rstrip(".") if zone else None,
                queue=queue,
                zones=zones,
                offset=offset,
                limit=limit,
            )

    cases = await run_in_threadpool(query)
    return json_response({"cases": [case_view(c, audience) for c in cases]})


@router.get("/v1/abuse/cases/{case_id}", summary="One case with its reports and actions")
async def get_case(
    request: Request,
    case_id: CaseId,
    principal: Principal | None = Depends(caller),  # noqa: B008
) -> Response:
    audience, zones = audience_of(principal)
    database = request.app.state.bastion.database

    def query() -> dict[str, Any]:
        with database.session() as session:
            return store.get_case(session, case_id)

    try:
        case = await run_in_threadpool(query)
    except store.CaseNotFound:
        raise HTTPException(404, f"no case {case_id}") from None
    if zones is not None and case["zone"] not in zones:
        raise HTTPException(404, f"no case {case_id}")
    return json_response(case_view(case, audience))


class ActionBody(BaseModel):
    action: CaseAction
    reason: str = Field("", max_length=10_000)
    assignee: str | None = Field(None, max_length=64)
    countries: list[Annotated[str, Field(min_length=2, max_length=2)]] = Field(
        default_factory=list, max_length=250
    )
    #: ``close`` without a re-check that found the URL gone: the ``admin`` role only, with
    #: a reason; audited.
    override: bool = False

    def request(self, principal: Principal | None) -> ActionRequest:
        """The action, once the caller may ask for it (403 for an override by anyone but
        an admin; with authentication off there is no role to check)."""
        if self.override and principal is not None and Role.ADMIN not in principal.roles:
            raise HTTPException(
                403, "only the admin role may close a case without a re-check (override)"
            )
        return ActionRequest(
            self.action, self.reason, self.assignee, tuple(self.countries), self.override
        )


@router.post(
    "/v1/abuse/cases/{case_id}/actions",
    summary="Act on a case: triage, assign, notify, interstitial, block, geo_block, escalate, "
    "reject (with a reason), close (after a re-check found the URL gone, or an admin's "
    "override with a reason)",
    responses={
        403: {"description": "An override by anyone but an admin"},
        409: {
            "description": "The case's state does not allow the action, or a close lacks "
            "a re-check that found the URL gone"
        },
    },
)
async def act_on_case(
    request: Request,
    case_id: CaseId,
    body: ActionBody,
    principal: Principal | None = Depends(require(MANAGE)),  # noqa: B008
) -> Response:
    database = request.app.state.bastion.database
    action = body.request(principal)
    actor = principal.token_id if principal is not None else "anonymous"
    try:
        outcome = await run_in_threadpool(store.act, database, case_id, action, actor=actor)
    except store.CaseNotFound:
        raise HTTPException(404, f"no case {case_id}") from None
    except ActionStateError as exc:
        raise HTTPException(409, str(exc)) from None
    except InvalidActionError as exc:
        raise HTTPException(400, str(exc)) from None
    edge = getattr(request.app.state, "abuse_edge", None)
    if edge is not None:  # this worker's edge check picks the change up at once
        edge.refresh_soon()
    return json_response(
        {"case": outcome.case, "action": outcome.action, "notices": outcome.notices}
    )


__all__ = ["router"]
