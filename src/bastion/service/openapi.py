"""JSON schemas of the scoring API, for the OpenAPI document (and the API fuzz test)."""

from __future__ import annotations

from typing import Any

HEADER_PAIR: dict[str, Any] = {
    "type": "array",
    "items": {"type": "string"},
    "minItems": 2,
    "maxItems": 2,
}

REQUEST_OBJECT: dict[str, Any] = {
    "type": "object",
    "description": (
        "One HTTP request as bastion sees it: method, URI as on the request line, ordered "
        "headers and body (text in `body`, or binary in `body_base64`)."
    ),
    "properties": {
        "id": {"description": "Caller's correlation id, echoed back."},
        "method": {"type": "string", "minLength": 1, "example": "GET"},
        "uri": {"type": "string", "example": "/search?q=shoes"},
        "url": {"type": "string", "description": "Alias of `uri`."},
        "headers": {
            "oneOf": [
                {"type": "array", "items": HEADER_PAIR},
                {"type": "object", "additionalProperties": {"type": "string"}},
            ]
        },
        "body": {"type": ["string", "null"]},
        "body_base64": {"type": "string", "format": "byte"},
    },
    "additionalProperties": False,
}

BATCH_OBJECT: dict[str, Any] = {
    "type": "object",
    "properties": {"requests": {"type": "array", "items": REQUEST_OBJECT}},
    "required": ["requests"],
    "additionalProperties": False,
}

SCORES: dict[str, Any] = {
    "type": "object",
    "description": "1 = almost certainly an attack, 99 = almost certainly clean, 100 = not scored.",
    "properties": {
        "score": {"type": "integer", "minimum": 1, "maximum": 100},
        "sqli": {"type": "integer", "minimum": 1, "maximum": 100},
        "xss": {"type": "integer", "minimum": 1, "maximum": 100},
        "rce": {"type": "integer", "minimum": 1, "maximum": 100},
        "class": {
            "type": "string",
            "enum": ["attack", "likely_attack", "likely_clean", "clean", "unscored"],
        },
        "explain": {"type": "object"},
        "truncated": {"type": "boolean"},
    },
    "required": ["score", "sqli", "xss", "rce", "class"],
}

VERDICT: dict[str, Any] = {
    "type": "object",
    "properties": {
        "id": {},
        "waf": SCORES,
        "action": {"type": "string", "enum": ["allow", "block", "challenge"]},
        "rule": {"type": "string"},
        "logged": {"type": "array", "items": {"type": "string"}},
        "error": {"type": "string"},
    },
}

ERROR: dict[str, Any] = {
    "type": "object",
    "properties": {"error": {"type": "string"}},
    "required": ["error"],
}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


SCORE_OPENAPI: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"oneOf": [REQUEST_OBJECT, BATCH_OBJECT]}}},
    },
    "responses": {
        "200": _json(
            {
                "oneOf": [
                    {
                        "type": "object",
                        "properties": {"model": {"type": "string"}, **VERDICT["properties"]},
                    },
                    {
                        "type": "object",
                        "properties": {
                            "model": {"type": "string"},
                            "results": {"type": "array", "items": VERDICT},
                        },
                    },
                ]
            },
            "Scores and rule decision (one request), or one entry per request (batch).",
        ),
        "400": _json(ERROR, "The body is not valid JSON, not UTF-8, or not a request."),
        "401": _json(ERROR, "Missing, unknown, revoked or expired API token."),
        "403": _json(ERROR, "The token's roles do not allow scoring."),
        "408": _json(ERROR, "The client did not send its body in time."),
        "413": _json(ERROR, "The body is larger than the limit."),
        "429": _json(ERROR, "The token's rate limit is exceeded; see Retry-After."),
    },
}
