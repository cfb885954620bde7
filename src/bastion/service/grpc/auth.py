"""API-token checks for the gRPC service, the same tokens and permission as HTTP."""

from __future__ import annotations

from bastion.auth import CachedAuthenticator, Permission, TokenStore
from bastion.config import load_settings
from bastion.service.grpc.servicer import Authorize
from bastion.store.db import Database

_SCORE = Permission("waf.score")


def token_authorizer() -> Authorize | None:
    """An authorizer from the environment's settings (``None`` when auth is off).

    Module-level so that gRPC worker processes, started with ``spawn``, can build it.
    """
    settings = load_settings()
    if not settings.auth_enabled:
        return None
    authenticator = CachedAuthenticator(
        TokenStore(Database(settings.database_url)), settings.token_cache_s
    )

    def authorize(token: str | None) -> bool:
        if token is None:
            return False
        principal = authenticator.authenticate(token)
        return principal is not None and principal.has(_SCORE)

    return authorize
