"""nginx ``auth_request`` integration: rebuild the original request, answer 204 or 403.

nginx runs the check as a subrequest before proxying. The subrequest carries the client's
headers unchanged plus a few that nginx adds (see ``deploy/nginx/bastion.conf``): the
original method and URI, and bastion's own token. Those added headers are removed before
scoring, so the score is the score of the request the client sent.
"""

from __future__ import annotations

from collections.abc import Iterable

from bastion.service.scoring import Verdict
from bastion.waf.request import HttpRequest

EDGE_PATH = "/v1/edge/check"
#: nginx sends the subrequest with the original method for some set-ups; accept them all.
EDGE_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
ORIGINAL_URI = b"x-original-uri"
ORIGINAL_METHOD = b"x-original-method"
#: Headers nginx adds to the subrequest; not part of the client's request.
ADDED_BY_NGINX = frozenset(
    {
        ORIGINAL_URI,
        ORIGINAL_METHOD,
        b"x-bastion-token",
        b"x-bastion-country",
        b"content-length",
        b"connection",
    }
)
_MAX_METHOD = 32
#: The answer for a URL blocked by content scanning: nginx turns this 403 into 451
#: (``auth_request`` passes only 2xx, 401 and 403 on; see deploy/nginx/bastion-site.conf).
CONTENT_BLOCK_HEADERS = [(b"x-bastion-action", b"content-block")]


class EdgeRequestError(ValueError):
    """The subrequest lacks what the edge check needs (a misconfigured nginx)."""


def original_request(headers: Iterable[tuple[bytes, bytes]], body: bytes) -> HttpRequest:
    """The client's request as nginx described it in the subrequest."""
    uri = method = None
    kept: list[tuple[str, str]] = []
    for name, value in headers:
        if name == ORIGINAL_URI:
            uri = value.decode("latin-1")
        elif name == ORIGINAL_METHOD:
            method = value.decode("latin-1")
        elif name not in ADDED_BY_NGINX:
            kept.append((name.decode("latin-1"), value.decode("latin-1")))
    if uri is None:
        raise EdgeRequestError(
            "X-Original-URI is missing: nginx must send "
            "'proxy_set_header X-Original-URI $request_uri;' (see deploy/nginx/bastion.conf)"
        )
    if not method or len(method) > _MAX_METHOD or not method.isalpha():
        raise EdgeRequestError("X-Original-Method is missing or not an HTTP method")
    return HttpRequest(method.upper(), uri or "/", tuple(kept), body)


def edge_answer(verdict: Verdict, model_version: str) -> tuple[int, list[tuple[bytes, bytes]]]:
    """204 (pass) or 403 (block), with the scores in ``X-Bastion-*`` headers."""
    result, decision = verdict.result, verdict.decision
    headers = [
        (b"x-bastion-score", str(result.score).encode()),
        (b"x-bastion-sqli", str(result.sqli).encode()),
        (b"x-bastion-xss", str(result.xss).encode()),
        (b"x-bastion-rce", str(result.rce).encode()),
        (b"x-bastion-class", result.cls.encode()),
        (b"x-bastion-action", decision.action.encode()),
        (b"x-bastion-model", model_version.encode()),
    ]
    if decision.rule_id is not None:
        headers.append((b"x-bastion-rule", decision.rule_id.encode()))
    return (403 if decision.action == "block" else 204), headers
