"""Between the protobuf messages of ``bastion.v1`` and the WAF's own types."""

from __future__ import annotations

import dataclasses
import re

from bastion.service.grpc.v1 import waf_pb2 as pb
from bastion.waf.request import MAX_JSON_BODY_BYTES, HttpRequest, RequestFormatError
from bastion.waf.result import WafResult

_SURROGATE = re.compile("[\ud800-\udfff]")


def to_http_request(msg: pb.HttpRequest) -> HttpRequest:
    """The request a message describes, validated as the JSON form is.

    Raises :class:`RequestFormatError`. Proto3 strings cannot be absent, so an empty
    ``method`` is rejected like an empty one in JSON (it never means GET).
    """
    head = HttpRequest.from_json(
        {
            "method": msg.method,
            "uri": msg.uri,
            "headers": [[h.name, h.value] for h in msg.headers],
        }
    )
    body = msg.body
    if not body:
        return head
    # The JSON form carries the body as text or base64; here it is bytes, so only the
    # size rule of HttpRequest.from_json applies.
    if len(body) > MAX_JSON_BODY_BYTES:
        raise RequestFormatError(
            f"'body' is {len(body)} bytes, larger than the {MAX_JSON_BODY_BYTES}-byte limit"
        )
    return dataclasses.replace(head, body=body)


def to_proto_request(request: HttpRequest) -> pb.HttpRequest:
    """The message for a request (what a client sends)."""
    return pb.HttpRequest(
        method=_text(request.method),
        uri=_text(request.uri),
        headers=[pb.Header(name=_text(k), value=_text(v)) for k, v in request.headers],
        body=request.body,
    )


def _text(value: str) -> str:
    """``value`` as protobuf can send it: lone surrogates (not UTF-8) become U+FFFD."""
    if value.isascii():
        return value
    return _SURROGATE.sub("\ufffd", value)


def to_score_result(item_id: str, result: WafResult, model_version: str) -> pb.ScoreResult:
    """The message for one scored request (explanations in head order when present)."""
    explanations = [
        pb.Explanation(
            head=head, location=_text(e.location), snippet=_text(e.snippet), score=e.score
        )
        for head, e in (result.explanations or {}).items()
    ]
    return pb.ScoreResult(
        id=item_id,
        score=result.score,
        sqli=result.sqli,
        xss=result.xss,
        rce=result.rce,
        explanations=explanations,
        truncated=result.truncated,
        model_version=model_version,
        # `class` is a Python keyword: the field is only reachable by name.
        **{"class": result.cls},
    )


def error_result(item_id: str, error: str, model_version: str) -> pb.ScoreResult:
    """The message for a request that could not be scored: ``error`` set, scores 0."""
    return pb.ScoreResult(id=item_id, model_version=model_version, error=error)
