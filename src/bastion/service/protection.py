"""Outermost ASGI layer: bounds on request bodies and slow clients, metrics, error shape.

Pure ASGI (no per-request task or body copy), because it wraps every request:
- a body above ``max_body_bytes`` is answered 413, by its Content-Length before reading or
  while streaming when there is none;
- a client that has not delivered its whole body within ``timeout_s`` gets 408;
- any exception that escapes the application is answered 500 with a request id logged,
  never with a traceback to the client;
- every response is counted and timed per route template.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import orjson

from bastion.service import metrics

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

log = logging.getLogger("bastion.service")


class _BodyTooLarge(Exception):
    pass


class _ClientTooSlow(Exception):
    pass


async def send_json(
    send: Send, status: int, payload: Any, headers: tuple[tuple[bytes, bytes], ...] = ()
) -> None:
    """Send a complete JSON response."""
    body = orjson.dumps(payload)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def route_label(path: str, routes: frozenset[str]) -> str:
    """A bounded metrics label: the path when it is a known route, else ``other``."""
    return path if path in routes else "other"


class ProtectionMiddleware:
    """Body-size and slow-client bounds, metrics and a last-resort 500 for the service."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int,
        timeout_s: float,
        routes: frozenset[str],
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.timeout_s = timeout_s
        self.routes = routes
        self._counters: dict[tuple[str, str, int], Any] = {}
        self._histograms: dict[str, Any] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        route = route_label(scope["path"], self.routes)
        status_holder = [0]

        declared = _content_length(scope)
        if declared is not None and declared > self.max_body_bytes:
            await self._reject(send, 413, self._too_large_message(), status_holder)
            self._observe(scope, route, status_holder[0], started)
            return

        deadline = started + self.timeout_s
        received = 0
        body_done = False
        max_body = self.max_body_bytes

        async def bounded_receive() -> Message:
            nonlocal received, body_done
            if body_done:  # only the body has a deadline; later reads wait for a disconnect
                return await receive()
            if time.perf_counter() >= deadline:
                raise _ClientTooSlow
            # asyncio.timeout, unlike wait_for, needs no extra task per read.
            try:
                async with asyncio.timeout(deadline - time.perf_counter()):
                    message = await receive()
            except TimeoutError:
                raise _ClientTooSlow from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > max_body:
                    raise _BodyTooLarge
                body_done = not message.get("more_body", False)
            return message

        async def tracking_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, bounded_receive, tracking_send)
        except _BodyTooLarge:
            await self._reject(send, 413, self._too_large_message(), status_holder)
        except _ClientTooSlow:
            await self._reject(
                send,
                408,
                f"the request body did not arrive within {self.timeout_s:g} seconds",
                status_holder,
            )
        except Exception:
            request_id = uuid.uuid4().hex[:12]
            log.exception("unhandled error, request id %s, route %s", request_id, route)
            await self._reject(
                send, 500, f"internal error (request id {request_id})", status_holder
            )
        finally:
            self._observe(scope, route, status_holder[0], started)

    def _too_large_message(self) -> str:
        return f"request body is larger than the {self.max_body_bytes}-byte limit"

    @staticmethod
    async def _reject(send: Send, status: int, message: str, status_holder: list[int]) -> None:
        if status_holder[0]:
            return  # the response already started; nothing sensible can be sent now
        status_holder[0] = status
        extra = ((b"connection", b"close"),) if status in (408, 413) else ()
        await send_json(send, status, {"error": message}, extra)

    def _observe(self, scope: Scope, route: str, status: int, started: float) -> None:
        key = (route, scope["method"], status or 500)
        counter = self._counters.get(key)
        if counter is None:
            counter = metrics.HTTP_REQUESTS.labels(route, key[1], str(key[2]))
            if len(self._counters) < 10_000:  # methods and statuses are client-chosen
                self._counters[key] = counter
        counter.inc()
        histogram = self._histograms.get(route)
        if histogram is None:
            histogram = self._histograms[route] = metrics.HTTP_LATENCY.labels(route)
        histogram.observe(time.perf_counter() - started)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
