"""The ASGI and WSGI middleware log to the analytics store when given a request log."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import flask
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient
from werkzeug.test import Client

from bastion.analytics import queries as q
from bastion.middleware import BastionMiddleware, BastionWSGIMiddleware
from bastion.service.analytics_log import RequestLog
from bastion.store.analytics import DuckDBStore
from bastion.waf import load_scorer

SQLI = "/search?q=1%27%20UNION%20SELECT%20password%20FROM%20users--"


def _rows(store: DuckDBStore) -> list[tuple[Any, ...]]:
    return store.fetch(
        q.Query("SELECT zone, source, client, path, cls, action, explanation FROM requests")
    )


def test_asgi_middleware_logs_every_request() -> None:
    store = DuckDBStore(":memory:")
    log = RequestLog(store, zones=lambda: ["shop.example"], flush_interval_s=0.05)
    log.start()

    async def home(request: Request) -> PlainTextResponse:
        return PlainTextResponse("ok")

    app = Starlette(routes=[Route("/{p:path}", home)])
    guarded = BastionMiddleware(app, scorer=load_scorer(), observer=log)
    client = TestClient(guarded, base_url="http://www.shop.example")
    assert client.get("/hello").status_code == 200
    assert client.get(SQLI).status_code == 403
    assert log.flush(5)
    rows = sorted(_rows(store), key=lambda r: r[3])
    assert [(r[0], r[1], r[3], r[5]) for r in rows] == [
        ("shop.example", "middleware", "/hello", "allow"),
        ("shop.example", "middleware", "/search", "block"),
    ]
    assert rows[0][2] == "testclient"  # the ASGI scope's client address
    assert rows[1][4] == "attack" and "sqli" in rows[1][6]
    log.close()


def test_wsgi_middleware_logs_every_request() -> None:
    store = DuckDBStore(":memory:")
    log = RequestLog(store, flush_interval_s=0.05)
    log.start()
    flask_app = flask.Flask("t")

    @flask_app.route("/<path:p>")
    def page(p: str) -> str:
        return "ok"

    wsgi_app: Callable[[dict[str, Any], Any], Iterable[bytes]] = flask_app.wsgi_app
    flask_app.wsgi_app = BastionWSGIMiddleware(wsgi_app, scorer=load_scorer(), observer=log)  # type: ignore[method-assign]
    client = Client(flask_app)
    assert client.get("/a", environ_base={"REMOTE_ADDR": "198.51.100.4"}).status_code == 200
    assert log.flush(5)
    ((zone, source, addr, path, _cls, action, _),) = _rows(store)
    assert (zone, source, addr, path, action) == ("", "middleware", "198.51.100.4", "/a", "allow")
    log.close()
