"""Response helpers shared by the service's routers."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi.responses import Response


def json_response(
    payload: Any, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    """``payload`` as an ``application/json`` response (serialized with orjson)."""
    return Response(orjson.dumps(payload), status, headers, media_type="application/json")
