"""WSGI middleware: score each request, apply the rules, block or pass it on.

>>> from flask import Flask
>>> from bastion.middleware.wsgi import BastionWSGIMiddleware
>>> app = Flask(__name__)
>>> app.wsgi_app = BastionWSGIMiddleware(app.wsgi_app)  # doctest: +SKIP

The body is read from ``wsgi.input`` up to ``max_body_bytes`` for scoring and
``wsgi.input`` is replaced by a stream that gives the application the whole body: the
bytes already read, then the rest of the original stream.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any, BinaryIO, Protocol
from urllib.parse import quote

from bastion.analytics.record import JudgedBatch
from bastion.middleware.common import ACTION_HEADER, BLOCK_BODY, Guard
from bastion.rules import RuleSet
from bastion.waf.scorer import Scorer

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
WSGIApp = Callable[[Environ, StartResponse], Iterable[bytes]]

#: The environ key holding the :class:`~bastion.middleware.common.Verdict`.
ENVIRON_KEY = "bastion.decision"
_ACTION_ENVIRON = "HTTP_" + ACTION_HEADER.upper().replace("-", "_")
_CHUNK = 64 * 1024
#: A request target as sent on the wire (anything else was decoded by the server).
_REQUEST_TARGET = re.compile(r"[!-~]+")


class _Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


class BastionWSGIMiddleware:
    """WSGI middleware applying the WAF score and rules to every request.

    ``block`` answers ``block_status`` without calling the application; otherwise the
    application is called with the :class:`~bastion.middleware.common.Verdict` in
    ``environ["bastion.decision"]``; a challenge also sets ``HTTP_X_BASTION_ACTION`` to
    ``challenge`` (client-sent values are always removed) and adds the response header
    ``X-Bastion-Action: challenge``. ``expose_scores`` adds the score headers.
    ``observer`` (e.g. a started :class:`~bastion.service.analytics_log.RequestLog`) is
    called with every judged request.
    """

    def __init__(
        self,
        app: WSGIApp,
        *,
        scorer: Scorer | None = None,
        rules: RuleSet | None = None,
        max_body_bytes: int = 1 << 20,
        block_status: int = 403,
        expose_scores: bool = False,
        observer: Callable[[JudgedBatch], None] | None = None,
    ) -> None:
        self.app = app
        self.guard = Guard(
            scorer=scorer,
            rules=rules,
            max_body_bytes=max_body_bytes,
            block_status=block_status,
            expose_scores=expose_scores,
            observer=observer,
        )

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        limit = self.guard.max_body_bytes
        stream: BinaryIO | None = environ.get("wsgi.input")
        body, truncated, length = _read_prefix(environ, stream, limit)
        if stream is not None:
            remaining = None if length is None else length - len(body)
            environ["wsgi.input"] = ReplayInput(body, stream, remaining)
        headers = _headers(environ)
        verdict = self.guard.check(
            method=environ.get("REQUEST_METHOD", "GET"),
            uri=_request_uri(environ),
            path=_path(environ),
            host=_host(environ),
            headers=headers,
            body=body[:limit],
            body_truncated=truncated,
            client=environ.get("REMOTE_ADDR"),
        )
        environ.pop(_ACTION_ENVIRON, None)
        if verdict.decision.action == "block":
            start_response(self.guard.block_status_line, self.guard.block_headers(verdict))
            return [BLOCK_BODY]
        environ[ENVIRON_KEY] = verdict
        if verdict.decision.action == "challenge":
            environ[_ACTION_ENVIRON] = "challenge"
        extra = self.guard.response_headers(verdict)
        if not extra:
            return self.app(environ, start_response)

        def start_with_headers(status: str, headers: list[tuple[str, str]], *exc: Any) -> Any:
            return start_response(status, [*headers, *extra], *exc)

        return self.app(environ, start_with_headers)


def _read_prefix(
    environ: Environ, stream: _Readable | None, limit: int
) -> tuple[bytes, bool, int | None]:
    """Up to ``limit + 1`` body bytes (never past CONTENT_LENGTH), whether the body is longer
    than ``limit``, and the CONTENT_LENGTH (None when absent). Without CONTENT_LENGTH the
    body is read only when the server marks the stream as terminated
    (``wsgi.input_terminated``), as PEP 3333 requires."""
    try:
        length: int | None = max(0, int(environ.get("CONTENT_LENGTH") or ""))
    except ValueError:
        length = None
    if stream is None:
        return b"", False, length
    if length is None:
        if not environ.get("wsgi.input_terminated"):
            return b"", False, None
        want = limit + 1
    else:
        want = min(length, limit + 1)
    chunks: list[bytes] = []
    got = 0
    while got < want:
        chunk = stream.read(min(want - got, _CHUNK))
        if not chunk:
            break
        chunks.append(chunk)
        got += len(chunk)
    body = b"".join(chunks)
    truncated = len(body) > limit or (length is not None and length > limit)
    return body, truncated, length


class ReplayInput:
    """A ``wsgi.input`` that yields ``prefix`` and then the rest of ``stream``.

    ``remaining`` is how many bytes the stream still holds (CONTENT_LENGTH minus the
    prefix) when known: the stream is never read past it, so a read at the end of the body
    returns ``b""`` instead of waiting on the connection. Reads return as many bytes as
    asked for unless the body ends first, like a buffered file.
    """

    def __init__(self, prefix: bytes, stream: BinaryIO, remaining: int | None = None) -> None:
        self._prefix = prefix
        self._pos = 0
        self._stream = stream
        self._remaining = remaining

    def _from_stream(self, size: int) -> bytes:
        if self._remaining is not None:
            size = self._remaining if size < 0 else min(size, self._remaining)
            if size == 0:
                return b""
        data = self._stream.read(size) if size >= 0 else self._stream.read()
        if self._remaining is not None:
            self._remaining -= len(data)
        return data

    def _line_from_stream(self, size: int) -> bytes:
        if self._remaining is not None:
            size = self._remaining if size < 0 else min(size, self._remaining)
            if size == 0:
                return b""
        data = self._stream.readline(size) if size >= 0 else self._stream.readline()
        if self._remaining is not None:
            self._remaining -= len(data)
        return data

    def read(self, size: int | None = -1, /) -> bytes:
        size = -1 if size is None else size
        end = len(self._prefix) if size < 0 else min(len(self._prefix), self._pos + size)
        head = self._prefix[self._pos : end]
        self._pos = end
        if size < 0:
            return head + self._from_stream(-1)
        if len(head) < size:
            return head + self._from_stream(size - len(head))
        return head

    def readline(self, size: int | None = -1, /) -> bytes:
        size = -1 if size is None else size
        if self._pos >= len(self._prefix):
            return self._line_from_stream(size)
        limit = len(self._prefix) if size < 0 else min(len(self._prefix), self._pos + size)
        newline = self._prefix.find(b"\n", self._pos, limit)
        stop = limit if newline == -1 else newline + 1
        line = self._prefix[self._pos : stop]
        self._pos = stop
        if newline != -1 or self._pos < len(self._prefix) or len(line) == size:
            return line
        # The prefix ended inside the line: the rest of it comes from the stream.
        return line + self._line_from_stream(-1 if size < 0 else size - len(line))

    def readlines(self, hint: int = -1, /) -> list[bytes]:
        lines: list[bytes] = []
        total = 0
        while hint <= 0 or total < hint:
            line = self.readline()
            if not line:
                break
            lines.append(line)
            total += len(line)
        return lines

    def readinto(self, buffer: bytearray | memoryview) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def __iter__(self) -> ReplayInput:
        return self

    def __next__(self) -> bytes:
        line = self.readline()
        if not line:
            raise StopIteration
        return line

    def close(self) -> None:
        close = getattr(self._stream, "close", None)
        if close is not None:
            close()


def _headers(environ: Environ) -> list[tuple[str, str]]:
    """Request headers from the environ, names lower-cased as on the wire (order is that of
    the environ, which WSGI does not define beyond the server's)."""
    out: list[tuple[str, str]] = []
    for key, value in environ.items():
        if key.startswith("HTTP_") and isinstance(value, str):
            out.append((key[5:].replace("_", "-").lower(), value))
        elif key in ("CONTENT_TYPE", "CONTENT_LENGTH") and value:
            out.append((key.replace("_", "-").lower(), str(value)))
    return out


def _request_uri(environ: Environ) -> str:
    """Path and query as on the request line: RAW_URI / REQUEST_URI when the server gives a
    plausible one (printable ASCII), else rebuilt from SCRIPT_NAME, PATH_INFO; QUERY_STRING
    is appended when the server's value lacks it."""
    query = environ.get("QUERY_STRING") or ""
    for key in ("RAW_URI", "REQUEST_URI"):
        raw = environ.get(key)
        if isinstance(raw, str) and _REQUEST_TARGET.fullmatch(raw):
            return f"{raw}?{query}" if query and "?" not in raw else raw
    path = _path(environ)
    uri = quote(path.encode("utf-8", "surrogateescape"), safe="/:@!$&'()*+,;=-._~")
    return f"{uri}?{query}" if query else uri


def _path(environ: Environ) -> str:
    """SCRIPT_NAME + PATH_INFO, decoded as UTF-8 (WSGI hands them over as latin-1)."""
    raw = (environ.get("SCRIPT_NAME") or "") + (environ.get("PATH_INFO") or "")
    return raw.encode("latin-1", "replace").decode("utf-8", "replace") or "/"


def _host(environ: Environ) -> str:
    host = environ.get("HTTP_HOST")
    if host:
        return str(host)
    return str(environ.get("SERVER_NAME") or "")
