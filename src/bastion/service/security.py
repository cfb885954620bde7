"""API-token checks for the HTTP service: who is calling, may they, and how often."""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from fastapi import HTTPException, Request

from bastion.auth import (
    CachedAuthenticator,
    LocalRateLimiter,
    Permission,
    Principal,
    RedisRateLimiter,
)

#: Principal used when auth is disabled in the settings (a trusted, single-user host).
_BEARER = "bearer "


@dataclass
class Gate:
    """Token verification and per-token rate limiting, shared by every endpoint."""

    authenticator: CachedAuthenticator | None
    limiter: LocalRateLimiter | RedisRateLimiter
    default_rate: float
    #: Each worker enforces this share of a token's rate when the limiter is per process.
    rate_share: float = 1.0

    def check(self, request: Request, permission: Permission) -> Principal | None:
        """The caller's principal; raises 401/403/429 as :class:`HTTPException`."""
        if self.authenticator is None:
            return None
        token = _token_from(request)
        if token is None:
            raise HTTPException(
                401,
                "an API token is required: send 'Authorization: Bearer <token>'",
                headers={"WWW-Authenticate": "Bearer"},
            )
        principal = self.authenticator.authenticate(token)
        if principal is None:
            raise HTTPException(
                401,
                "the API token is unknown, revoked or expired",
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        if not principal.has(permission):
            raise HTTPException(403, f"this token's roles do not grant '{permission.value}'")
        rate = (principal.rate_limit or self.default_rate) * self.rate_share
        verdict = self.limiter.allow(f"token:{principal.token_id}", rate)
        if not verdict.allowed:
            retry = max(1, math.ceil(verdict.retry_after_s))
            raise HTTPException(
                429,
                f"rate limit of {principal.rate_limit or self.default_rate:g} requests/s exceeded",
                headers={"Retry-After": str(retry)},
            )
        return principal


def _token_from(request: Request) -> str | None:
    value = request.headers.get("authorization")
    if value is not None and value[:7].lower() == _BEARER:
        return value[7:].strip() or None
    # nginx's auth_request keeps the client's own Authorization header intact for scoring
    # and sends bastion's token in this header instead.
    return request.headers.get("x-bastion-token") or None


def require(permission: Permission) -> Callable[[Request], Awaitable[Principal | None]]:
    """A FastAPI dependency that admits callers whose token grants ``permission``."""

    async def dependency(request: Request) -> Principal | None:
        gate: Gate = request.app.state.gate
        principal: Principal | None = gate.check(request, permission)
        return principal

    return dependency
