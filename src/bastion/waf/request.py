"""The HTTP request as bastion sees it, and its JSON-lines form.

A request is the method, the URI exactly as on the request line (path and query),
the ordered header pairs and the body bytes. The JSON form used by the CLI and the
service is ``{"method", "uri", "headers": [[k, v], ...] or {k: v}, "body"}`` where
``body`` is a string (UTF-8 text) or absent/null; ``body_base64`` may carry binary.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

#: Largest body accepted in the JSON form; larger bodies are rejected, not truncated silently.
MAX_JSON_BODY_BYTES = 16 * 1024 * 1024


class RequestFormatError(ValueError):
    """A request object is malformed; the message names the offending field."""


@dataclass(frozen=True, slots=True)
class HttpRequest:
    """One HTTP request: method, request-line URI, ordered headers and body bytes."""

    method: str = "GET"
    uri: str = "/"
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def path(self) -> str:
        """The URI up to the first ``?`` (without fragment)."""
        return self.uri.split("?", 1)[0].split("#", 1)[0]

    @property
    def query(self) -> str:
        """The raw query string (after the first ``?``), or empty."""
        if "?" not in self.uri:
            return ""
        return self.uri.split("?", 1)[1].split("#", 1)[0]

    def header(self, name: str) -> str | None:
        """First value of a header, matched case-insensitively."""
        lname = name.lower()
        for key, value in self.headers:
            if key.lower() == lname:
                return value
        return None

    @classmethod
    def from_json(cls, obj: Any) -> HttpRequest:
        """Build a request from its JSON object form; raises :class:`RequestFormatError`."""
        if not isinstance(obj, Mapping):
            raise RequestFormatError(f"request must be a JSON object, got {type(obj).__name__}")
        method = obj.get("method", "GET")
        if not isinstance(method, str) or not method:
            raise RequestFormatError("'method' must be a non-empty string")
        uri = obj.get("uri", obj.get("url", "/"))
        if not isinstance(uri, str):
            raise RequestFormatError("'uri' must be a string")
        headers = _parse_headers(obj.get("headers"))
        body = _parse_body(obj)
        return cls(method=method.upper(), uri=uri or "/", headers=headers, body=body)

    def to_json(self) -> dict[str, Any]:
        """The JSON object form (body as text when it is valid UTF-8, else base64)."""
        out: dict[str, Any] = {
            "method": self.method,
            "uri": self.uri,
            "headers": [[k, v] for k, v in self.headers],
        }
        if self.body:
            try:
                out["body"] = self.body.decode("utf-8")
            except UnicodeDecodeError:
                out["body_base64"] = base64.b64encode(self.body).decode("ascii")
        return out


def _parse_headers(raw: Any) -> tuple[tuple[str, str], ...]:
    if type(raw) is list:
        # Fast path for the usual form, a list of [str, str] lists (the service parses
        # thousands per second); anything else takes the checked path below.
        try:
            pairs = tuple([(name, value) for name, value in raw])
        except (TypeError, ValueError):
            return _parse_headers_checked(raw)
        for pair, (name, value) in zip(raw, pairs, strict=True):
            if type(pair) is not list or type(name) is not str or type(value) is not str:
                return _parse_headers_checked(raw)
        return pairs
    return _parse_headers_checked(raw)


def _parse_headers_checked(raw: Any) -> tuple[tuple[str, str], ...]:
    if raw is None:
        return ()
    if isinstance(raw, Mapping):
        items = list(raw.items())
    elif isinstance(raw, list):
        items = []
        for i, pair in enumerate(raw):
            if not isinstance(pair, list | tuple) or len(pair) != 2:
                raise RequestFormatError(f"'headers[{i}]' must be a [name, value] pair")
            items.append((pair[0], pair[1]))
    else:
        raise RequestFormatError("'headers' must be a list of [name, value] pairs or an object")
    out: list[tuple[str, str]] = []
    for name, value in items:
        if not isinstance(name, str):
            raise RequestFormatError("header names must be strings")
        if isinstance(value, int | float) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            raise RequestFormatError(f"value of header {name!r} must be a string")
        out.append((name, value))
    return tuple(out)


def _parse_body(obj: Mapping[str, Any]) -> bytes:
    body = obj.get("body")
    b64 = obj.get("body_base64")
    if body is not None and b64 is not None:
        raise RequestFormatError("give 'body' or 'body_base64', not both")
    if b64 is not None:
        if not isinstance(b64, str):
            raise RequestFormatError("'body_base64' must be a string")
        try:
            data = base64.b64decode(b64, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise RequestFormatError(f"'body_base64' is not valid base64: {exc}") from None
    elif body is None:
        return b""
    elif isinstance(body, str):
        data = body.encode("utf-8", "surrogatepass")
    elif isinstance(body, dict | list):
        import json

        data = json.dumps(body, separators=(",", ":")).encode("utf-8")
    else:
        raise RequestFormatError("'body' must be a string, a JSON value or null")
    if len(data) > MAX_JSON_BODY_BYTES:
        raise RequestFormatError(
            f"'body' is {len(data)} bytes, larger than the {MAX_JSON_BODY_BYTES}-byte limit"
        )
    return data
