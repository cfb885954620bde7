"""Property-based API fuzzing: schemathesis generates calls from the OpenAPI schema.

Every generated call (valid and deliberately invalid bodies, headers and query strings)
must get a documented status and never a 5xx. Bounded: a fixed example budget per
operation and a deadline, so the suite stays fast.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from service_kit import Service, make_service

from bastion.waf.scorer import load_scorer

_service: Iterator[Service] = make_service(
    Path(__import__("tempfile").mkdtemp(prefix="bastion-fuzz-")), load_scorer()
)
SERVICE = next(_service)
#: Status codes seen per path: the fuzzer must reach both accepted and rejected calls.
STATUSES: dict[str, set[int]] = {}
schema = schemathesis.openapi.from_asgi("/openapi.json", SERVICE.client.app)
# Valid calls and deliberately invalid ones (wrong types, missing and extra fields).
schema.config.generation.update(modes=list(schemathesis.GenerationMode))


@schema.parametrize()
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_api_never_answers_5xx(case: schemathesis.Case) -> None:
    headers = {"Authorization": f"Bearer {SERVICE.admin}"}
    if case.path == "/v1/edge/check":
        headers["X-Original-URI"] = "/fuzz"
        headers["X-Original-Method"] = "GET"
    response = case.call(headers=headers)
    STATUSES.setdefault(case.path, set()).add(response.status_code)
    case.validate_response(response, checks=[not_a_server_error])
    assert response.status_code < 500, response.text


@pytest.fixture(scope="module", autouse=True)
def _close_service() -> Iterator[None]:
    yield
    _service.close()
    seen = STATUSES.get("/v1/waf/score", set())
    assert 200 in seen and 400 in seen, f"the fuzzer only produced {seen}"
