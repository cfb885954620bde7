"""API-token checks for the HTTP service: who is calling, may they, and how often."""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field

from fastapi import HTTPException, Request

from bastion.auth import (
    CachedAuthenticator,
    LocalRateLimiter,
    Permission,
    Principal,
    RedisRateLimiter,
)

_BEARER = b"bearer "


class AccessDenied(Exception):
    """A refused call: HTTP status, message and response headers."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


@dataclass
class Gate:
    """Token verification and per-token rate limiting, shared by every endpoint."""

    authenticator: CachedAuthenticator | None
    limiter: LocalRateLimiter | RedisRateLimiter
    default_rate: float
    #: Each worker enforces this share of a token's rate when the limiter is per process.
    rate_share: float = 1.0
    _keys: dict[str, str] = field(default_factory=dict, repr=False)

    def check(
        self, headers: Iterable[tuple[bytes, bytes]], permission: Permission | None
    ) -> Principal | None:
        """The caller's principal (``None`` with auth off); raises :class:`AccessDenied`.

        With ``permission`` None only the token and its rate are checked (routes that
        decide per zone check the permission themselves)."""
        if self.authenticator is None:
            return None
        token = token_from(headers)
        if token is None:
            raise AccessDenied(
                401,
                "an API token is required: send 'Authorization: Bearer <token>'",
                {"WWW-Authenticate": "Bearer"},
            )
        principal = self.authenticator.authenticate(token)
        if principal is None:
            raise AccessDenied(
                401,
                "the API token is unknown, revoked or expired",
                {"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        if permission is not None and not principal.has(permission):
            raise AccessDenied(403, f"this token's roles do not grant '{permission.value}'")
        limit = principal.rate_limit or self.default_rate
        key = self._keys.get(principal.token_id)
        if key is None:
            key = self._keys[principal.token_id] = f"token:{principal.token_id}"
        verdict = self.limiter.allow(key, limit * self.rate_share)
        if not verdict.allowed:
            raise AccessDenied(
                429,
                f"rate limit of {limit:g} requests/s exceeded",
                {"Retry-After": str(max(1, math.ceil(verdict.retry_after_s)))},
            )
        return principal


def token_from(headers: Iterable[tuple[bytes, bytes]]) -> str | None:
    """The bearer token, or nginx's ``X-Bastion-Token`` (which leaves the client's own
    Authorization header intact for scoring)."""
    edge_token = None
    for name, value in headers:
        if name == b"authorization" and value[:7].lower() == _BEARER:
            return value[7:].strip().decode("latin-1") or None
        if name == b"x-bastion-token":
            edge_token = value.strip().decode("latin-1") or None
    return edge_token


async def _admit(request: Request, permission: Permission | None) -> Principal | None:
    gate: Gate = request.app.state.gate
    try:
        return gate.check(request.scope["headers"], permission)
    except AccessDenied as exc:
        raise HTTPException(exc.status, exc.message, exc.headers) from None


def require(permission: Permission) -> Callable[[Request], Awaitable[Principal | None]]:
    """A FastAPI dependency that admits callers whose token grants ``permission``."""

    async def dependency(request: Request) -> Principal | None:
        return await _admit(request, permission)

    return dependency


async def caller(request: Request) -> Principal | None:
    """A FastAPI dependency: the authenticated, rate-limited caller, for routes that
    check permissions per zone themselves."""
    return await _admit(request, None)
