"""The two per-request endpoints in raw ASGI: ``POST /v1/waf/score`` and the edge check.

They carry the traffic, and Starlette's routing and request objects cost about half as
much again as scoring a request, so they are answered here, in front of the FastAPI app,
which serves everything else (their OpenAPI entries are in :mod:`bastion.service.openapi`).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

import orjson
from starlette.concurrency import run_in_threadpool

from bastion.auth import Permission
from bastion.service import edge
from bastion.service.abuse_edge import EdgeEnforcement
from bastion.service.blocked import BlockedUrls, edge_target
from bastion.service.protection import ASGIApp, Receive, Scope, Send, send_json
from bastion.service.scoring import (
    ScoreInputError,
    ScoringService,
    parse_score_body,
    verdict_json,
)
from bastion.service.security import AccessDenied, Gate

SCORE_PATH = "/v1/waf/score"
#: Batches larger than this are scored on a worker thread so the event loop stays responsive.
#: Below it, scoring inline is faster: the thread hop costs more than it saves under the GIL
#: (batches of 100: 18.6k vs 15-17k scored/s over HTTP), and 256 requests take ~6 ms.
INLINE_BATCH = 256
_SCORE = Permission("waf.score")
_TRUE = frozenset({"1", "true", "yes"})


class _Disconnected(Exception):
    pass


async def read_body(receive: Receive) -> bytes:
    """The whole request body (size and time bounds are enforced by the outer layer)."""
    message = await receive()
    if message["type"] == "http.disconnect":
        raise _Disconnected
    body: bytes = message.get("body", b"")
    if not message.get("more_body", False):
        return body
    chunks = [body]
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _Disconnected
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _send_response(
    send: Send, status: int, body: bytes = b"", headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    all_headers = headers or []
    if body or status != 204:
        all_headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            *all_headers,
        ]
    await send({"type": "http.response.start", "status": status, "headers": all_headers})
    await send({"type": "http.response.body", "body": body})


class HotPaths:
    """Answers the scoring and edge endpoints; passes every other request to ``app``."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        gate: Gate,
        scoring: ScoringService,
        max_batch: int,
        blocked: BlockedUrls | None = None,
        enforcement: EdgeEnforcement | None = None,
    ):
        self.app = app
        self.gate = gate
        self.scoring = scoring
        self.max_batch = max_batch
        self.blocked = blocked
        self.enforcement = enforcement

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path = scope["path"]
            if path == SCORE_PATH:
                await self._guarded(self._score, ("POST",), scope, receive, send)
                return
            if path == edge.EDGE_PATH:
                await self._guarded(self._edge, edge.EDGE_METHODS, scope, receive, send)
                return
        await self.app(scope, receive, send)

    async def _guarded(
        self, handler: Any, methods: tuple[str, ...], scope: Scope, receive: Receive, send: Send
    ) -> None:
        if scope["method"] not in methods:
            allow = ", ".join(methods).encode()
            body = orjson.dumps({"error": f"method {scope['method']} is not allowed here"})
            await _send_response(send, 405, body, [(b"allow", allow)])
            return
        try:
            self.gate.check(scope["headers"], _SCORE)
            body = await read_body(receive)
        except AccessDenied as exc:
            extra = tuple((k.lower().encode(), v.encode()) for k, v in exc.headers.items())
            await send_json(send, exc.status, {"error": exc.message}, extra)
            return
        except _Disconnected:
            return
        await handler(scope, body, send)

    async def _score(self, scope: Scope, raw: bytes, send: Send) -> None:
        query = scope.get("query_string", b"")
        explain = bool(query) and any(
            k == "explain" and v.lower() in _TRUE for k, v in parse_qsl(query.decode("latin-1"))
        )
        try:
            items, is_batch = parse_score_body(raw, max_batch=self.max_batch)
        except ScoreInputError as exc:
            await _send_response(send, 400, orjson.dumps({"error": str(exc)}))
            return
        good = [item.request for item in items if item.request is not None]
        if len(good) > INLINE_BATCH:
            verdicts = await run_in_threadpool(self.scoring.judge, good, explain=explain)
        else:
            verdicts = self.scoring.judge(good, explain=explain)
        version = self.scoring.version
        if not is_batch:
            payload = {"model": version, **verdict_json(verdicts[0], items[0].item_id)}
        else:
            it = iter(verdicts)
            results = [
                verdict_json(next(it), item.item_id)
                if item.request is not None
                else item.error_json()
                for item in items
            ]
            payload = {"model": version, "results": results}
        await _send_response(send, 200, orjson.dumps(payload))

    async def _edge(self, scope: Scope, body: bytes, send: Send) -> None:
        try:
            original = edge.original_request(scope["headers"], body)
        except edge.EdgeRequestError as exc:
            await _send_response(send, 400, orjson.dumps({"error": str(exc)}))
            return
        if self.blocked is not None:
            host = next((v for k, v in scope["headers"] if k == b"host"), None)
            if self.blocked.is_blocked(*edge_target(host, original.uri)):
                await _send_response(send, 403, b"", edge.CONTENT_BLOCK_HEADERS)
                return
        if self.enforcement is not None:
            # Legal orders and abuse case actions: 403 (nginx answers 451) or 401 (nginx
            # serves the interstitial warning page).
            enforced = self.enforcement.answer(scope["headers"], original.uri)
            if enforced is not None:
                await _send_response(send, enforced[0], b"", enforced[1])
                return
        verdict = self.scoring.judge([original], source="edge")[0]
        status, headers = edge.edge_answer(verdict, verdict.model or self.scoring.version)
        await _send_response(send, status, b"", headers)
