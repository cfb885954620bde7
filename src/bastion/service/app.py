"""The ASGI application: ``create_app(settings)`` builds everything one worker needs."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path  # type: ignore[import-untyped]

from bastion import __version__
from bastion.auth import (
    CachedAuthenticator,
    LocalRateLimiter,
    Permission,
    RedisRateLimiter,
    TokenStore,
)
from bastion.config import Settings, load_settings
from bastion.content import DecodeLimits
from bastion.rules import DEFAULT_RULE_SPECS, RuleSet, RuleSpec, compile_rules
from bastion.service import console, edge, metrics
from bastion.service.abuse_api import router as abuse_router
from bastion.service.abuse_edge import EdgeEnforcement
from bastion.service.abuse_orders_api import router as abuse_orders_router
from bastion.service.abuse_signals import content_block_hook
from bastion.service.admin_api import router as admin_router
from bastion.service.analytics_api import router as analytics_router
from bastion.service.blocked import BlockedUrls
from bastion.service.content import BankSource, ContentService
from bastion.service.content_api import router as content_router
from bastion.service.content_cache import HashCache, LocalHashCache, RedisHashCache
from bastion.service.hotpath import HotPaths
from bastion.service.models_api import router as models_router
from bastion.service.openapi import HOT_PATHS, SECURITY_SCHEMES
from bastion.service.outbox import OutboxDeliverer, senders_for
from bastion.service.protection import ProtectionMiddleware
from bastion.service.responses import json_response
from bastion.service.scoring import ScoringService
from bastion.service.scripts_api import router as scripts_router
from bastion.service.security import Gate, require
from bastion.store.db import Database
from bastion.waf.scorer import Scorer, load_scorer

log = logging.getLogger("bastion.service")

PUBLIC_ROUTES = frozenset({"/healthz", "/readyz", "/docs", "/openapi.json"})


@dataclass
class ServiceState:
    """What one worker holds for its lifetime."""

    settings: Settings
    scoring: ScoringService
    database: Database


def build_rules(settings: Settings) -> RuleSet:
    """The configured rules, or the defaults (log below 40, block below 20)."""
    if settings.rules is None:
        return compile_rules(DEFAULT_RULE_SPECS)
    specs = [RuleSpec(r.id, r.expression, r.action, r.description, r.param) for r in settings.rules]
    return compile_rules(specs)


def create_app(settings: Settings | None = None, *, scorer: Scorer | None = None) -> FastAPI:
    """The service for ``settings`` (read from the environment when omitted)."""
    settings = settings if settings is not None else load_settings()
    rules = build_rules(settings)
    scorer = scorer if scorer is not None else load_scorer(settings.model_path)
    database = Database(settings.database_url)
    database.upgrade()
    scoring = ScoringService(scorer, rules)
    state = ServiceState(settings, scoring, database)
    limiter: LocalRateLimiter | RedisRateLimiter
    if settings.redis_url:
        limiter, share = RedisRateLimiter(settings.redis_url), 1.0
    else:
        limiter, share = LocalRateLimiter(), 1.0 / settings.workers
    authenticator = (
        CachedAuthenticator(TokenStore(database), settings.token_cache_s)
        if settings.auth_enabled
        else None
    )
    gate = Gate(authenticator, limiter, settings.default_rate_limit, share)
    content, blocked, deliverer = build_content(settings, database)
    abuse_edge = EdgeEnforcement(
        database,
        settings.abuse_enforcement_refresh_s,
        blocked_by=settings.abuse_blocked_by_url,
        country_header=settings.edge_country_header,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        log.info(
            "bastion %s ready: model %s, %d rules, database %s, auth %s",
            __version__,
            scorer.version,
            len(rules),
            settings.database_url.split(":", 1)[0],
            "on" if authenticator else "OFF",
        )
        task = None
        if deliverer is not None:
            task = asyncio.create_task(deliverer.run_forever(settings.content_deliver_interval_s))
        yield
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        database.dispose()

    app = FastAPI(
        title="bastion",
        version=__version__,
        summary="Edge security: WAF attack scores, rules and edge checks.",
        lifespan=lifespan,
        redoc_url=None,
        docs_url=None,
    )
    app.state.bastion = state
    app.state.gate = gate
    app.state.content = content
    app.state.abuse_edge = abuse_edge
    # New content blocks also become abuse desk signals (once its stream is open).
    content.on_block = content_block_hook(content.on_block, app.state)
    routes = frozenset({"/v1/waf/score", edge.EDGE_PATH, "/metrics", *PUBLIC_ROUTES})
    app.add_middleware(
        HotPaths,
        gate=gate,
        scoring=scoring,
        max_batch=settings.max_batch,
        blocked=blocked,
        enforcement=abuse_edge,
    )
    app.add_middleware(
        ProtectionMiddleware,
        max_body_bytes=settings.max_body_bytes,
        timeout_s=settings.request_timeout_s,
        routes=routes,
    )

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        return json_response({"error": exc.detail}, exc.status_code, dict(exc.headers or {}))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        return json_response({"error": f"{where}: {first.get('msg', 'invalid request')}"}, 400)

    def openapi_schema() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title, version=app.version, summary=app.summary, routes=app.routes
            )
            schema["paths"] = {**HOT_PATHS, **schema["paths"]}
            schema.setdefault("components", {})["securitySchemes"] = SECURITY_SCHEMES
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi_schema  # type: ignore[method-assign]

    # The docs page uses Swagger UI files shipped in a Python package, not a CDN, so it
    # works on a host with no internet access.
    app.mount("/docs/static", StaticFiles(directory=swagger_ui_path), name="docs-static")

    @app.get("/docs", include_in_schema=False)
    async def docs() -> Response:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="bastion API",
            swagger_js_url="/docs/static/swagger-ui-bundle.js",
            swagger_css_url="/docs/static/swagger-ui.css",
            swagger_favicon_url="/docs/static/favicon-32x32.png",
        )

    @app.get("/healthz", tags=["ops"], summary="Liveness: the process answers")
    async def healthz() -> Response:
        return json_response({"status": "ok"})

    @app.get("/readyz", tags=["ops"], summary="Readiness: model loaded and database reachable")
    async def readyz() -> Response:
        db_ok = await run_in_threadpool(database.ping)
        body = {"status": "ready" if db_ok else "unavailable", "model": scoring.version}
        body["database"] = "ok" if db_ok else "unreachable"
        return json_response(body, 200 if db_ok else 503)

    metrics_gate = [] if settings.metrics_public else [Depends(require(Permission("metrics.read")))]

    @app.get(
        "/metrics",
        tags=["ops"],
        summary="Prometheus metrics of all workers",
        dependencies=metrics_gate,
    )
    async def prometheus_metrics() -> Response:
        data, content_type = metrics.render()
        return Response(data, media_type=content_type)

    app.include_router(content_router)
    app.include_router(abuse_router)
    app.include_router(abuse_orders_router)
    app.include_router(scripts_router)
    app.include_router(models_router)
    app.include_router(admin_router)
    app.include_router(analytics_router)
    app.include_router(console.build_router(settings.console_dir))
    return app


def build_content(
    settings: Settings, database: Database
) -> tuple[ContentService, BlockedUrls, OutboxDeliverer | None]:
    """Content scanning's parts for one worker: the service, the edge's blocked URLs and
    the outbox deliverer (``None`` when delivery is off or nothing is configured)."""
    cache: HashCache
    if settings.redis_url:
        cache = RedisHashCache(settings.redis_url, settings.content_cache_ttl_s)
    else:
        cache = LocalHashCache(settings.content_cache_size, settings.content_cache_ttl_s)
    banks = BankSource(settings.banks_dir, settings.banks_refresh_s)
    blocked = BlockedUrls(database, settings.content_block_refresh_s)
    limits = DecodeLimits(
        max_bytes=settings.content_max_bytes,
        max_pixels=settings.content_max_pixels,
        timeout_s=settings.content_decode_timeout_s,
    )
    service = ContentService(database, lambda: banks.matcher, cache, limits, on_block=blocked.note)
    senders = senders_for(settings)
    deliverer = (
        OutboxDeliverer(database, senders, max_attempts=settings.outbox_max_attempts)
        if settings.content_deliver and senders
        else None
    )
    return service, blocked, deliverer
