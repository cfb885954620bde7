"""uvicorn's httptools protocol with a deadline on the request head.

uvicorn bounds idle keep-alive connections but not a client that sends its request line
and headers slowly (slowloris): such a connection would be held forever. This protocol
answers 408 and closes the connection when a request head is not complete within the
configured ``request_timeout_s`` (the body deadline is enforced in the ASGI layer).
"""

from __future__ import annotations

import asyncio
import functools

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from bastion.config import load_settings

_TIMEOUT_RESPONSE = (
    b"HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\n"
    b"content-length: 53\r\nconnection: close\r\n\r\n"
    b'{"error": "the request head did not arrive in time"}\n'
)


@functools.cache
def head_timeout_s() -> float:
    """Seconds a client has to send a whole request head (the service's request timeout)."""
    return load_settings().request_timeout_s


class HeadTimeoutProtocol(HttpToolsProtocol):
    """:class:`HttpToolsProtocol` that closes connections whose request head is too slow."""

    _head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_head_timer()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._head_timer is None:
            self._arm_head_timer()

    def on_headers_complete(self) -> None:
        self._cancel_head_timer()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head_timer()
        super().connection_lost(exc)

    def _arm_head_timer(self) -> None:
        self._head_timer = self.loop.call_later(head_timeout_s(), self._head_timed_out)

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if not self.transport.is_closing():
            self.transport.write(_TIMEOUT_RESPONSE)
            self.transport.close()
