"""Pure ASGI middleware that adds the script monitor's report-only CSP header to a sample
of HTML responses, so browsers report the scripts and connections of the site's pages.

>>> from fastapi import FastAPI
>>> from bastion.middleware.csp import CspReportOnlyMiddleware
>>> app = FastAPI()
>>> app.add_middleware(
...     CspReportOnlyMiddleware,
...     endpoint="https://bastion.example/v1/csp/reports/shop.example",
...     sample_rate=0.05,
... )  # doctest: +SKIP

Only responses whose ``Content-Type`` is HTML get it (a policy on an image or a JSON
answer does nothing), and never one that already carries a report-only policy of the
site's own. :class:`~bastion.middleware.asgi.BastionMiddleware` takes the same
:class:`~bastion.scripts.monitor.header.ReportOnlyHeader` as ``csp_report_only=``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from bastion.scripts.monitor.header import ReportOnlyHeader

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_HTML_TYPES = (b"text/html", b"application/xhtml+xml")


def report_only_send(send: Send, header: ReportOnlyHeader, *, html_only: bool = True) -> Send:
    """``send`` that adds ``header``'s headers to the response start when sampled."""

    async def send_with_csp(message: Message) -> None:
        if message["type"] == "http.response.start":
            raw: list[tuple[bytes, bytes]] = list(message.get("headers", []))
            if not html_only or _is_html(raw):
                existing = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in raw]
                extra = header.headers_for_response(existing)
                if extra:
                    added = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in extra]
                    message = {**message, "headers": [*raw, *added]}
        await send(message)

    return send_with_csp


def _is_html(headers: list[tuple[bytes, bytes]]) -> bool:
    for name, value in headers:
        if name.lower() == b"content-type":
            return value.split(b";", 1)[0].strip().lower() in _HTML_TYPES
    return False


class CspReportOnlyMiddleware:
    """Adds ``Content-Security-Policy-Report-Only`` and ``Reporting-Endpoints`` to
    ``sample_rate`` of HTML responses (or of all responses with ``html_only=False``)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        endpoint: str | None = None,
        sample_rate: float = 0.1,
        header: ReportOnlyHeader | None = None,
        html_only: bool = True,
    ) -> None:
        if header is None:
            if endpoint is None:
                raise ValueError("pass the report endpoint (or a ReportOnlyHeader)")
            header = ReportOnlyHeader(endpoint, sample_rate)
        self.app = app
        self.header = header
        self.html_only = html_only

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.app(
            scope, receive, report_only_send(send, self.header, html_only=self.html_only)
        )
