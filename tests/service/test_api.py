"""The HTTP API in process: scoring, rules, errors, auth, health and metrics."""

from __future__ import annotations

from pathlib import Path

import orjson
from service_kit import Service, make_service

from bastion.waf.request import HttpRequest
from bastion.waf.scorer import Scorer

ATTACK = {"method": "GET", "uri": "/search?q=1'%20union%20select%20password%20from%20users--"}
CLEAN = {
    "method": "GET",
    "uri": "/search?q=blue+running+shoes",
    "headers": [["Host", "shop.example"]],
}


def score(service: Service, payload: object, token: str | None = None, **params: str):  # type: ignore[no-untyped-def]
    return service.client.post(
        "/v1/waf/score",
        content=orjson.dumps(payload),
        headers=service.auth(token or service.ingest),
        params=params,
    )


def test_single_attack_is_scored_and_blocked_by_default_rules(
    service: Service, scorer: Scorer
) -> None:
    r = score(service, ATTACK)
    assert r.status_code == 200, r.text
    body = r.json()
    expected = scorer.score(HttpRequest.from_json(ATTACK))
    assert body["waf"]["score"] == expected.score <= 20
    assert body["waf"]["sqli"] == expected.sqli
    assert body["waf"]["class"] == "attack"
    assert body["action"] == "block" and body["rule"]
    assert body["model"] == scorer.version


def test_clean_request_is_allowed(service: Service) -> None:
    body = score(service, CLEAN).json()
    assert body["waf"]["score"] > 80 and body["action"] == "allow" and "rule" not in body


def test_explain_names_the_part(service: Service) -> None:
    body = score(service, ATTACK, explain="true").json()
    assert "explain" in body["waf"]
    assert any("query" in e["location"] for e in body["waf"]["explain"].values())


def test_batch_keeps_order_ids_and_reports_bad_items(service: Service) -> None:
    payload = {
        "requests": [
            {**ATTACK, "id": "a"},
            {"method": 7, "id": "bad"},
            {**CLEAN, "id": 3},
            {"uri": "/", "colour": "red"},
        ]
    }
    r = score(service, payload)
    assert r.status_code == 200
    results = r.json()["results"]
    assert [x.get("id") for x in results] == ["a", "bad", 3, None]
    assert results[0]["action"] == "block" and results[2]["action"] == "allow"
    assert "method" in results[1]["error"]
    assert "'colour'" in results[3]["error"]


def test_malformed_bodies_get_400_saying_why(service: Service) -> None:
    headers = service.auth(service.ingest)
    cases = {
        b"": "empty",
        b"{not json": "not valid JSON",
        b'{"uri": "/\xff\xfe"}': "JSON",
        b"[1, 2]": "JSON object",
        b'{"uri": "/", "extra": 1}': "'extra'",
        b'{"requests": {}}': "list",
        b'{"requests": [], "x": 1}': "'x'",
        b'{"headers": [["a"]]}': "headers[0]",
    }
    for raw, needle in cases.items():
        r = service.client.post("/v1/waf/score", content=raw, headers=headers)
        assert r.status_code == 400, (raw, r.text)
        assert needle in r.json()["error"], (raw, r.json())


def test_batch_over_the_limit_is_refused(tmp_path: Path, scorer: Scorer) -> None:
    for service in make_service(tmp_path, scorer, max_batch=3):
        r = score(service, {"requests": [CLEAN] * 4})
        assert r.status_code == 400 and "limit is 3" in r.json()["error"]


def test_oversized_body_gets_413(tmp_path: Path, scorer: Scorer) -> None:
    for service in make_service(tmp_path, scorer, max_body_bytes=4096):
        big = {"uri": "/", "body": "a" * 5000}
        r = score(service, big)
        assert r.status_code == 413 and "4096" in r.json()["error"]

        # Without Content-Length (chunked), the limit holds while streaming.
        def chunks():  # type: ignore[no-untyped-def]
            yield orjson.dumps(big)

        r = service.client.post(
            "/v1/waf/score", content=chunks(), headers=service.auth(service.ingest)
        )
        assert r.status_code == 413


def test_tokens_are_required_and_checked(service: Service) -> None:
    r = service.client.post("/v1/waf/score", content=orjson.dumps(CLEAN))
    assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Bearer")
    r = service.client.post(
        "/v1/waf/score", content=orjson.dumps(CLEAN), headers={"Authorization": "Bearer bst_nope_x"}
    )
    assert r.status_code == 401
    assert score(service, CLEAN, token=service.analyst).status_code == 403
    assert score(service, CLEAN, token=service.admin).status_code == 200


def test_rate_limit_answers_429_with_retry_after(tmp_path: Path, scorer: Scorer) -> None:
    for service in make_service(tmp_path, scorer, default_rate_limit=2.0, workers=1):
        codes = [score(service, CLEAN).status_code for _ in range(6)]
        assert codes[0] == 200 and codes[-1] == 429
        r = score(service, CLEAN)
        assert int(r.headers["retry-after"]) >= 1


def test_health_readiness_and_metrics(service: Service, scorer: Scorer) -> None:
    assert service.client.get("/healthz").json() == {"status": "ok"}
    ready = service.client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["database"] == "ok"
    score(service, ATTACK)
    score(service, CLEAN)
    assert service.client.get("/metrics").status_code == 401
    text = service.client.get("/metrics", headers=service.auth(service.analyst)).text
    assert (
        f'bastion_waf_scored_requests_total{{model_version="{scorer.version}",score_class="attack"}}'
        in text
    )
    assert 'bastion_http_request_duration_seconds_bucket{le="0.01",route="/v1/waf/score"}' in text
    assert 'bastion_waf_actions_total{action="block"' in text


def test_openapi_schema_and_docs_page(service: Service) -> None:
    schema = service.client.get("/openapi.json").json()
    assert "/v1/waf/score" in schema["paths"] and "/v1/edge/check" in schema["paths"]
    page = service.client.get("/docs")
    assert page.status_code == 200 and "/docs/static/swagger-ui-bundle.js" in page.text
    assert "cdn" not in page.text.lower()
    assert service.client.get("/docs/static/swagger-ui-bundle.js").status_code == 200


def test_edge_check_blocks_attacks_and_passes_clean_requests(service: Service) -> None:
    headers = {
        "X-Bastion-Token": service.ingest,
        "X-Original-Method": "GET",
        "Host": "shop.example",
    }
    r = service.client.get(
        "/v1/edge/check", headers={**headers, "X-Original-URI": "/?id=1%27%20or%20%271%27=%271"}
    )
    assert r.status_code == 403
    assert int(r.headers["x-bastion-score"]) <= 20 and r.headers["x-bastion-class"] == "attack"
    assert r.headers["x-bastion-action"] == "block" and r.headers["x-bastion-rule"]
    r = service.client.get(
        "/v1/edge/check", headers={**headers, "X-Original-URI": "/products/42?ref=home"}
    )
    assert r.status_code == 204 and int(r.headers["x-bastion-score"]) > 80
    # The client's own headers are scored (an attack in the User-Agent).
    r = service.client.get(
        "/v1/edge/check",
        headers={
            **headers,
            "X-Original-URI": "/",
            "User-Agent": "() { :; }; /bin/bash -c 'cat /etc/passwd'",
        },
    )
    assert r.status_code == 403 and int(r.headers["x-bastion-rce"]) <= 20
    r = service.client.get("/v1/edge/check", headers=headers)
    assert r.status_code == 400 and "X-Original-URI" in r.json()["error"]
