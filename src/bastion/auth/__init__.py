"""API-token authentication, roles and permissions, rate limiting (no HTTP framework here)."""

from __future__ import annotations

from bastion.auth.cache import Authenticator, CachedAuthenticator
from bastion.auth.principal import InvalidZoneError, Principal, normalize_zone
from bastion.auth.ratelimit import (
    LocalRateLimiter,
    RateDecision,
    RateLimiter,
    RedisRateLimiter,
)
from bastion.auth.roles import ROLE_PERMISSIONS, Permission, Role
from bastion.auth.tokens import (
    InvalidTokenRequest,
    IssuedToken,
    MalformedTokenError,
    TokenError,
    TokenInfo,
    TokenSpec,
    TokenStore,
    UnknownTokenError,
    parse_token,
)

__all__ = [
    "ROLE_PERMISSIONS",
    "Authenticator",
    "CachedAuthenticator",
    "InvalidTokenRequest",
    "InvalidZoneError",
    "IssuedToken",
    "LocalRateLimiter",
    "MalformedTokenError",
    "Permission",
    "Principal",
    "RateDecision",
    "RateLimiter",
    "RedisRateLimiter",
    "Role",
    "TokenError",
    "TokenInfo",
    "TokenSpec",
    "TokenStore",
    "UnknownTokenError",
    "normalize_zone",
    "parse_token",
]
