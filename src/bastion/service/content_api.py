"""HTTP endpoints of content scanning: scan, list blocks, appeal, review, decide."""

from __future__ import annotations

import math
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from bastion.auth import Permission, Principal
from bastion.content import ContentError
from bastion.service.content import (
    BlockNotFound,
    BlockStateError,
    ContentInputError,
    ContentService,
)
from bastion.service.security import Gate, require, token_from

SCAN = Permission("content.scan")
REVIEW = Permission("content.review")
APPEAL = Permission("content.appeal")


#: Largest row id the databases store (signed 64-bit); bigger ids are a 422, not a 500.
MAX_ID = 2**63 - 1
BlockId = Annotated[int, Path(ge=1, le=MAX_ID)]


def _json(payload: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(payload), status, media_type="application/json")


def _service(request: Request) -> ContentService:
    service: ContentService = request.app.state.content
    return service


def _actor(principal: Principal | None) -> str:
    return principal.token_id if principal is not None else "anonymous"


async def caller(request: Request) -> Principal | None:
    """The authenticated, rate-limited caller; permissions are checked per zone by routes."""
    gate: Gate = request.app.state.gate
    if gate.authenticator is None:
        return None
    headers = request.scope["headers"]
    token = token_from(headers)
    principal = gate.authenticator.authenticate(token) if token else None
    if principal is None:
        raise HTTPException(
            401,
            "a valid API token is required: send 'Authorization: Bearer <token>'",
            {"WWW-Authenticate": "Bearer"},
        )
    limit = principal.rate_limit or gate.default_rate
    verdict = gate.limiter.allow(f"token:{principal.token_id}", limit * gate.rate_share)
    if not verdict.allowed:
        raise HTTPException(
            429,
            f"rate limit of {limit:g} requests/s exceeded",
            {"Retry-After": str(max(1, math.ceil(verdict.retry_after_s)))},
        )
    return principal


def _allowed(principal: Principal | None, permission: Permission, zone: str | None) -> bool:
    return principal is None or principal.has(permission, zone=zone)


class AppealBody(BaseModel):
    statement: str = Field(min_length=1, max_length=10_000)


class DecisionBody(BaseModel):
    decision: str = Field(pattern="^(resolved|active)$")
    reason: str = Field("", max_length=10_000)


router = APIRouter(prefix="/v1/content", tags=["content"])


@router.post(
    "/scan",
    summary="Hash an image served at url of zone, match it, block the URL on a match",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/octet-stream": {"schema": {"type": "string"}}},
        }
    },
)
async def scan(
    request: Request,
    url: Annotated[str, Query(min_length=1, max_length=2048)],
    zone: Annotated[str, Query(min_length=1, max_length=253)],
    dihedral: bool = False,
    principal: Principal | None = Depends(require(SCAN)),  # noqa: B008
) -> Response:
    data = await request.body()
    service = _service(request)
    try:
        outcome = await run_in_threadpool(
            service.scan, data, url, zone, actor=_actor(principal), dihedral=dihedral
        )
    except ContentError as exc:
        return _json({"error": str(exc), "code": exc.code}, exc.http_status)
    except ContentInputError as exc:
        return _json({"error": str(exc), "code": "bad_request"}, 400)
    body = outcome.to_json()
    pdq_error = outcome.result.errors.get("pdq")
    if pdq_error is not None and outcome.block is None:
        # Not an image the service can hash (exact hashes are still answered).
        return _json(
            {"error": str(pdq_error), "code": pdq_error.code, **body}, pdq_error.http_status
        )
    return _json(body)


@router.get("/blocks", summary="Blocked URLs (site owners: their zones only)")
async def list_blocks(
    request: Request,
    zone: str | None = None,
    state: Annotated[str | None, Query(pattern="^(active|pending|in_review|resolved)$")] = None,
    after_id: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    principal: Principal | None = Depends(caller),  # noqa: B008
) -> Response:
    zones = None
    if principal is not None and not principal.has(REVIEW):
        if not any(principal.has(APPEAL, zone=z) for z in principal.zones):
            raise HTTPException(
                403,
                "this token's roles grant neither 'content.review' nor 'content.appeal' for a zone",
            )
        zones = principal.zones
    try:
        blocks = await run_in_threadpool(
            _service(request).list_blocks,
            zone=zone,
            state=state,
            zones=zones,
            limit=limit,
            after_id=after_id,
        )
    except ContentInputError as exc:
        raise HTTPException(400, str(exc)) from None
    return _json({"blocks": blocks})


async def _zone_of(request: Request, block_id: int) -> str:
    try:
        return await run_in_threadpool(_service(request).block_zone, block_id)
    except BlockNotFound as exc:
        raise HTTPException(404, str(exc)) from None


async def _run(call: Any, *args: Any, **kwargs: Any) -> Response:
    try:
        return _json(await run_in_threadpool(call, *args, **kwargs))
    except BlockNotFound as exc:
        raise HTTPException(404, str(exc)) from None
    except BlockStateError as exc:
        raise HTTPException(409, str(exc)) from None
    except ContentInputError as exc:
        raise HTTPException(400, str(exc)) from None


@router.get("/blocks/{block_id}", summary="One block with its appeals")
async def get_block(
    request: Request,
    block_id: BlockId,
    principal: Principal | None = Depends(caller),  # noqa: B008
) -> Response:
    zone = await _zone_of(request, block_id)
    if not (_allowed(principal, REVIEW, zone) or _allowed(principal, APPEAL, zone)):
        raise HTTPException(404, f"no block {block_id}")
    return await _run(_service(request).get_block, block_id)


@router.post("/blocks/{block_id}/appeal", summary="The zone owner asks for review (-> pending)")
async def appeal(
    request: Request,
    block_id: BlockId,
    body: AppealBody,
    principal: Principal | None = Depends(caller),  # noqa: B008
) -> Response:
    zone = await _zone_of(request, block_id)
    if not _allowed(principal, APPEAL, zone):
        raise HTTPException(403, f"this token may not appeal blocks of zone {zone}")
    return await _run(_service(request).appeal, block_id, body.statement, actor=_actor(principal))


@router.post("/blocks/{block_id}/review", summary="Trust & safety claims it (-> in_review)")
async def review(
    request: Request,
    block_id: BlockId,
    principal: Principal | None = Depends(require(REVIEW)),  # noqa: B008
) -> Response:
    return await _run(_service(request).start_review, block_id, actor=_actor(principal))


@router.post(
    "/blocks/{block_id}/decision",
    summary="Trust & safety decides: resolved (lift) or active (uphold)",
)
async def decision(
    request: Request,
    block_id: BlockId,
    body: DecisionBody,
    principal: Principal | None = Depends(require(REVIEW)),  # noqa: B008
) -> Response:
    return await _run(
        _service(request).decide, block_id, body.decision, body.reason, actor=_actor(principal)
    )
