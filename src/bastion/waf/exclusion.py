"""Parameter exclusions: a request with named parameters left out, and exclusions proposed
from a false positive's explanation.

An exclusion names a parameter as rules write it (``exclude`` rules' ``param``):

* ``q``: the query parameter ``q``, the form field ``q`` of a URL-encoded body, and the
  top-level key ``q`` of a JSON object body;
* ``cookie:sid``: the cookie ``sid``.

Everything else in the request is kept byte for byte, so the rest is scored as before.
Multipart fields are not removed (a known limit: the exclusion then has no effect there).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any
from urllib.parse import unquote_plus

from bastion.waf.request import HttpRequest

COOKIE_PREFIX = "cookie:"


def without_params(request: HttpRequest, params: Sequence[str]) -> HttpRequest:
    """``request`` without the named parameters (the same object when none is present)."""
    args = frozenset(p for p in params if not p.startswith(COOKIE_PREFIX))
    cookies = frozenset(p[len(COOKIE_PREFIX) :] for p in params if p.startswith(COOKIE_PREFIX))
    uri, headers, body = request.uri, request.headers, request.body
    if args:
        path, sep, rest = uri.partition("?")
        if sep:
            query, hash_, fragment = rest.partition("#")
            kept = _drop_pairs(query, "&", args)
            if kept != query:
                uri = f"{path}?{kept}{hash_}{fragment}" if kept else path + hash_ + fragment
        body = _body_without(request, args)
    if cookies:
        headers = tuple(
            (name, _drop_cookies(value, cookies)) if name.lower() == "cookie" else (name, value)
            for name, value in headers
        )
    if uri == request.uri and headers == request.headers and body == request.body:
        return request
    return replace(request, uri=uri, headers=headers, body=body)


def _drop_pairs(text: str, separator: str, names: frozenset[str]) -> str:
    parts = text.split(separator)
    kept = [p for p in parts if unquote_plus(p.split("=", 1)[0]).strip() not in names]
    return separator.join(kept) if len(kept) != len(parts) else text


def _drop_cookies(value: str, names: frozenset[str]) -> str:
    parts = value.split(";")
    kept = [p for p in parts if p.split("=", 1)[0].strip() not in names]
    return ";".join(kept).strip() if len(kept) != len(parts) else value


def _body_without(request: HttpRequest, names: frozenset[str]) -> bytes:
    body = request.body
    if not body:
        return body
    content_type = (request.header("content-type") or "").lower()
    if "application/x-www-form-urlencoded" in content_type:
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return body
        kept = _drop_pairs(text, "&", names)
        return body if kept == text else kept.encode("utf-8")
    if "json" in content_type or body.lstrip()[:1] == b"{":
        try:
            doc = json.loads(body)
        except (ValueError, RecursionError):
            return body
        if isinstance(doc, dict) and names & doc.keys():
            kept_doc = {k: v for k, v in doc.items() if k not in names}
            return json.dumps(kept_doc, ensure_ascii=False, separators=(",", ":")).encode()
    return body


def param_of_location(location: str) -> str | None:
    """The exclusion parameter for an explanation's location, or ``None`` when the place
    cannot be excluded narrowly (the path, a header, a raw body, a parameter's name)."""
    kind, _, rest = location.partition(":")
    if kind == "query" and rest:
        return rest
    if kind == "cookie" and rest:
        return COOKIE_PREFIX + rest
    if kind == "body":
        sub, _, name = rest.partition(":")
        if sub == "form" and name:
            return name
        if sub == "json" and name.startswith("$"):
            return _json_top_key(name)
    return None


def _json_top_key(path: str) -> str | None:
    """``a`` for ``$.a.b[0]`` and ``k`` for ``$['k'][1]``."""
    rest = path[1:]
    if rest.startswith("."):
        key = rest[1:].split(".", 1)[0].split("[", 1)[0]
        return key or None
    if rest.startswith("['"):
        end = rest.find("']")
        return rest[2:end] if end > 2 else None
    return None


def proposal_location(explanations: Mapping[str, Any]) -> str | None:
    """The location that drove a request's lowest (most attack-like) score."""
    best: tuple[int, str] | None = None
    for head, item in explanations.items():
        if head == "global" or not isinstance(item, Mapping):
            continue
        score, location = item.get("score"), item.get("location")
        is_lower = isinstance(score, int) and (best is None or score < best[0])
        if is_lower and isinstance(location, str):
            best = (int(score), location)  # type: ignore[arg-type]
    if best is None:
        item = explanations.get("global")
        if isinstance(item, Mapping) and isinstance(item.get("location"), str):
            return str(item["location"])
        return None
    return best[1]
