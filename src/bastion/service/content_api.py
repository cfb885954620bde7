"""HTTP endpoints of content scanning: scan, list blocks, appeal, review, decide."""

from __future__ import annotations

import base64
import binascii
from collections.abc import AsyncIterator
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from bastion.auth import Permission, Principal
from bastion.content import ContentError
from bastion.service.content import (
    BlockNotFound,
    BlockStateError,
    ContentInputError,
    ContentService,
    ScanOutcome,
)
from bastion.service.responses import json_response
from bastion.service.security import caller, require

SCAN = Permission("content.scan")
REVIEW = Permission("content.review")
APPEAL = Permission("content.appeal")


#: Largest row id the databases store (signed 64-bit); bigger ids are a 422, not a 500.
MAX_ID = 2**63 - 1
BlockId = Annotated[int, Path(ge=1, le=MAX_ID)]


def _service(request: Request) -> ContentService:
    service: ContentService = request.app.state.content
    return service


def _actor(principal: Principal | None) -> str:
    return principal.token_id if principal is not None else "anonymous"


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
        return json_response({"error": str(exc), "code": exc.code}, exc.http_status)
    except ContentInputError as exc:
        return json_response({"error": str(exc), "code": "bad_request"}, 400)
    status, body = _outcome_json(outcome)
    return json_response(body, status)


def _outcome_json(outcome: ScanOutcome) -> tuple[int, dict[str, Any]]:
    """HTTP status and body of a scan: an error status when the bytes are not an image
    the service can hash (the exact hashes are still answered)."""
    body = outcome.to_json()
    pdq_error = outcome.result.errors.get("pdq")
    if pdq_error is not None and outcome.block is None:
        return pdq_error.http_status, {"error": str(pdq_error), "code": pdq_error.code, **body}
    return 200, body


#: Items in one batch request; larger batches are a 413 naming the limit.
MAX_BATCH_ITEMS = 1000
_BATCH_FIELDS = frozenset({"url", "zone", "data", "dihedral"})


class BatchItemError(ValueError):
    """One line of a batch that cannot be scanned; the others still are."""

    def __init__(self, message: str, code: str = "bad_request", status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


def _batch_item(line: bytes) -> tuple[str, str, bytes, bool]:
    """(url, zone, image bytes, dihedral) of one NDJSON line, or :class:`BatchItemError`."""
    try:
        obj = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise BatchItemError(f"line is not valid JSON: {exc}") from None
    if not isinstance(obj, dict):
        raise BatchItemError("line must be a JSON object with url, zone and data")
    unknown = sorted(set(obj) - _BATCH_FIELDS)
    if unknown:
        raise BatchItemError(f"unknown field(s): {', '.join(unknown)}")
    url, zone, data = obj.get("url"), obj.get("zone"), obj.get("data")
    dihedral = obj.get("dihedral", False)
    if not isinstance(url, str) or not 1 <= len(url) <= 2048:
        raise BatchItemError("'url' must be a string of 1 to 2048 characters")
    if not isinstance(zone, str) or not 1 <= len(zone) <= 253:
        raise BatchItemError("'zone' must be a string of 1 to 253 characters")
    if not isinstance(data, str):
        raise BatchItemError("'data' must be the image bytes in base64")
    if not isinstance(dihedral, bool):
        raise BatchItemError("'dihedral' must be true or false")
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise BatchItemError("'data' is not valid base64") from None
    return url, zone, raw, dihedral


@router.post(
    "/scan/batch",
    summary="Scan many images: NDJSON lines in, one NDJSON result line per input, streamed",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/x-ndjson": {
                    "schema": {
                        "type": "object",
                        "properties": {
                            "url": {"type": "string"},
                            "zone": {"type": "string"},
                            "data": {"type": "string", "format": "byte"},
                            "dihedral": {"type": "boolean"},
                        },
                        "required": ["url", "zone", "data"],
                    }
                }
            },
        }
    },
)
async def scan_batch(
    request: Request,
    principal: Principal | None = Depends(require(SCAN)),  # noqa: B008
) -> Response:
    """Each line is judged alone: a bad line or a zone the token may not scan gives that
    line an ``error`` (with its HTTP-like ``status``) and the rest are still scanned.
    Results come back in input order as they are ready, each with its ``index``."""
    lines = [ln for ln in (await request.body()).split(b"\n") if ln.strip()]
    if not lines:
        raise HTTPException(400, "the body is empty: send one JSON object per line")
    if len(lines) > MAX_BATCH_ITEMS:
        raise HTTPException(413, f"{len(lines)} items; a batch holds at most {MAX_BATCH_ITEMS}")
    service = _service(request)
    actor = _actor(principal)

    async def results() -> AsyncIterator[bytes]:
        for index, line in enumerate(lines):
            yield orjson.dumps(await _scan_line(service, principal, actor, index, line)) + b"\n"

    return StreamingResponse(results(), media_type="application/x-ndjson")


async def _scan_line(
    service: ContentService, principal: Principal | None, actor: str, index: int, line: bytes
) -> dict[str, Any]:
    def error(message: str, code: str, status: int) -> dict[str, Any]:
        return {"index": index, "error": message, "code": code, "status": status}

    try:
        url, zone, data, dihedral = _batch_item(line)
    except BatchItemError as exc:
        return error(str(exc), exc.code, exc.status)
    if not _allowed(principal, SCAN, zone):
        return error(f"this token may not scan content of zone {zone!r}", "forbidden", 403)
    try:
        outcome = await run_in_threadpool(
            service.scan, data, url, zone, actor=actor, dihedral=dihedral
        )
    except ContentError as exc:
        return error(str(exc), exc.code, exc.http_status)
    except ContentInputError as exc:
        return error(str(exc), "bad_request", 400)
    status, body = _outcome_json(outcome)
    return {"index": index, "status": status, **body}


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
    return json_response({"blocks": blocks})


async def _zone_of(request: Request, block_id: int) -> str:
    try:
        return await run_in_threadpool(_service(request).block_zone, block_id)
    except BlockNotFound as exc:
        raise HTTPException(404, str(exc)) from None


async def _run(call: Any, *args: Any, **kwargs: Any) -> Response:
    try:
        return json_response(await run_in_threadpool(call, *args, **kwargs))
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
