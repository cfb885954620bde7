"""Property-based API fuzzing: schemathesis generates calls from the OpenAPI schema.

Every generated call (valid and deliberately invalid bodies, headers and query strings)
must get a documented status and never a 5xx. Bounded: a fixed example budget per
operation and no shrinking deadline, so the suite stays fast.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from bastion.auth import TokenStore
from bastion.config import load_settings
from bastion.service.app import create_app
from bastion.store.db import Database
from bastion.waf.scorer import load_scorer

#: Status codes seen per path: the fuzzer must reach both accepted and rejected calls.
STATUSES: dict[str, set[int]] = {}

# schemathesis needs the app when the module is imported: build it without starting
# anything (no test client, no threads), with a real SQLite database and a real token.
_DB_URL = f"sqlite:///{Path(tempfile.mkdtemp(prefix='bastion-fuzz-')) / 'fuzz.db'}"
_database = Database(_DB_URL)
_database.upgrade()
ADMIN = TokenStore(_database).create("fuzz", ["admin"]).token
_database.dispose()
APP = create_app(load_settings(None, database_url=_DB_URL), scorer=load_scorer())


@schemathesis.serializer("application/x-ndjson")
def _ndjson(ctx: object, value: object) -> bytes:
    """The content batch scan takes JSON lines: each generated object becomes one line."""
    items = value if isinstance(value, list) else [value]
    return b"".join(json.dumps(item, default=str).encode() + b"\n" for item in items)


@schemathesis.serializer("application/csp-report", "application/reports+json")
def _json_report(ctx: object, value: object) -> bytes:
    """Browsers' CSP violation reports are JSON under their own media types."""
    return json.dumps(value, default=str).encode()


schema = schemathesis.openapi.from_asgi("/openapi.json", APP)
# Valid calls and deliberately invalid ones (wrong types, missing and extra fields).
schema.config.generation.update(modes=list(schemathesis.GenerationMode))


@pytest.fixture(scope="module", autouse=True)
def _fuzzer_reached_both_outcomes() -> Iterator[None]:
    yield
    seen = STATUSES.get("/v1/waf/score", set())
    assert 200 in seen and 400 in seen, f"the fuzzer only produced {seen}"


@schema.parametrize()
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_api_never_answers_5xx(case: schemathesis.Case) -> None:
    headers = {"Authorization": f"Bearer {ADMIN}"}
    if case.path == "/v1/edge/check":
        headers["X-Original-URI"] = "/fuzz"
        headers["X-Original-Method"] = "GET"
    response = case.call(headers=headers)
    STATUSES.setdefault(case.path, set()).add(response.status_code)
    case.validate_response(response, checks=[not_a_server_error])
    assert response.status_code < 500, response.text
