"""The report-only CSP header from ASGI middleware: the standalone middleware and
BastionMiddleware's ``csp_report_only`` option, in a real Starlette application."""

from __future__ import annotations

import random
import warnings
from collections.abc import Iterator

import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

from bastion.middleware import BastionMiddleware
from bastion.middleware.csp import CspReportOnlyMiddleware
from bastion.scripts.monitor.header import ReportOnlyHeader

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

ENDPOINT = "https://bastion.example/v1/csp/reports/shop.example"
POLICY = (
    "script-src 'none' 'report-sample'; connect-src 'none'; "
    f"report-uri {ENDPOINT}; report-to bastion-csp"
)


async def page(request: Request) -> Response:
    return HTMLResponse("<html><script src='https://cdn.example/a.js'></script></html>")


async def data(request: Request) -> Response:
    return JSONResponse({"ok": True})


async def own(request: Request) -> Response:
    return HTMLResponse(
        "<html></html>", headers={"Content-Security-Policy-Report-Only": "default-src 'self'"}
    )


async def socket(ws: WebSocket) -> None:
    await ws.accept()
    await ws.send_text("hi")
    await ws.close()


ROUTES = [
    Route("/page", page),
    Route("/data", data),
    Route("/own", own),
    WebSocketRoute("/ws", socket),
]


def _client(*middleware: Middleware) -> TestClient:
    return TestClient(Starlette(routes=ROUTES, middleware=list(middleware)))


@pytest.fixture
def always() -> Iterator[TestClient]:
    with _client(Middleware(CspReportOnlyMiddleware, endpoint=ENDPOINT, sample_rate=1.0)) as c:
        yield c


def test_html_responses_get_the_header(always: TestClient) -> None:
    r = always.get("/page")
    assert r.headers["content-security-policy-report-only"] == POLICY
    assert r.headers["reporting-endpoints"] == f'bastion-csp="{ENDPOINT}"'


def test_other_responses_and_own_policies_are_untouched(always: TestClient) -> None:
    assert "content-security-policy-report-only" not in always.get("/data").headers
    r = always.get("/own")
    assert r.headers.get_list("content-security-policy-report-only") == ["default-src 'self'"]
    with always.websocket_connect("/ws") as ws:
        assert ws.receive_text() == "hi"


def test_html_only_can_be_turned_off() -> None:
    header = ReportOnlyHeader(ENDPOINT, 1.0)
    with _client(Middleware(CspReportOnlyMiddleware, header=header, html_only=False)) as c:
        assert c.get("/data").headers["content-security-policy-report-only"] == POLICY


def test_sampling() -> None:
    rng = random.Random(3)
    header = ReportOnlyHeader(ENDPOINT, 0.3, rng=rng.random)
    with _client(Middleware(CspReportOnlyMiddleware, header=header)) as c:
        hits = sum(
            "content-security-policy-report-only" in c.get("/page").headers for _ in range(400)
        )
    assert 85 < hits < 155
    with _client(Middleware(CspReportOnlyMiddleware, endpoint=ENDPOINT, sample_rate=0.0)) as c:
        assert "content-security-policy-report-only" not in c.get("/page").headers


def test_a_missing_endpoint_is_refused() -> None:
    with pytest.raises(ValueError, match="endpoint"):
        CspReportOnlyMiddleware(page)  # type: ignore[arg-type]


def test_bastion_middleware_option() -> None:
    header = ReportOnlyHeader(ENDPOINT, 1.0)
    with _client(Middleware(BastionMiddleware, csp_report_only=header, expose_scores=True)) as c:
        r = c.get("/page")
        assert r.headers["content-security-policy-report-only"] == POLICY
        assert "x-bastion-score" in r.headers  # the WAF's own headers are still there
        assert "content-security-policy-report-only" not in c.get("/data").headers
        # A blocked request is answered by bastion, not the site: no policy on it.
        blocked = c.get("/page?q=1%27%20UNION%20SELECT%20username%2C%20password%20FROM%20users--")
        assert blocked.status_code == 403
    with _client(Middleware(BastionMiddleware)) as c:
        assert "content-security-policy-report-only" not in c.get("/page").headers
