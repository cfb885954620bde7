"""The content endpoints over HTTP: scan, block, appeal, review, decision, with roles."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from kit import photo, write_banks

from bastion.auth import TokenStore
from bastion.config import load_settings
from bastion.service.app import create_app
from bastion.store.db import Database
from bastion.waf.scorer import load_scorer


@pytest.fixture
def api(tmp_path: Path) -> Iterator[tuple[TestClient, dict[str, str]]]:
    write_banks(tmp_path / "banks", [photo(1)])
    url = f"sqlite:///{tmp_path / 'c.db'}"
    db = Database(url)
    db.upgrade()
    store = TokenStore(db)
    tokens = {
        "ingest": store.create("edge", ["ingest"]).token,
        "owner": store.create("shop", ["site_owner"], zones=["shop.example"]).token,
        "other_owner": store.create("else", ["site_owner"], zones=["else.example"]).token,
        "ts": store.create("t&s", ["trust_safety"]).token,
        "analyst": store.create("a", ["analyst"]).token,
    }
    db.dispose()
    settings = load_settings(None, database_url=url, banks_dir=tmp_path / "banks")
    with TestClient(create_app(settings, scorer=load_scorer())) as client:
        yield client, {k: f"Bearer {v}" for k, v in tokens.items()}


def _h(tokens: dict[str, str], who: str) -> dict[str, str]:
    return {"Authorization": tokens[who]}


def test_scan_block_appeal_review_decide(api: tuple[TestClient, dict[str, str]]) -> None:
    client, tokens = api
    params = {"url": "https://shop.example/img/a.jpg", "zone": "shop.example"}
    r = client.post(
        "/v1/content/scan", params=params, content=photo(1), headers=_h(tokens, "ingest")
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["matches"] and body["block"]["state"] == "active"
    block_id = body["block"]["id"]
    # Clean content is hashed and not blocked.
    r = client.post(
        "/v1/content/scan",
        params={**params, "url": "https://shop.example/b.jpg"},
        content=photo(2),
        headers=_h(tokens, "ingest"),
    )
    assert r.status_code == 200 and not r.json()["matches"] and r.json()["block"] is None

    # Least privilege: an analyst cannot scan; another zone's owner cannot appeal.
    assert (
        client.post(
            "/v1/content/scan", params=params, content=photo(1), headers=_h(tokens, "analyst")
        ).status_code
        == 403
    )
    appeal = {"statement": "this is our own product photo"}
    r = client.post(
        f"/v1/content/blocks/{block_id}/appeal", json=appeal, headers=_h(tokens, "other_owner")
    )
    assert r.status_code in (403, 404)
    # Review before an appeal is a state error that names the state.
    r = client.post(f"/v1/content/blocks/{block_id}/review", headers=_h(tokens, "ts"))
    assert r.status_code == 409 and "active" in r.text

    r = client.post(
        f"/v1/content/blocks/{block_id}/appeal", json=appeal, headers=_h(tokens, "owner")
    )
    assert r.status_code == 200 and r.json()["state"] == "pending"
    assert (
        client.post(
            f"/v1/content/blocks/{block_id}/review", headers=_h(tokens, "owner")
        ).status_code
        == 403
    )
    r = client.post(f"/v1/content/blocks/{block_id}/review", headers=_h(tokens, "ts"))
    assert r.status_code == 200 and r.json()["state"] == "in_review"
    r = client.post(
        f"/v1/content/blocks/{block_id}/decision",
        json={"decision": "resolved", "reason": "false positive"},
        headers=_h(tokens, "ts"),
    )
    assert r.status_code == 200 and r.json()["state"] == "resolved"

    # The owner sees its block; the other owner sees nothing.
    mine = client.get("/v1/content/blocks", headers=_h(tokens, "owner")).json()["blocks"]
    assert [b["id"] for b in mine] == [block_id]
    assert (
        client.get("/v1/content/blocks", headers=_h(tokens, "other_owner")).json()["blocks"] == []
    )


def test_bad_uploads_get_clear_4xx(api: tuple[TestClient, dict[str, str]]) -> None:
    client, tokens = api
    params = {"url": "https://shop.example/x", "zone": "shop.example"}
    cases = {
        b"": 400,
        b"GIF89a\x01\x00": 422,
        b"just some text, not an image at all": 415,
        photo(3)[:200]: 422,
    }
    for data, status in cases.items():
        r = client.post(
            "/v1/content/scan", params=params, content=data, headers=_h(tokens, "ingest")
        )
        assert r.status_code == status, (data[:20], r.status_code, r.text)
        assert r.json()["error"]


def test_outbox_deliver_command_writes_reports(
    api: tuple[TestClient, dict[str, str]], tmp_path: Path
) -> None:
    import json

    from typer.testing import CliRunner

    from bastion.cli import app

    client, tokens = api
    params = {"url": "https://shop.example/img/a.jpg", "zone": "shop.example"}
    assert client.post(
        "/v1/content/scan", params=params, content=photo(1), headers=_h(tokens, "ingest")
    ).json()["block"]
    env = {
        "BASTION_DATABASE_URL": f"sqlite:///{tmp_path / 'c.db'}",
        "BASTION_CONTENT_REPORTS_DIR": str(tmp_path / "reports"),
    }
    result = CliRunner().invoke(app, ["outbox", "deliver"], env=env)
    assert result.exit_code == 0 and "delivered 1" in result.output, result.output
    lines = [
        json.loads(x) for f in (tmp_path / "reports").iterdir() for x in f.read_text().splitlines()
    ]
    assert len(lines) == 1 and lines[0]["url"] == params["url"], lines
    assert lines[0]["key"].startswith("report:")
    again = CliRunner().invoke(app, ["outbox", "deliver"], env=env)
    assert "delivered 0" in again.output


def _ndjson(items: list[dict[str, object]]) -> bytes:
    import orjson

    return b"\n".join(orjson.dumps(i) for i in items) + b"\n"


def test_batch_scan_streams_one_result_per_line(api: tuple[TestClient, dict[str, str]]) -> None:
    import base64
    import json

    client, tokens = api
    b64 = base64.b64encode
    body = (
        _ndjson(
            [
                {
                    "url": "https://shop.example/a.jpg",
                    "zone": "shop.example",
                    "data": b64(photo(1)).decode(),
                },
                {
                    "url": "https://shop.example/b.jpg",
                    "zone": "shop.example",
                    "data": b64(photo(2)).decode(),
                },
                {"url": "https://shop.example/c.jpg", "zone": "shop.example", "data": "%%%"},
                {
                    "url": "https://shop.example/d.jpg",
                    "zone": "shop.example",
                    "data": b64(b"not an image").decode(),
                },
            ]
        )
        + b"{not json\n"
        + _ndjson([{"url": "x", "zone": "z", "data": "", "extra": 1}])
    )
    r = client.post(
        "/v1/content/scan/batch",
        content=body,
        headers={**_h(tokens, "ingest"), "Content-Type": "application/x-ndjson"},
    )
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/x-ndjson")
    out = [json.loads(line) for line in r.text.splitlines()]
    assert [o["index"] for o in out] == list(range(6))
    assert out[0]["status"] == 200 and out[0]["matches"] and out[0]["block"]["state"] == "active"
    assert out[1]["status"] == 200 and not out[1]["matches"] and out[1]["block"] is None
    assert out[2]["status"] == 400 and "base64" in out[2]["error"]
    assert out[3]["status"] in (415, 422) and out[3]["error"]
    assert out[4]["status"] == 400 and "JSON" in out[4]["error"]
    assert out[5]["status"] == 400 and "extra" in out[5]["error"]
    # The block recorded through the batch is the same one the single scan finds.
    r = client.get("/v1/content/blocks", headers=_h(tokens, "ts"))
    assert [b["url"] for b in r.json()["blocks"]] == ["/a.jpg"]


def test_batch_scan_checks_roles_and_limits(api: tuple[TestClient, dict[str, str]]) -> None:
    client, tokens = api
    line = _ndjson([{"url": "https://shop.example/a.jpg", "zone": "shop.example", "data": "AA=="}])
    assert client.post("/v1/content/scan/batch", content=line).status_code == 401
    r = client.post("/v1/content/scan/batch", content=line, headers=_h(tokens, "analyst"))
    assert r.status_code == 403
    r = client.post("/v1/content/scan/batch", content=b"\n\n", headers=_h(tokens, "ingest"))
    assert r.status_code == 400 and "empty" in r.text
    r = client.post("/v1/content/scan/batch", content=line * 1001, headers=_h(tokens, "ingest"))
    assert r.status_code == 413 and "1000" in r.text
