"""Pure ASGI middleware: score each HTTP request, apply the rules, block or pass it on.

>>> from fastapi import FastAPI
>>> from bastion.middleware.asgi import BastionMiddleware
>>> app = FastAPI()
>>> app.add_middleware(BastionMiddleware)  # doctest: +SKIP

The body is buffered up to ``max_body_bytes`` for scoring and replayed to the application
unchanged; when it is longer, the prefix is scored, the result marked truncated, and the
rest streams through as it arrives. Non-HTTP scopes (lifespan, websocket) pass through.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from bastion.analytics.record import JudgedBatch
from bastion.middleware.common import ACTION_HEADER, BLOCK_BODY, Guard, Verdict
from bastion.rules import RuleSet
from bastion.waf.scorer import Scorer

if TYPE_CHECKING:  # imported on use: the scripts package loads the JS parser
    from bastion.scripts.monitor.header import ReportOnlyHeader

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_ACTION_HEADER_BYTES = ACTION_HEADER.encode("latin-1")


class BastionMiddleware:
    """ASGI middleware applying the WAF score and rules to every HTTP request.

    ``block`` answers ``block_status`` without calling the application; ``challenge`` and
    ``allow`` call it with the :class:`~bastion.middleware.common.Verdict` in
    ``scope["state"]["bastion"]`` (``request.state.bastion`` in Starlette); a challenge also
    adds the request header ``x-bastion-action: challenge`` (client-sent copies of that
    header are always removed) and the response header ``X-Bastion-Action: challenge``.
    With ``expose_scores``, responses carry ``X-Bastion-Score``/``-Sqli``/``-Xss``/``-Rce``/
    ``-Class``. The default scorer is the shipped model, loaded on first use.
    ``csp_report_only`` (a :class:`~bastion.scripts.monitor.header.ReportOnlyHeader`) adds
    the script monitor's report-only CSP header to its sample of HTML responses (see
    :mod:`bastion.middleware.csp`).
    ``observer`` (e.g. a started :class:`~bastion.service.analytics_log.RequestLog`) is
    called with every judged request.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        scorer: Scorer | None = None,
        rules: RuleSet | None = None,
        max_body_bytes: int = 1 << 20,
        block_status: int = 403,
        expose_scores: bool = False,
        observer: Callable[[JudgedBatch], None] | None = None,
        csp_report_only: ReportOnlyHeader | None = None,
    ) -> None:
        self.app = app
        self.csp_report_only = csp_report_only
        self._csp_send: Callable[[Send, ReportOnlyHeader], Send] | None = None
        if csp_report_only is not None:
            from bastion.middleware.csp import report_only_send

            self._csp_send = report_only_send
        self.guard = Guard(
            scorer=scorer,
            rules=rules,
            max_body_bytes=max_body_bytes,
            block_status=block_status,
            expose_scores=expose_scores,
            observer=observer,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body, pending = await _buffer(receive, self.guard.max_body_bytes)
        prefix = body[: self.guard.max_body_bytes]
        truncated = len(body) > self.guard.max_body_bytes
        raw_headers: list[tuple[bytes, bytes]] = list(scope.get("headers") or [])
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in raw_headers]
        client = scope.get("client")
        verdict = self.guard.check(
            method=scope.get("method", "GET"),
            uri=_request_uri(scope),
            path=scope.get("path") or "/",
            host=_host(scope, headers),
            headers=headers,
            body=prefix,
            body_truncated=truncated,
            client=str(client[0]) if client else None,
        )
        extra = [
            (k.lower().encode("latin-1"), v.encode("latin-1"))
            for k, v in self.guard.response_headers(verdict)
        ]
        if verdict.decision.action == "block":
            await _send_block(send, self.guard, verdict)
            return
        send = _adding(send, extra)
        if self._csp_send is not None and self.csp_report_only is not None:
            send = self._csp_send(send, self.csp_report_only)
        await self.app(_app_scope(scope, raw_headers, verdict), _replay(receive, pending), send)


async def _buffer(receive: Receive, limit: int) -> tuple[bytes, list[Message]]:
    """Read body messages until the body ends or more than ``limit`` bytes are in.

    Returns the bytes read and the messages to replay to the application: one
    ``http.request`` with those bytes (``more_body`` as in the last one received), then any
    other message that arrived meanwhile (a disconnect).
    """
    chunks: list[bytes] = []
    size = 0
    more = True
    other: list[Message] = []
    while more and size <= limit:
        message = await receive()
        if message["type"] != "http.request":
            other.append(message)  # http.disconnect: the client went away
            break
        chunk = message.get("body", b"")
        if chunk:
            chunks.append(chunk)
            size += len(chunk)
        more = bool(message.get("more_body", False))
    body = b"".join(chunks)
    first: Message = {"type": "http.request", "body": body, "more_body": more}
    return body, [first, *other]


def _replay(receive: Receive, pending: list[Message]) -> Receive:
    queue = list(pending)

    async def replay() -> Message:
        if queue:
            return queue.pop(0)
        return await receive()

    return replay


def _adding(send: Send, extra: list[tuple[bytes, bytes]]) -> Send:
    if not extra:
        return send

    async def send_with_headers(message: Message) -> None:
        if message["type"] == "http.response.start":
            message = dict(message)
            message["headers"] = [*message.get("headers", []), *extra]
        await send(message)

    return send_with_headers


def _app_scope(scope: Scope, raw_headers: list[tuple[bytes, bytes]], verdict: Verdict) -> Scope:
    """A copy of the scope with the verdict in its state and the action header set."""
    headers = [(k, v) for k, v in raw_headers if k.lower() != _ACTION_HEADER_BYTES]
    if verdict.decision.action == "challenge":
        headers.append((_ACTION_HEADER_BYTES, b"challenge"))
    state = dict(scope.get("state") or {})
    state["bastion"] = verdict
    return {**scope, "headers": headers, "state": state}


async def _send_block(send: Send, guard: Guard, verdict: Verdict) -> None:
    headers = [
        (k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in guard.block_headers(verdict)
    ]
    await send({"type": "http.response.start", "status": guard.block_status, "headers": headers})
    await send({"type": "http.response.body", "body": BLOCK_BODY, "more_body": False})


def _request_uri(scope: Scope) -> str:
    """Path and query as on the request line."""
    raw_path = scope.get("raw_path")
    if raw_path:
        path = raw_path.decode("latin-1")
    else:
        # ``path`` is decoded and (per the ASGI spec) already includes ``root_path``.
        path = quote(scope.get("path") or "/", safe="/:@!$&'()*+,;=-._~")
    query = scope.get("query_string") or b""
    return f"{path}?{query.decode('latin-1')}" if query else path


def _host(scope: Scope, headers: list[tuple[str, str]]) -> str:
    for name, value in headers:
        if name.lower() == "host":
            return value
    server = scope.get("server")
    return str(server[0]) if server else ""
