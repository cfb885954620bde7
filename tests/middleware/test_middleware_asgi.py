"""BastionMiddleware in real ASGI applications: FastAPI (httpx.ASGITransport) and Starlette
(its TestClient), plus the ASGI protocol details (streamed bodies, lifespan, disconnects)."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import warnings
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from bastion.middleware import BastionMiddleware, Verdict
from bastion.rules import DEFAULT_RULE_SPECS, RuleSpec, compile_rules
from bastion.waf import Scorer, load_scorer

with warnings.catch_warnings():
    # Starlette 1.x warns that its TestClient will move from httpx to httpx2.
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

CAP = 1024
SQLI_QUERY = "/search?q=1%27%20UNION%20SELECT%20username%2C%20password%20FROM%20users--"
XSS_QUERY = "/search?q=%3Cscript%3Ealert(document.cookie)%3C/script%3E"
XSS_FORM = b"comment=%3Cscript%3Ealert(document.cookie)%3C%2Fscript%3E"
SQLI_JSON = b"{\"id\": \"1' OR '1'='1' -- \"}"
CLEAN_JSON = b'{"name": "alice", "age": 30}'
BINARY = bytes(range(256)) * 3
LARGE = b"lorem ipsum dolor sit amet " * 200  # 5400 bytes, more than CAP
ATTACK_AFTER_CAP = LARGE[: CAP + 10] + b"<script>alert(document.cookie)</script>"
RULES = compile_rules(
    [
        RuleSpec("challenge-login", 'path == "/login"', "challenge"),
        RuleSpec("log-search", 'path startswith "/search"', "log"),
        *DEFAULT_RULE_SPECS,
    ]
)


@pytest.fixture(scope="module")
def scorer() -> Scorer:
    return load_scorer()


@dataclass
class Seen:
    """What a view saw."""

    view: str
    verdict: Verdict
    action_header: str | None
    body: bytes


@dataclass
class Reply:
    status: int
    headers: httpx.Headers
    body: bytes


@dataclass
class Harness:
    send: Callable[..., Reply]
    #: POST a body sent as several chunks (several ASGI body messages).
    send_chunks: Callable[[str, list[bytes]], Reply]
    seen: list[Seen] = field(default_factory=list)


async def _search(request: Request, seen: list[Seen]) -> Response:
    seen.append(Seen("search", request.state.bastion, request.headers.get("x-bastion-action"), b""))
    return JSONResponse({"q": request.query_params.get("q", "")})


async def _echo(request: Request, seen: list[Seen]) -> Response:
    body = await request.body()
    seen.append(Seen("echo", request.state.bastion, request.headers.get("x-bastion-action"), body))
    return PlainTextResponse(hashlib.sha256(body).hexdigest())


def fastapi_harness(scorer: Scorer, **options: Any) -> Harness:
    seen: list[Seen] = []
    app = FastAPI()

    @app.get("/search")
    async def search(request: Request) -> Response:
        return await _search(request, seen)

    @app.get("/login")
    async def login(request: Request) -> Response:
        return await _search(request, seen)

    @app.post("/echo")
    async def echo(request: Request) -> Response:
        return await _echo(request, seen)

    app.add_middleware(BastionMiddleware, scorer=scorer, **options)
    transport = httpx.ASGITransport(app=app)

    def send(method: str, url: str, **kwargs: Any) -> Reply:
        async def go() -> Reply:
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
                r = await c.request(method, url, **kwargs)
                return Reply(r.status_code, r.headers, r.content)

        return asyncio.run(go())

    def send_chunks(url: str, chunks: list[bytes]) -> Reply:
        async def stream() -> AsyncIterator[bytes]:
            for chunk in chunks:
                yield chunk

        return send("POST", url, content=stream())

    return Harness(send, send_chunks, seen)


def starlette_harness(scorer: Scorer, **options: Any) -> Harness:
    seen: list[Seen] = []

    async def search(request: Request) -> Response:
        return await _search(request, seen)

    async def echo(request: Request) -> Response:
        return await _echo(request, seen)

    app = Starlette(
        routes=[
            Route("/search", search),
            Route("/login", search),
            Route("/echo", echo, methods=["POST"]),
        ],
        middleware=[Middleware(BastionMiddleware, scorer=scorer, **options)],
    )
    client = TestClient(app)

    def send(method: str, url: str, **kwargs: Any) -> Reply:
        r = client.request(method, url, **kwargs)
        return Reply(r.status_code, r.headers, r.content)

    def send_chunks(url: str, chunks: list[bytes]) -> Reply:
        def stream() -> Iterator[bytes]:
            yield from chunks

        return send("POST", url, content=stream())

    return Harness(send, send_chunks, seen)


HARNESSES = {"fastapi": fastapi_harness, "starlette": starlette_harness}


@pytest.fixture(params=sorted(HARNESSES))
def make(request: pytest.FixtureRequest, scorer: Scorer) -> Callable[..., Harness]:
    factory = HARNESSES[request.param]

    def build(**options: Any) -> Harness:
        options.setdefault("rules", RULES)
        options.setdefault("max_body_bytes", CAP)
        return factory(scorer, **options)

    return build


def assert_blocked(reply: Reply, harness: Harness) -> None:
    assert reply.status == 403
    assert reply.body == b"Request blocked.\n"
    assert reply.headers["x-bastion-action"] == "block"
    assert reply.headers["content-type"].startswith("text/plain")
    assert harness.seen == []


@pytest.mark.parametrize("url", [SQLI_QUERY, XSS_QUERY])
def test_attack_in_query_is_blocked_before_the_view(make: Callable[..., Harness], url: str) -> None:
    h = make()
    assert_blocked(h.send("GET", url), h)


@pytest.mark.parametrize(
    ("body", "content_type"),
    [(XSS_FORM, "application/x-www-form-urlencoded"), (SQLI_JSON, "application/json")],
)
def test_attack_in_body_is_blocked_before_the_view(
    make: Callable[..., Harness], body: bytes, content_type: str
) -> None:
    h = make()
    assert_blocked(h.send("POST", "/echo", content=body, headers={"content-type": content_type}), h)


def test_block_status_is_configurable(make: Callable[..., Harness]) -> None:
    h = make(block_status=429)
    assert h.send("GET", SQLI_QUERY).status == 429


def test_clean_request_reaches_the_view_with_the_verdict(make: Callable[..., Harness]) -> None:
    h = make()
    reply = h.send("GET", "/search?q=hello+world")
    assert reply.status == 200 and reply.body == b'{"q":"hello world"}'
    assert "x-bastion-action" not in reply.headers
    assert "x-bastion-score" not in reply.headers
    (seen,) = h.seen
    assert seen.verdict.decision.action == "allow"
    assert seen.verdict.decision.logged == ("log-search",)
    assert seen.verdict.result.score == 99 and not seen.verdict.body_truncated
    assert seen.action_header is None


@pytest.mark.parametrize(
    ("body", "content_type"),
    [(CLEAN_JSON, "application/json"), (BINARY, "application/octet-stream"), (b"", "text/plain")],
)
def test_clean_body_reaches_the_view_byte_for_byte(
    make: Callable[..., Harness], body: bytes, content_type: str
) -> None:
    h = make()
    reply = h.send("POST", "/echo", content=body, headers={"content-type": content_type})
    assert reply.status == 200 and reply.body.decode() == hashlib.sha256(body).hexdigest()
    assert h.seen[0].body == body


def test_body_larger_than_the_cap_reaches_the_view_whole(make: Callable[..., Harness]) -> None:
    h = make()
    reply = h.send("POST", "/echo", content=LARGE, headers={"content-type": "text/plain"})
    assert reply.status == 200
    (seen,) = h.seen
    assert seen.body == LARGE
    assert seen.verdict.body_truncated and seen.verdict.result.truncated


def test_streamed_body_larger_than_the_cap_streams_through(make: Callable[..., Harness]) -> None:
    """Many body messages: the middleware stops buffering past the cap, the rest flows."""
    chunks = [b"%03d lorem ipsum dolor sit amet\n" % i * 10 for i in range(20)]  # 20 messages

    h = make()
    reply = h.send_chunks("/echo", chunks)
    assert reply.status == 200
    assert h.seen[0].body == b"".join(chunks)
    assert h.seen[0].verdict.body_truncated


def test_only_the_prefix_is_scored(make: Callable[..., Harness]) -> None:
    """An attack after max_body_bytes is not seen: the documented price of the cap."""
    h = make()
    reply = h.send("POST", "/echo", content=ATTACK_AFTER_CAP)
    assert reply.status == 200 and h.seen[0].body == ATTACK_AFTER_CAP
    h = make(max_body_bytes=len(ATTACK_AFTER_CAP))
    assert_blocked(h.send("POST", "/echo", content=ATTACK_AFTER_CAP), h)


def test_challenge_marks_request_and_response(make: Callable[..., Harness]) -> None:
    h = make()
    reply = h.send("GET", "/login")
    assert reply.status == 200
    assert reply.headers["x-bastion-action"] == "challenge"
    (seen,) = h.seen
    assert seen.action_header == "challenge"
    assert seen.verdict.decision.action == "challenge"
    assert seen.verdict.decision.rule_id == "challenge-login"


def test_client_cannot_forge_the_action_header(make: Callable[..., Harness]) -> None:
    h = make()
    reply = h.send("GET", "/search?q=ok", headers={"X-Bastion-Action": "challenge"})
    assert reply.status == 200
    assert h.seen[0].action_header is None


def test_expose_scores_headers(make: Callable[..., Harness]) -> None:
    h = make(expose_scores=True)
    reply = h.send("GET", "/search?q=hello")
    assert [reply.headers[f"x-bastion-{k}"] for k in ("score", "sqli", "xss", "rce", "class")] == [
        "99",
        "99",
        "99",
        "99",
        "clean",
    ]
    blocked = h.send("GET", SQLI_QUERY)
    assert blocked.status == 403
    assert int(blocked.headers["x-bastion-score"]) < 20
    assert blocked.headers["x-bastion-class"] == "attack"
    assert blocked.headers["x-bastion-action"] == "block"


def test_default_rules_apply_when_none_given(make: Callable[..., Harness]) -> None:
    h = make(rules=None)
    assert h.send("GET", SQLI_QUERY).status == 403
    assert h.send("GET", "/login").headers.get("x-bastion-action") is None


def test_blocks_and_log_matches_are_logged_without_secrets(
    make: Callable[..., Harness], caplog: pytest.LogCaptureFixture
) -> None:
    h = make()
    secret_headers = {
        "Cookie": "session=cookie-secret-value",
        "Authorization": "Bearer auth-secret-value",
        "content-type": "application/json",
    }
    with caplog.at_level(logging.INFO, logger="bastion.waf"):
        h.send("POST", "/echo", content=SQLI_JSON, headers=secret_headers)
        h.send("GET", "/search?q=fine", headers=secret_headers)
    records = [r for r in caplog.records if r.name == "bastion.waf"]
    assert [r.levelno for r in records] == [logging.WARNING, logging.INFO]
    block, log = (r.bastion for r in records)  # type: ignore[attr-defined]
    assert block["action"] == "block" and block["rule_id"] == "block-attacks"
    assert block["logged"] == ["log-likely-attacks"]
    assert block["path"] == "/echo" and block["score"] < 20 and block["method"] == "POST"
    assert log["action"] == "allow" and log["logged"] == ["log-search"]
    everything = " ".join(f"{r.getMessage()} {r.__dict__}" for r in records)
    for secret in ("cookie-secret-value", "auth-secret-value", "UNION", "OR '1'"):
        assert secret not in everything


def test_scorer_is_loaded_lazily_once() -> None:
    from bastion.middleware import common

    calls: list[Scorer] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        calls.append(scope["state"]["bastion"])
        await PlainTextResponse("ok")(scope, receive, send)

    mw = BastionMiddleware(app)
    assert mw.guard._scorer is None
    client = TestClient(mw)
    assert client.get("/a").status_code == 200
    assert client.get("/b").status_code == 200
    assert mw.guard.scorer is common.default_scorer() is BastionMiddleware(app).guard.scorer
    assert len(calls) == 2


# -- the ASGI protocol, with a bare ASGI application -------------------------------------


def run_asgi(
    mw: BastionMiddleware, scope: dict[str, Any], messages: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Drive ``mw`` with ``messages``; return what it sent and what the app received."""
    incoming = list(messages)
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        if incoming:
            return incoming.pop(0)
        return {"type": "http.disconnect"}

    async def send(message: Any) -> None:
        sent.append(dict(message))

    asyncio.run(mw(scope, receive, send))
    return sent, received


received: list[dict[str, Any]] = []


async def recording_app(scope: Any, receive: Any, send: Any) -> None:
    received.clear()
    if scope["type"] == "lifespan":
        message = await receive()
        received.append(message)
        await send({"type": "lifespan.startup.complete"})
        return
    while True:
        message = await receive()
        received.append(message)
        if message["type"] != "http.request" or not message.get("more_body"):
            break
    await send({"type": "http.response.start", "status": 200, "headers": [(b"x-app", b"1")]})
    await send({"type": "http.response.body", "body": b"done"})


def http_scope(**extra: Any) -> dict[str, Any]:
    scope: dict[str, Any] = {
        "type": "http",
        "method": "POST",
        "path": "/upload",
        "raw_path": b"/upload",
        "query_string": b"",
        "headers": [(b"host", b"example.com")],
    }
    scope.update(extra)
    return scope


def test_lifespan_and_websocket_scopes_pass_through(scorer: Scorer) -> None:
    mw = BastionMiddleware(recording_app, scorer=scorer)
    sent, got = run_asgi(mw, {"type": "lifespan"}, [{"type": "lifespan.startup"}])
    assert sent == [{"type": "lifespan.startup.complete"}]
    assert got == [{"type": "lifespan.startup"}]


def test_body_messages_are_replayed_exactly(scorer: Scorer) -> None:
    mw = BastionMiddleware(recording_app, scorer=scorer, max_body_bytes=10)
    parts = [b"abcdef", b"ghijkl", b"mnop", b"qr"]
    messages = [
        {"type": "http.request", "body": p, "more_body": i < len(parts) - 1}
        for i, p in enumerate(parts)
    ]
    sent, got = run_asgi(mw, http_scope(), messages)
    assert b"".join(m.get("body", b"") for m in got) == b"".join(parts)
    assert [m.get("more_body", False) for m in got][-1] is False
    # The first two messages were buffered (12 bytes > 10) and replayed as one.
    assert got[0]["body"] == b"abcdefghijkl" and got[0]["more_body"] is True
    assert got[1:] == messages[2:]
    assert sent[0]["status"] == 200 and (b"x-app", b"1") in sent[0]["headers"]


def test_disconnect_while_buffering_is_passed_on(scorer: Scorer) -> None:
    mw = BastionMiddleware(recording_app, scorer=scorer)
    messages = [{"type": "http.request", "body": b"abc", "more_body": True}]
    _, got = run_asgi(mw, http_scope(), [*messages, {"type": "http.disconnect"}])
    assert got == [
        {"type": "http.request", "body": b"abc", "more_body": True},
        {"type": "http.disconnect"},
    ]


def test_request_line_uri_and_host_without_raw_path(scorer: Scorer) -> None:
    """Without raw_path, the URI is re-quoted from path; the host falls back to server."""
    seen: list[Verdict] = []
    rules = compile_rules(
        [RuleSpec("h", 'host == "internal.example" and path == "/a b/é"', "challenge")]
    )

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope["state"]["bastion"])
        await PlainTextResponse("ok")(scope, receive, send)

    mw = BastionMiddleware(app, scorer=scorer, rules=rules)
    scope = http_scope(method="GET", path="/a b/é", headers=[], server=("Internal.Example", 8080))
    del scope["raw_path"]
    sent, _ = run_asgi(mw, scope, [{"type": "http.request", "body": b""}])
    assert seen[0].decision.action == "challenge"
    assert (b"x-bastion-action", b"challenge") in sent[0]["headers"]


def test_scope_of_the_caller_is_not_mutated(scorer: Scorer) -> None:
    mw = BastionMiddleware(recording_app, scorer=scorer)
    scope = http_scope(state={"shared": 1})
    run_asgi(mw, scope, [{"type": "http.request", "body": b""}])
    assert scope["state"] == {"shared": 1}


def test_invalid_options_are_rejected() -> None:
    with pytest.raises(ValueError, match="max_body_bytes"):
        BastionMiddleware(recording_app, max_body_bytes=-1)
    with pytest.raises(ValueError, match="block_status"):
        BastionMiddleware(recording_app, block_status=200)
