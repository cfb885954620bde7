"""Partner sharing: STIX 2.1 bundles (validated with the stix2 library), partner feeds in
(OpenPhish text, URLhaus CSV and JSON) and the pull feed with per-partner tokens."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
import stix2
from stix2patterns.validator import run_validator
from test_abuse_api import Api, make_api, secret_report
from typer.testing import CliRunner

from bastion.abuse.reports import ReportType
from bastion.abuse.sharing import (
    FeedFormatError,
    Indicator,
    feed_reports,
    parse_feed,
    pattern_of,
    stix_bundle,
)
from bastion.cli import app
from bastion.store import Database
from bastion.store.abuse_orders import create_partner, revoke_partner
from bastion.waf.scorer import Scorer, load_scorer

T0 = datetime(2026, 11, 10, 12, 0, 0, 123456, tzinfo=UTC)


def validate(bundle: dict[str, Any]) -> Any:
    """Parse with stix2 (spec-strict: no custom properties) and check every pattern."""
    parsed = stix2.parse(orjson.dumps(bundle).decode(), allow_custom=False)
    for obj in bundle["objects"]:
        if obj["type"] == "indicator":
            assert run_validator(obj["pattern"]) == [], obj["pattern"]
    return parsed


def test_stix_bundle_is_valid_stix_2_1() -> None:
    tricky = "https://shop.example/it's\\here?q='1'"
    items = [
        Indicator("url", tricky, T0, ("phishing",), "case:1", 85),
        Indicator("domain", "evil.example", T0, ("malware",), "case:2"),
        Indicator("sha256", "ab" * 32, T0, ("content-match",), "content-block:3", 90, "bank x"),
    ]
    bundle = stix_bundle(items, producer="ACME abuse desk", now=T0 + timedelta(days=1))
    parsed = validate(bundle)
    identity, url, domain, sha = parsed.objects
    assert identity.type == "identity" and identity.name == "ACME abuse desk"
    assert {o.created_by_ref for o in (url, domain, sha)} == {identity.id}
    assert url.id.startswith("indicator--") and url.spec_version == "2.1"
    assert url.pattern == "[url:value = 'https://shop.example/it\\'s\\\\here?q=\\'1\\'']"
    assert domain.pattern == "[domain-name:value = 'evil.example']"
    assert sha.pattern == f"[file:hashes.'SHA-256' = '{'ab' * 32}']"
    assert url.valid_from.year == 2026 and bundle["objects"][1]["valid_from"].endswith(".123Z")
    assert url.external_references[0].external_id == "case:1" and url.confidence == 85
    # The same indicator keeps its id across exports.
    again = stix_bundle(items[:1], producer="ACME abuse desk", now=T0)
    assert again["objects"][1]["id"] == bundle["objects"][1]["id"]
    assert again["id"] != bundle["id"]
    assert pattern_of(items[1]) == "[domain-name:value = 'evil.example']"


OPENPHISH = b"https://Login.Bank.example/x\nnot a url at all\n\nhttp://paypa1.example:80/\n"
URLHAUS_CSV = b"""################################################################
# abuse.ch URLhaus Database Dump (CSV)
#
# id,dateadded,url,url_status,last_online,threat,tags,urlhaus_link,reporter
################################################################
"3001","2026-11-01 10:00:00","http://mal.example/a.exe","online","2026-11-01","malware_download","exe","https://urlhaus.abuse.ch/url/3001/","x"
"3002","2026-11-01 10:01:00","http://mal.example/b","online","2026-11-01","weird_threat","","https://urlhaus.abuse.ch/url/3002/","x"
"""


def test_feeds_in_every_format() -> None:
    text = parse_feed(OPENPHISH)
    assert [i.url for i in text.items] == ["https://login.bank.example/x", "http://paypa1.example/"]
    assert {i.type for i in text.items} == {ReportType.PHISHING}
    assert text.skipped == 1 and text.errors[0][0] == 2
    csv_feed = parse_feed(URLHAUS_CSV)
    assert [(i.url, i.type) for i in csv_feed.items] == [("http://mal.example/a.exe", "malware")]
    assert csv_feed.errors == [(7, "unknown threat 'weird_threat'")]
    plain_csv = parse_feed(b"url,threat\nhttps://a.example/,phishing\n", "csv")
    assert [i.url for i in plain_csv.items] == ["https://a.example/"]
    js = parse_feed(b'[{"url": "https://a.example/1", "threat": "malware"}, "https://a.example/2",'
                    b' 42, {"url": "https://a.example/1", "threat": "malware"}]')  # fmt: skip
    assert [(i.url, i.type) for i in js.items] == [("https://a.example/1", "malware"),
                                                   ("https://a.example/2", "phishing")]  # fmt: skip
    assert js.skipped == 1 and js.errors[0][0] == 2
    wrapped = parse_feed(b'{"query_status": "ok", "urls": [{"url": "https://b.example/"}]}')
    assert [i.url for i in wrapped.items] == ["https://b.example/"]


@pytest.mark.parametrize(
    ("data", "fmt", "needle"),
    [
        (b"{not json", "json", "not JSON"),
        (b'{"a": 1}', "json", "list of URLs"),
        (b"a,b\n1,2\n", "csv", "'url' column"),
        (b"\xff\xfe", "text", "UTF-8"),
        (b"not a url\nftp://x.example/\n", "text", "no entry"),
        (b"x", "xml", "unknown feed format"),
    ],
)
def test_unreadable_feeds_say_why(data: bytes, fmt: str, needle: str) -> None:
    with pytest.raises(FeedFormatError, match=needle):
        parse_feed(data, fmt)


def test_feed_reports_are_idempotent_per_day_and_carry_provenance() -> None:
    items = parse_feed(OPENPHISH).items
    first = feed_reports(items, partner="OpenPhish", trust=70, received_at=T0)
    again = feed_reports(items, partner="OpenPhish", trust=70, received_at=T0 + timedelta(hours=1))
    other = feed_reports(items, partner="Other", trust=70, received_at=T0)
    assert [r.id for r in first] == [r.id for r in again]
    assert not {r.id for r in first} & {r.id for r in other}
    assert first[0].source == "partner:OpenPhish" and "trust 70/100" in first[0].description
    assert first[0].reporter.email == "openphish@partners.invalid"
    assert len({r.reporter_key for r in first}) == 1  # the partner's reputation accrues


# -- the pull feed over HTTP ---------------------------------------------------------------


@pytest.fixture(scope="module")
def scorer() -> Scorer:
    return load_scorer()


@pytest.fixture
def api(tmp_path: Path, database_url: str, scorer: Scorer) -> Iterator[Api]:
    yield from make_api(tmp_path, database_url, scorer)


def test_the_pull_feed_needs_a_partner_token(api: Api) -> None:
    db = Database(api.database_url)
    with db.session(write=True) as s:
        _, token = create_partner(s, "CERT-X", 90, actor="test")
    secret_report(api, consent=False, path="phish")
    secret_report(api, consent=False, path="other")
    cases = {c["url"]: c["id"] for c in api.cases(2)}
    api.client.post(f"/v1/abuse/cases/{cases['https://login.shop.example/phish']}/actions",
                    json={"action": "block"}, headers=api.h("ts"))  # fmt: skip
    r = api.client.get("/v1/abuse/feed", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/stix+json")
    bundle = r.json()
    validate(bundle)
    patterns = [o["pattern"] for o in bundle["objects"] if o["type"] == "indicator"]
    assert patterns == ["[url:value = 'https://login.shop.example/phish']"]  # only confirmed
    assert "rita" not in r.text.lower()  # no reporter details in what is shared
    later = (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    r = api.client.get(f"/v1/abuse/feed?since={later}",
                       headers={"Authorization": f"Bearer {token}"})  # fmt: skip
    assert [o["type"] for o in r.json()["objects"]] == ["identity"]
    for headers in ({}, {"Authorization": f"Bearer {token}x"},
                    {"Authorization": f"Bearer {api.tokens['admin']}"}):  # fmt: skip
        assert api.client.get("/v1/abuse/feed", headers=headers).status_code == 401
    with db.session(write=True) as s:
        assert revoke_partner(s, "CERT-X", actor="test")
    db.dispose()
    r = api.client.get("/v1/abuse/feed", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401


def test_cli_partners_import_consume_and_export(tmp_path: Path) -> None:
    runner = CliRunner()
    env = {"BASTION_DATABASE_URL": f"sqlite:///{tmp_path / 'b.db'}", "BASTION_CONFIG": ""}

    def cli(*args: str, code: int = 0) -> Any:
        result = runner.invoke(app, ["abuse", *args], env=env)
        assert result.exit_code == code, (result.stdout, result.stderr)
        return result

    cli("zone", "set", "bank.example")
    added = json.loads(cli("partners", "add", "OpenPhish", "--trust", "70").stdout)
    assert added["token"].startswith("bsp_")
    feed = tmp_path / "feed.txt"
    feed.write_bytes(OPENPHISH)
    result = cli("import", str(feed), "--partner", "OpenPhish")
    assert json.loads(result.stdout) == {"partner": "OpenPhish", "trust": 70, "published": 2,
                                         "skipped": 1}  # fmt: skip
    assert f"{feed}:2: skipped:" in result.stderr
    cli("import", str(feed), "--partner", "OpenPhish")  # the same day again: nothing new
    stats = json.loads(cli("consume", "--until-idle").stdout)
    assert stats["new_reports"] == 2
    cases = json.loads(cli("cases", "list", "--json").stdout)
    assert {c["url"] for c in cases} == {"https://login.bank.example/x", "http://paypa1.example/"}
    shown = json.loads(cli("cases", "show", str(cases[0]["id"])).stdout)
    assert shown["reports"][0]["source"] == "partner:OpenPhish"
    for c in cases:
        cli("cases", "act", str(c["id"]), "block")
    out = tmp_path / "bundle.json"
    summary = json.loads(cli("export", "--out", str(out)).stdout)
    assert summary["indicators"] == 3  # two URLs and the whole-site domain paypa1.example
    bundle = validate(json.loads(out.read_text()))
    kinds = sorted(o.pattern.split(":")[0] for o in bundle.objects if o.type == "indicator")
    assert kinds == ["[domain-name", "[url", "[url"]
    assert "no active partner" in cli("import", str(feed), "--partner", "Nobody", code=2).stderr
    assert "no active partner" in cli("partners", "revoke", "Nobody", code=2).stderr
    cli("partners", "revoke", "OpenPhish")
