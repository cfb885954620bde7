"""HTTP endpoints for the console and administrators: who am I, tokens, zones.

* ``GET /v1/auth/whoami``: any valid token; its roles, zones and permissions (what the
  console shows is derived from this; every endpoint still checks for itself).
* ``GET``/``POST /v1/admin/tokens``, ``POST /v1/admin/tokens/{id}/revoke``,
  ``GET``/``POST /v1/admin/zones``: ``tokens.manage``. Creating and revoking tokens and
  creating zones write an audit row; a new token's plaintext is in the creation response
  only (``Cache-Control: no-store``) and is never logged.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from bastion.auth import (
    CachedAuthenticator,
    InvalidTokenRequest,
    InvalidZoneError,
    Permission,
    Principal,
    Role,
    TokenStore,
    UnknownTokenError,
)
from bastion.service.responses import json_response
from bastion.service.security import Gate, caller, require
from bastion.store import zones as zone_store

MANAGE = Permission.TOKENS_MANAGE
_NO_STORE = {"Cache-Control": "no-store"}

router = APIRouter(tags=["admin"])


def _actor(principal: Principal | None) -> str:
    return principal.token_id if principal is not None else "anonymous"


def whoami_json(principal: Principal | None, known_zones: list[str]) -> dict[str, Any]:
    """What the console needs to know about its caller.

    ``permissions`` hold for every zone (and requests about no zone); ``zone_permissions``
    hold for the listed ``zones`` only (a site owner's). ``all_zones`` says the token acts
    on every zone, in which case ``zones`` lists the zones known so far.
    """
    if principal is None:  # auth is off: the service trusts every caller
        everything = sorted(p.value for p in Permission)
        return {
            "auth": False,
            "token": None,
            "roles": [Role.ADMIN.value],
            "all_zones": True,
            "zones": known_zones,
            "permissions": everything,
            "zone_permissions": everything,
        }
    anywhere = principal.permissions()
    scoped = Role.SITE_OWNER in principal.roles and bool(principal.zones)
    own = principal.permissions(next(iter(principal.zones))) if scoped else anywhere
    all_zones = any(r is not Role.SITE_OWNER for r in principal.roles)
    return {
        "auth": True,
        "token": {
            "id": principal.token_id,
            "name": principal.name,
            "expires_at": principal.expires_at.isoformat() if principal.expires_at else None,
        },
        "roles": sorted(r.value for r in principal.roles),
        "all_zones": all_zones,
        "zones": known_zones,
        "permissions": sorted(p.value for p in anywhere),
        "zone_permissions": sorted(p.value for p in own),
    }


@router.get("/v1/auth/whoami", summary="The calling token's roles, zones and permissions")
async def whoami(
    request: Request,
    principal: Principal | None = Depends(caller),  # noqa: B008
) -> Response:
    database = request.app.state.bastion.database
    all_zones = principal is None or any(r is not Role.SITE_OWNER for r in principal.roles)
    if all_zones:
        known = await run_in_threadpool(zone_store.zone_names, database)
        if principal is not None:  # a site owner's zones even when not yet in the table
            known = sorted(set(known) | principal.zones)
    else:
        assert principal is not None
        known = sorted(principal.zones)
    return json_response(whoami_json(principal, known), headers=_NO_STORE)


# -- tokens ---------------------------------------------------------------------------


class TokenBody(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    roles: list[str] = Field(min_length=1, max_length=len(Role))
    zones: list[Annotated[str, Field(min_length=1, max_length=253)]] = Field(
        default_factory=list, max_length=1000
    )
    rate_limit: float | None = Field(None, gt=0, le=1e9)
    expires_days: float | None = Field(None, gt=0, le=3650)


def _tokens(request: Request) -> TokenStore:
    return TokenStore(request.app.state.bastion.database)


@router.get("/v1/admin/tokens", summary="Every token (never a secret or hash)")
async def list_tokens(
    request: Request,
    active: bool = False,
    principal: Principal | None = Depends(require(MANAGE)),  # noqa: B008
) -> Response:
    infos = await run_in_threadpool(_tokens(request).list, include_inactive=not active)
    now = datetime.now(UTC)
    return json_response({"tokens": [i.to_json(now) for i in infos]}, headers=_NO_STORE)


@router.post(
    "/v1/admin/tokens",
    status_code=201,
    summary="Create a token; its plaintext is in this response only",
    responses={400: {"description": "The request names an unknown role, a bad zone..."}},
)
async def create_token(
    request: Request,
    body: TokenBody,
    principal: Principal | None = Depends(require(MANAGE)),  # noqa: B008
) -> Response:
    expires = (
        datetime.now(UTC) + timedelta(days=body.expires_days)
        if body.expires_days is not None
        else None
    )
    try:
        issued = await run_in_threadpool(
            _tokens(request).create,
            body.name,
            body.roles,
            body.zones,
            body.rate_limit,
            expires,
            _actor(principal),
        )
    except InvalidTokenRequest as exc:
        raise HTTPException(400, str(exc)) from None
    return json_response({"token": issued.token, **issued.info.to_json()}, 201, _NO_STORE)


@router.post("/v1/admin/tokens/{token_id}/revoke", summary="Revoke a token")
async def revoke_token(
    request: Request,
    token_id: Annotated[str, Path(min_length=1, max_length=32, pattern="^[0-9a-f]+$")],
    principal: Principal | None = Depends(require(MANAGE)),  # noqa: B008
) -> Response:
    store = _tokens(request)
    try:
        revoked = await run_in_threadpool(store.revoke, token_id, _actor(principal))
    except UnknownTokenError as exc:
        raise HTTPException(404, str(exc)) from None
    gate: Gate = request.app.state.gate
    if isinstance(gate.authenticator, CachedAuthenticator):
        gate.authenticator.clear()  # this worker at once; others within token_cache_s
    info = await run_in_threadpool(store.get, token_id)
    assert info is not None
    return json_response({"revoked": revoked, **info.to_json()})


# -- zones ----------------------------------------------------------------------------


class ZoneBody(BaseModel):
    name: str = Field(min_length=1, max_length=253)


@router.get("/v1/admin/zones", summary="Known zones, by name, with how many tokens name each")
async def list_zones(
    request: Request,
    prefix: Annotated[str, Query(max_length=253)] = "",
    after: Annotated[str, Query(max_length=253)] = "",
    limit: Annotated[int, Query(ge=1, le=zone_store.MAX_LIST)] = 200,
    principal: Principal | None = Depends(require(MANAGE)),  # noqa: B008
) -> Response:
    if "\x00" in prefix or "\x00" in after:
        raise HTTPException(400, "'prefix' and 'after' must not contain NUL characters")
    zones = await run_in_threadpool(
        zone_store.list_zones,
        request.app.state.bastion.database,
        prefix=prefix.strip().lower(),
        after=after,
        limit=limit,
    )
    return json_response({"zones": [z.to_json() for z in zones]})


@router.post("/v1/admin/zones", status_code=201, summary="Create a zone")
async def create_zone(
    request: Request,
    body: ZoneBody,
    principal: Principal | None = Depends(require(MANAGE)),  # noqa: B008
) -> Response:
    try:
        zone = await run_in_threadpool(
            zone_store.create_zone,
            request.app.state.bastion.database,
            body.name,
            actor=_actor(principal),
        )
    except InvalidZoneError as exc:
        raise HTTPException(400, str(exc)) from None
    except zone_store.ZoneExistsError as exc:
        raise HTTPException(409, str(exc)) from None
    return json_response(zone.to_json(), 201)


__all__ = ["router", "whoami_json"]
