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


SECURITY_SCHEMES: dict[str, Any] = {
    "bearer": {"type": "http", "scheme": "bearer", "description": "bastion API token (bst_...)"},
    "edgeToken": {"type": "apiKey", "in": "header", "name": "X-Bastion-Token"},
}

SCORE_OPERATION: dict[str, Any] = {
    "tags": ["waf"],
    "summary": "Score one HTTP request, or a batch of them",
    "description": (
        "Attack scores (1-99 per vector, 1 = attack) and the rules' decision. Send one "
        'request object (the same JSON as `bastion waf score`), or `{"requests": [...]}` '
        "for a batch; each batch item is answered in order, a malformed item with an "
        "`error` instead of scores. Needs a token with the `waf.score` permission."
    ),
    "operationId": "waf_score",
    "security": [{"bearer": []}],
    "parameters": [
        {
            "name": "explain",
            "in": "query",
            "required": False,
            "schema": {"type": "boolean", "default": False},
            "description": "Add which request part and text drove each head's score.",
        }
    ],
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

EDGE_OPERATION: dict[str, Any] = {
    "tags": ["edge"],
    "summary": "nginx auth_request check of the original request",
    "description": (
        "Scores the request nginx is about to proxy: 204 lets it through, 403 blocks it. "
        "nginx sends the original method and URI in `X-Original-Method` and "
        "`X-Original-URI` and the client's headers as they came; the scores come back in "
        "`X-Bastion-Score`, `-Sqli`, `-Xss`, `-Rce`, `-Class`, the decision in "
        "`X-Bastion-Action` (and `X-Bastion-Rule`). See deploy/nginx/."
    ),
    "operationId": "edge_check",
    "security": [{"edgeToken": []}, {"bearer": []}],
    "parameters": [
        {"name": "X-Original-URI", "in": "header", "required": True, "schema": {"type": "string"}},
        {
            "name": "X-Original-Method",
            "in": "header",
            "required": True,
            "schema": {"type": "string", "pattern": "^[A-Za-z]{1,32}$"},
        },
    ],
    "responses": {
        "204": {"description": "Pass; scores in the X-Bastion-* headers."},
        "403": {"description": "Blocked by a rule; scores in the X-Bastion-* headers."},
        "400": _json(ERROR, "X-Original-URI or X-Original-Method missing (nginx config)."),
        "401": _json(ERROR, "Missing, unknown, revoked or expired API token."),
    },
}

#: OpenAPI path items of the endpoints served as plain Starlette routes.
HOT_PATHS: dict[str, Any] = {
    "/v1/waf/score": {"post": SCORE_OPERATION},
    "/v1/edge/check": {"get": EDGE_OPERATION},
}
